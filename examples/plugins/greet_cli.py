"""A plugin that adds ``octohost plugins greet_cli:greet`` to the command line."""

import click

__plugin_name__ = "Greeting command"


def get_commands(cli_group, pass_octoprint_ctx, *args, **kwargs):
    @click.command("greet")
    @click.option("--greeting", "-g", default="Hello", help="The greeting to use")
    @click.argument("name", default="World")
    def greet(greeting, name):
        """Greet someone by name."""
        click.echo(f"{greeting} {name}!")

    return [greet]


__plugin_hooks__ = {"octoprint.cli.commands": get_commands}
