"""Shared state of one CLI invocation: the base folder and lazily loaded settings."""

import click

from octohost.settings import Settings, SettingsError


def fail(message):
    """Print a clear error and exit with status 2 (bad usage or bad input).

    Always one line, so scripts and people see one ``Error:`` line last: a multi-line message (a
    YAML parser's position report) is joined with "; ".
    """
    text = "; ".join(line.strip() for line in str(message).splitlines() if line.strip())
    click.echo(f"Error: {text}", err=True)
    raise SystemExit(2)


class CliContext:
    def __init__(self, basedir=None, config_path=None):
        self.basedir = basedir
        self.config_path = config_path
        self._settings = None
        self._plugin_manager = None

    @property
    def settings(self):
        if self._settings is None:
            try:
                self._settings = Settings(self.basedir, self.config_path)
            except SettingsError as exc:
                fail(str(exc))
        return self._settings

    def plugin_manager(self, safe_mode=False):
        if self._plugin_manager is None:
            from octohost.plugin import PluginManager

            self._plugin_manager = PluginManager(self.settings, safe_mode=safe_mode)
            self._plugin_manager.discover()
        return self._plugin_manager

    def user_manager(self):
        import os

        from octohost.access.users import UserError, UserManager

        try:
            return UserManager(os.path.join(self.settings.basedir, "users.yaml"))
        except UserError as exc:
            fail(str(exc))


pass_cli = click.make_pass_decorator(CliContext)
