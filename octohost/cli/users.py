"""``octohost user``: manage the accounts that may use the UI and the API."""

import click

from octohost.access.users import UserError

from .context import fail, pass_cli


@click.group()
def user():
    """Add, list and remove users; set passwords; show API keys."""


@user.command("add")
@click.argument("name")
@click.option("--password", required=True, help="The new user's password.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@pass_cli
def add(cli, name, password, admin):
    """Create user NAME."""
    try:
        u = cli.user_manager().add_user(name, password, admin=admin)
    except UserError as exc:
        fail(str(exc))
    click.echo(f"Added user {u.name}{' (admin)' if u.is_admin else ''}")


@user.command("remove")
@click.argument("name")
@pass_cli
def remove(cli, name):
    """Delete user NAME."""
    try:
        cli.user_manager().remove_user(name)
    except UserError as exc:
        fail(str(exc))
    click.echo(f"Removed user {name}")


@user.command("password")
@click.argument("name")
@click.option("--password", required=True, help="The new password.")
@pass_cli
def password(cli, name, password):
    """Set NAME's password."""
    try:
        cli.user_manager().change_password(name, password)
    except UserError as exc:
        fail(str(exc))
    click.echo(f"Password of {name} changed")


@user.command("apikey")
@click.argument("name")
@click.option("--regenerate", is_flag=True, help="Replace the existing key with a new one.")
@pass_cli
def apikey(cli, name, regenerate):
    """Print NAME's API key, creating one if missing."""
    manager = cli.user_manager()
    try:
        key = manager.generate_api_key(name) if regenerate else manager.get_or_create_api_key(name)
    except UserError as exc:
        fail(str(exc))
    click.echo(key)


@user.command("list")
@pass_cli
def list_users(cli):
    """List users with their groups."""
    for u in cli.user_manager().list_users():
        flags = ", ".join(u.groups) + ("" if u.active else ", inactive")
        click.echo(f"{u.name}\t{flags}")
