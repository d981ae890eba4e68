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


def _set_enabled(cli, identifier, enabled):
    """Store whether plugin IDENTIFIER loads from the next start on.

    An identifier no plugin has is refused, so a typo is reported instead of stored in config.yaml; one
    already in ``plugins._disabled`` is accepted even if its plugin is gone (enabling it cleans the list).
    """
    manager = cli.plugin_manager()
    if identifier not in manager.plugins and identifier not in manager.disabled_ids():
        known = ", ".join(sorted(manager.plugins)) or "none"
        fail(f"unknown plugin {identifier!r} (installed: {known}; see `octohost plugins list`)")
    manager.set_enabled(identifier, enabled)
    click.echo(f"{'Enabled' if enabled else 'Disabled'} {identifier} (takes effect on the next start)")


@plugins.command("disable")
@click.argument("identifier")
@click.pass_obj
def disable(cli, identifier):
    """Do not load plugin IDENTIFIER from the next start on."""
    _set_enabled(cli, identifier, False)


@plugins.command("enable")
@click.argument("identifier")
@click.pass_obj
def enable(cli, identifier):
    """Load plugin IDENTIFIER again from the next start on."""
    _set_enabled(cli, identifier, True)
