"""The ``octohost`` command line.

Subcommands live in their own modules and are imported only when used, so ``octohost --help``
stays fast and a broken optional module cannot take the whole CLI down.
"""

import importlib
import sys

import click

from octohost import __version__

from .context import CliContext, fail

COMMANDS = {
    "serve": ("octohost.cli.serve", "serve"),
    "user": ("octohost.cli.users", "user"),
    "config": ("octohost.cli.config", "config"),
    "plugins": ("octohost.cli.plugins", "plugins"),
    "profiles": ("octohost.cli.profiles", "profiles"),
    "virtual": ("octohost.cli.virtual", "virtual"),
    "print": ("octohost.cli.print_file", "print_file"),
    "systemd-unit": ("octohost.cli.service", "systemd_unit"),
    "install-service": ("octohost.cli.service", "install_service"),
    "backup": ("octohost.cli.maintenance", "backup"),
    "restore": ("octohost.cli.maintenance", "restore"),
    "systeminfo": ("octohost.cli.maintenance", "systeminfo"),
    "mqtt": ("octohost.cli.mqtt", "mqtt"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(name for name, (module, _) in COMMANDS.items() if importlib.util.find_spec(module))

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attr = COMMANDS[name]
        if importlib.util.find_spec(module_name) is None:
            return None
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--basedir", type=click.Path(file_okay=False), envvar="OCTOHOST_BASEDIR",
              help="Base folder for settings, uploads, logs and plugins (default ~/.octohost).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Settings file to use instead of BASEDIR/config.yaml.")
@click.version_option(__version__, prog_name="octohost")
@click.pass_context
def cli(ctx, basedir, config_path):
    """octohost: the host daemon for your 3D printer."""
    ctx.obj = CliContext(basedir, config_path)


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="octohost", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:
        # The system refused (a base folder that cannot be created, no permission, a full disk):
        # the user's to fix, so one line naming the file rather than a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")


__all__ = ["cli", "main", "fail", "CliContext"]
