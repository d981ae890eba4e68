"""``octohost mqtt check``: test the ``mqtt.*`` settings against the broker from the shell."""

import click

from .context import fail, pass_cli


@click.group("mqtt")
def mqtt():
    """The MQTT bridge."""


@mqtt.command("check")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=300), default=10.0, show_default=True,
              help="Seconds to wait for the broker.")
@pass_cli
def check(cli, timeout):
    """Connect to the configured broker once (TLS, credentials, command topic) and report."""
    from octohost.bridge.mqtt.check import check_broker
    from octohost.bridge.mqtt.config import ConfigError, MqttConfig

    try:
        config = MqttConfig.from_settings(cli.settings)
    except ConfigError as exc:
        fail(str(exc))
    ok, message = check_broker(config, timeout)
    if not ok:
        fail(message)
    enabled = "" if cli.settings.get("mqtt.enabled") else " (mqtt.enabled is false: the daemon will not connect)"
    click.echo(f"OK: {message}{enabled}")
