"""``octohost systemd-unit`` and ``install-service``: octohost as a systemd service."""

import getpass
import shutil
import sys

import click

from octohost.maintenance.service import render_unit

from .context import fail, pass_cli


@click.command("systemd-unit")
@click.option("--user", "user", default=None, help="Account to run as (default: the current user).")
@click.option("--port", default=None, type=int, help="Port to serve on (default: server.port).")
@pass_cli
def systemd_unit(cli, user, port):
    """Print a systemd unit for running octohost as a service.

    Install it with: octohost systemd-unit | sudo tee /etc/systemd/system/octohost.service
    then: sudo systemctl daemon-reload && sudo systemctl enable --now octohost
    """
    exe = shutil.which("octohost") or f"{sys.executable} -m octohost"
    click.echo(render_unit(user or getpass.getuser(), exe, cli.settings.basedir,
                           port or cli.settings.get("server.port")), nl=False)


@click.command("install-service")
@click.option("--user", "user", default="octohost", show_default=True, help="System account the service runs as.")
@click.option("--home", default="/var/lib/octohost", show_default=True,
              help="Its home: the virtual environment and the base folder (.octohost) live there.")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False),
              help="The octohost wheel to install (default: built from the folder octohost was installed from).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--unit-dir", default="/etc/systemd/system", show_default=True, help="Where the unit file goes.")
@click.option("--no-start", is_flag=True, help="Install and write the unit, but leave systemd alone.")
@click.option("--dry-run", is_flag=True, help="Print the steps and change nothing.")
def install_service(user, home, wheel, port, unit_dir, no_start, dry_run):
    """Install octohost as a systemd service (run with sudo; safe to run again to upgrade).

    Creates the system account and its virtual environment from a wheel, adds it to the dialout
    group, writes and enables the unit, and (re)starts the service."""
    import os
    import tempfile

    from octohost.maintenance import service

    if not dry_run and os.geteuid() != 0:
        fail("install-service changes the system: run it with sudo (or see --dry-run)")
    scratch = None
    if wheel is None:
        source = service.source_folder()
        if source is None:
            fail("octohost was not installed from a source folder: build a wheel (pip wheel --no-deps . -w dist) "
                 "and pass it with --wheel")
        if dry_run:
            wheel = f"<wheel built from {source}>"
        else:
            scratch = tempfile.mkdtemp(prefix="octohost-wheel-")
            os.chmod(scratch, 0o755)  # the service account installs from here
            try:
                wheel = service.build_wheel(source, scratch)
            except service.ServiceError as exc:
                fail(str(exc))
    elif not wheel.endswith(".whl"):
        fail(f"{wheel} is not a wheel (.whl): build one with pip wheel --no-deps . -w dist")
    else:
        wheel = os.path.abspath(wheel)
    steps = service.plan(user, home, wheel, os.path.join(home, ".octohost"), port, unit_dir, start=not no_start)
    if dry_run:
        for step in steps:
            click.echo(f"- {step.show()}")
        return
    try:
        service.execute(steps, click.echo)
    except service.ServiceError as exc:
        fail(str(exc))
    finally:
        if scratch:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
    click.echo(f"octohost runs as {user} on port {port}; its log: journalctl -u octohost -f")
