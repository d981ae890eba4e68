"""``octohost systemd-unit``: print a systemd unit that runs octohost as a service."""

import getpass
import shutil
import sys

import click

from .context import pass_cli

UNIT = """\
[Unit]
Description=octohost 3D printer host
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={user}
Group={user}
SupplementaryGroups=dialout
Environment=PYTHONUNBUFFERED=1
# No docstrings or asserts in memory: about 2 MiB less resident memory.
Environment=PYTHONOPTIMIZE=2
ExecStart={exe} --basedir {basedir} serve --port {port}
Restart=on-failure
RestartSec=5
# Give a running print's recovery data time to be written on stop.
TimeoutStopSec=20
Nice=-2

[Install]
WantedBy=multi-user.target
"""


def render_unit(user, exe, basedir, port):
    return UNIT.format(user=user, exe=exe, basedir=basedir, port=port)


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
