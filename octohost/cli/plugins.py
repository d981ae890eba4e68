"""``octohost plugins``: list plugins, and run the commands plugins contribute."""

import click

from .context import CliContext, fail


class PluginCommands(click.Group):
    """Built-in subcommands plus ``<plugin>:<command>`` from the ``cli.commands`` hook."""

    def _plugin_commands(self, ctx):
        root = ctx.find_root().obj
        if not isinstance(root, CliContext):
            return {}
        cached = getattr(ctx, "_octohost_plugin_commands", None)
        if cached is not None:
            return cached
        manager = root.plugin_manager()
        self.settings = root.settings
        self.plugin_manager = manager
        commands = {}
        for identifier, result in manager.call("cli.commands", self, pass_context):
            for command in result or []:
                if isinstance(command, click.Command):
                    commands[f"{identifier}:{command.name}"] = command
        ctx._octohost_plugin_commands = commands
        return commands

    def list_commands(self, ctx):
        return sorted(super().list_commands(ctx)) + sorted(self._plugin_commands(ctx))

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)


pass_context = click.make_pass_decorator(CliContext)


@click.group(cls=PluginCommands)
def plugins():
    """List plugins and run commands that plugins add."""


@plugins.command("list")
@click.option("--safe-mode", is_flag=True, help="Show what safe mode would load (bundled plugins only).")
@click.pass_obj
def list_plugins(cli, safe_mode):
    """Plugins found, their version, whether enabled, and the hooks they implement."""
    manager = cli.plugin_manager(safe_mode=safe_mode)
    if not manager.plugins:
        click.echo("No plugins found.")
    for info in sorted(manager.plugins.values(), key=lambda i: i.identifier):
        if not info.enabled:
            status = "disabled"
        elif info.error:
            status = f"failed: {info.error}"
        else:
            status = "enabled"
        click.echo(f"{info.identifier}\t{info.version or '-'}\t{status}\t{info.origin}\t"
                   f"{', '.join(info.implemented_hooks()) or '-'}")


def _check_known(manager, identifier, disabled):
    """Refuse an identifier no plugin has, so a typo is reported instead of stored in config.yaml."""
    if identifier in manager.plugins or identifier in disabled:
        return
    known = ", ".join(sorted(manager.plugins)) or "none"
    fail(f"unknown plugin {identifier!r} (installed: {known}; see `octohost plugins list`)")


@plugins.command("disable")
@click.argument("identifier")
@click.pass_obj
def disable(cli, identifier):
    """Do not load plugin IDENTIFIER from the next start on."""
    manager = cli.plugin_manager()
    _check_known(manager, identifier, manager.disabled_ids())
    manager.set_enabled(identifier, False)
    click.echo(f"Disabled {identifier} (takes effect on the next start)")


@plugins.command("enable")
@click.argument("identifier")
@click.pass_obj
def enable(cli, identifier):
    """Load plugin IDENTIFIER again from the next start on."""
    manager = cli.plugin_manager()
    # An id already in plugins._disabled may be enabled even if its plugin is gone: that cleans the list.
    _check_known(manager, identifier, manager.disabled_ids())
    manager.set_enabled(identifier, True)
    click.echo(f"Enabled {identifier} (takes effect on the next start)")
