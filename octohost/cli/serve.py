"""``octohost serve``: run the daemon (web UI, REST API, push socket, printer connection)."""

import os
import sys

import click

from .context import fail, pass_cli


@click.command()
@click.option("--host", help="Address to listen on (default: server.host).")
@click.option("--port", type=click.IntRange(0, 65535), help="TCP port (default: server.port).")
@click.option("--debug", is_flag=True, help="Verbose logging.")
@click.option("--safe-mode", is_flag=True, help="Load only bundled plugins.")
@click.option("--virtual", "connect_virtual", is_flag=True, help="Connect to the built-in virtual printer at start.")
@pass_cli
def serve(cli, host, port, debug, safe_mode, connect_virtual):
    """Start the server and serve until interrupted (Ctrl+C or SIGTERM)."""
    from octohost.logs import setup_logging
    from octohost.maintenance.instance import AlreadyRunning, InstanceLock
    from octohost.server.app import RESTART, run

    settings = cli.settings
    # Say which files this daemon uses: a service and a shell user often have different base folders.
    # On stderr, with the log: stdout's first line stays the URL, which scripts read.
    click.echo(f"octohost base folder: {settings.basedir}", err=True)
    click.echo(f"settings file: {settings.config_path}", err=True)
    try:
        lock = InstanceLock(settings.basedir).acquire()
    except AlreadyRunning as exc:
        fail(f"{exc}; stop it first or use another --basedir")
    setup_logging(settings, debug=debug)
    try:
        code = run(settings, host, port, debug=debug, safe_mode=safe_mode, connect_virtual=connect_virtual)
    except OSError as exc:
        fail(f"cannot listen on {host or settings.get('server.host')}:{port or settings.get('server.port')}: "
             f"{exc.strerror or exc}")
    finally:
        lock.release()
    if code == RESTART:
        # A restore from the web UI replaced the base folder's files: start afresh on them, as
        # the same process (a service manager sees no exit), with the same command line.
        click.echo("octohost: restarting on the restored base folder", err=True)
        os.execv(sys.executable, [sys.executable, "-m", "octohost", *sys.argv[1:]])
    raise SystemExit(code)
