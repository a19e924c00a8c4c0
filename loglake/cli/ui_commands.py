"""`loglake ui`: serve the web console for the current lake."""

from __future__ import annotations

import ipaddress
import secrets

import click

from loglake.cli.output import command, err, friendly, open_lake, say
from loglake.errors import ConfigError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_for(host: str, token: str | None) -> str | None:
    """No token on loopback unless asked; another host must have one (`auto` makes one)."""
    if token == "auto":
        return secrets.token_urlsafe(24)
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"listening on {host} lets other machines read the lake; a token is required",
            hint="add --token auto (a new one is printed) or --token YOURS, or keep the default --host 127.0.0.1",
        )
    return token


@command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free).")
@click.option("--open", "open_browser", is_flag=True, help="Open the console in the default browser.")
@click.option("--token", default=None, help="Required on every request: a value, or `auto` to generate one.")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1), help="Seconds a query may run.")
@click.option("--max-rows", default=1000, show_default=True, type=click.IntRange(1), help="Rows the SQL page shows.")
@click.pass_context
@friendly
def ui(
    ctx: click.Context, host: str, port: int, open_browser: bool, token: str | None, timeout: float, max_rows: int
) -> None:
    """Serve the web console: explorer (histogram, search, fields), SQL, errors and objects pages.

    Read-only, over the same engine as `loglake query` (it reads no file outside the lake). It listens
    on 127.0.0.1; another address needs --token, checked on every request. Stop with Ctrl-C.

    \b
    Example:
      loglake ui --open
      loglake ui --host 0.0.0.0 --token auto
    """
    import socket
    import webbrowser

    import uvicorn

    from loglake.ui.app import Console, build

    lake = open_lake(ctx, existing=True)
    secret = token_for(host, token)
    hosts = None if is_loopback(host) else ["*"]
    app = build(Console(lake, timeout=timeout, max_rows=max_rows), token=secret, hosts=hosts)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)  # connections wait in the backlog from now on, before the server starts accepting
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", hint="choose another --port") from exc
    bound = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{bound}/" + (f"?token={secret}" if secret else "")
    err.print(say("LogLake console for ", lake.uri, " at ", (url, "bold"), " (Ctrl-C stops)"))
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
