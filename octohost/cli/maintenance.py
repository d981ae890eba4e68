"""``octohost backup``, ``restore`` and ``systeminfo``: looking after a base folder from the shell."""

import os
import shutil

import click

from .context import fail, pass_cli


def _backups(cli):
    from octohost.maintenance.backup import BackupManager

    return BackupManager(cli.settings, cli.plugin_manager(), lambda: cli.settings.config_version)


@click.command("backup")
@click.option("--exclude", multiple=True, type=click.Choice(["uploads", "plugins", "history", "timelapse"]),
              help="Leave this out of the backup (repeatable).")
@click.option("--path", "target", type=click.Path(file_okay=False, writable=True),
              help="Also copy the archive into this folder.")
@pass_cli
def backup(cli, exclude, target):
    """Write a backup of the base folder (settings, users, profiles, scripts, history, uploads)."""
    from octohost.maintenance.backup import BackupError

    try:
        path = _backups(cli).create(exclude)
    except BackupError as exc:
        fail(str(exc))
    if target:
        os.makedirs(target, exist_ok=True)
        path = shutil.copy2(path, target)
    click.echo(path)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@pass_cli
def restore(cli, archive):
    """Replace the base folder's contents with those of a backup ARCHIVE.

    Stop the daemon first (or restore from the web UI, which restarts it)."""
    from octohost.maintenance.backup import BackupError
    from octohost.maintenance.instance import running_daemon

    pid = running_daemon(cli.settings.basedir)
    if pid is not None:
        fail(f"an octohost daemon{f' (process {pid})' if pid else ''} is running on {cli.settings.basedir}: "
             "stop it first, or restore from the web UI or the API")
    try:
        metadata = _backups(cli).restore(os.path.abspath(archive))
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"restored {cli.settings.basedir} from {archive} (made by octohost {metadata.get('version')} "
               f"on {metadata.get('created')})")


@click.command("systeminfo")
@click.option("--bundle", "bundle", type=click.Path(dir_okay=False, writable=True),
              help="Write the diagnostics bundle (a zip for bug reports) to this file.")
@pass_cli
def systeminfo(cli, bundle):
    """Print versions, platform and hardware; with --bundle, write the diagnostics bundle."""
    from octohost.maintenance import systeminfo as info
    from octohost.util.fs import atomic_write

    plugin_manager = cli.plugin_manager()
    if bundle:
        import io

        buffer = io.BytesIO()
        info.write_bundle(buffer, cli.settings, plugin_manager=plugin_manager,
                          extra={"systeminfo.generator": "cli"})
        atomic_write(bundle, buffer.getvalue(), mode=0o600)
        click.echo(bundle)
        return
    values = info.systeminfo(cli.settings, plugin_manager=plugin_manager, extra={"systeminfo.generator": "cli"})
    for key in sorted(values):
        click.echo(f"{key}: {values[key]}")
