"""``octohost profiles``: list, show, add, remove and select printer profiles."""

import click
import yaml

from octohost.printer.profiles import PrinterProfileError, PrinterProfileManager

from .context import fail, pass_cli


def _manager(cli):
    return PrinterProfileManager(cli.settings)


@click.group()
def profiles():
    """Manage printer profiles (BASEDIR/printerProfiles/*.profile)."""


@profiles.command("list")
@pass_cli
def list_profiles(cli):
    """List profiles; the default is marked with *."""
    manager = _manager(cli)
    default = manager.get_default_id()
    for identifier, profile in manager.get_all().items():
        marker = "*" if identifier == default else " "
        click.echo(f"{marker} {identifier}\t{profile['name']}\t{profile['model']}")


@profiles.command("show")
@click.argument("identifier")
@pass_cli
def show(cli, identifier):
    """Print profile IDENTIFIER as YAML."""
    profile = _manager(cli).get(identifier)
    if profile is None:
        fail(f"no printer profile with id {identifier!r}")
    profile["extruder"]["offsets"] = [list(pair) for pair in profile["extruder"]["offsets"]]
    click.echo(yaml.safe_dump(profile, default_flow_style=False, sort_keys=True).rstrip())


@profiles.command("add")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace a profile with the same id.")
@click.option("--default", "make_default", is_flag=True, help="Make it the default profile.")
@pass_cli
def add(cli, path, overwrite, make_default):
    """Add the profile in YAML file PATH (missing fields take the defaults)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except yaml.YAMLError as exc:
        fail(f"{path} is not valid YAML: {exc}")
    try:
        saved = _manager(cli).save(data, allow_overwrite=overwrite, make_default=make_default)
    except PrinterProfileError as exc:
        fail(f"{path}: {exc}")
    click.echo(f"Added printer profile {saved['id']}{' (default)' if make_default else ''}")


@profiles.command("remove")
@click.argument("identifier")
@pass_cli
def remove(cli, identifier):
    """Remove profile IDENTIFIER (not the default one)."""
    try:
        removed = _manager(cli).remove(identifier)
    except PrinterProfileError as exc:
        fail(str(exc))
    if not removed:
        fail(f"no printer profile with id {identifier!r}")
    click.echo(f"Removed printer profile {identifier}")


@profiles.command("select")
@click.argument("identifier")
@pass_cli
def select(cli, identifier):
    """Make IDENTIFIER the default profile used when connecting."""
    try:
        _manager(cli).set_default(identifier)
    except PrinterProfileError as exc:
        fail(str(exc))
    click.echo(f"Default printer profile is now {identifier}")
