"""``octohost config``: read and change settings by dotted key."""

import click
import yaml

from octohost.settings import SettingsError

from .context import fail, pass_cli


@click.group()
def config():
    """Show and change settings (keys are dotted, e.g. serial.baudrate)."""


@config.command("get")
@click.argument("key")
@pass_cli
def get(cli, key):
    """Print the effective value of KEY as YAML."""
    try:
        value = cli.settings.get(key)
    except SettingsError as exc:
        fail(str(exc))
    if isinstance(value, (dict, list)):
        click.echo(yaml.safe_dump(value, default_flow_style=False).rstrip("\n").removesuffix("\n..."))
    else:
        click.echo(_scalar(value))


def _scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@config.command("set")
@click.argument("key")
@click.argument("value")
@pass_cli
def set_(cli, key, value):
    """Set KEY to VALUE (parsed as YAML: 250000, true, [a, b], 'text')."""
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        fail(f"VALUE is not valid YAML: {exc}")
    try:
        cli.settings.set(key, parsed)
    except SettingsError as exc:
        fail(str(exc))
    click.echo(f"{key} = {_scalar(cli.settings.get(key)) if not isinstance(parsed, (dict, list)) else parsed}")


@config.command("unset")
@click.argument("key")
@pass_cli
def unset(cli, key):
    """Remove KEY from config.yaml so its default applies again."""
    try:
        cli.settings.get(key)  # an unknown key is an error, as for get and set
        cli.settings.remove(key)
    except SettingsError as exc:
        fail(str(exc))
    click.echo(f"{key} reset to its default")


@config.command("effective")
@pass_cli
def effective(cli):
    """Print every setting as in effect (defaults merged with config.yaml)."""
    click.echo(yaml.safe_dump(cli.settings.effective(), default_flow_style=False, sort_keys=True), nl=False)


@config.command("path")
@pass_cli
def path(cli):
    """Print the path of the settings file."""
    click.echo(cli.settings.config_path)
