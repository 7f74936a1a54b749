"""``nn-tui serve``: the whole app in a web browser, through ``textual-serve`` (``nn-tui[serve]``).

Each browser tab that opens the page gets an app process of its own (``python -m tui_trainer`` with
the options given here); closing the tab quits that app, and with it its training. The server
binds the loopback interface unless ``--host`` says otherwise: from another machine, reach it
through an SSH tunnel.
"""

from __future__ import annotations

import copy
import ipaddress
import shlex
import socket
import sys
from pathlib import Path

import click

from ..engine.text import visible
from .common import OneLineUsageErrors, UserError, friendly_errors
from .group import _app_config, main

INSTALL_HINT = ("nn-tui serve needs textual-serve: pip install textual-serve, or in nn-tui's checkout "
                "pip install '.[serve]' (the serve extra)")

# The options of ``nn-tui`` itself, taken by ``serve`` too and handed on to every app it starts.
APP_OPTIONS = [copy.copy(p) for p in main.params if p.name not in ("version", "help")]
for _option in APP_OPTIONS:
    _option.expose_value = True  # --memory-budget is checked here and passed on like the others
APP_OPTION_NAMES = [p.name for p in APP_OPTIONS]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def app_arguments(values: dict) -> list[str]:
    """The ``nn-tui`` command-line options that give an app these option ``values``."""
    args: list[str] = []
    for param in APP_OPTIONS:
        value = values.get(param.name)
        if value is None or value is False or value == param.default:
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            args.append(flag)
        else:
            args += [flag, str(Path(value).resolve()) if isinstance(value, Path) else str(value)]
    return args


def app_command(values: dict) -> str:
    """The shell command that starts one app for one browser tab."""
    return shlex.join([sys.executable, "-m", "tui_trainer", *app_arguments(values)])


def tunnel_line(port: int) -> str:
    return f"ssh -L {port}:127.0.0.1:{port} HOST"


@main.command("serve", cls=OneLineUsageErrors, params=[copy.copy(p) for p in APP_OPTIONS])
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The interface to listen on; anyone who can reach it drives the app.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="The port to listen on.")
@click.pass_context
@friendly_errors
def serve(ctx: click.Context, host: str, port: int, **options) -> None:
    """Serve the app to a web browser (needs textual-serve: the serve extra).

    Takes every option `nn-tui` takes (--config, --preset, --runs-dir, ...) and opens each
    browser tab on that experiment; closing the tab ends that app and its training. Binds
    127.0.0.1: from another machine, tunnel with `ssh -L 8000:127.0.0.1:8000 HOST` and open
    http://127.0.0.1:8000.
    """
    parent = ctx.parent.params if ctx.parent is not None else {}
    given = {name for name in APP_OPTION_NAMES  # here, else before `serve`: nn-tui --preset NAME serve
             if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)}
    values = {name: options.get(name) if name in given else parent.get(name, options.get(name))
              for name in APP_OPTION_NAMES}
    if "memory_budget" not in given:  # nn-tui --memory-budget 4G serve: the group keeps it, as the budget
        from ..experiments.budget import memory_budget

        source = memory_budget().source
        if source.startswith("--memory-budget "):
            values["memory_budget"] = source.removeprefix("--memory-budget ")
    _app_config(values.get("config_path"), values.get("dataset"), values.get("data_path"), values.get("target"),
                values.get("preset"))  # a bad option fails here, in one line, not in every browser tab
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    _check_port(host, port)
    server = _server_class(Server)(app_command(values), host=host, port=port, title="nn-tui")
    shown = visible(f"[{host}]" if ":" in host else host)  # from the command line: data, never terminal control
    click.echo(f"nn-tui: serving the app on http://{shown}:{port} (Ctrl-C stops it)")
    if is_loopback(host):
        click.echo(f"from another machine: {tunnel_line(port)}, then open http://127.0.0.1:{port}")
    else:
        click.echo(f"warning: listening on {shown}: anyone who can reach port {port} drives the app "
                   f"(and its files); {tunnel_line(port)} to the default --host 127.0.0.1 is safer", err=True)
    status = run_server(server)
    if status:
        click.echo("stopped", err=True)
        sys.exit(status)


def _check_port(host: str, port: int) -> None:
    """One line, before the server starts, when the address cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UserError(f"--host {visible(host)}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(f"cannot listen on {visible(host)}:{port}: {exc.strerror or exc}") from None


def _server_class(base):
    """textual-serve's server, quiet (no banner, no request log; its apps' errors still show), that
    quits every app when it stops (a page left open had kept it waiting ~20 s)."""
    import asyncio
    import logging

    class AppServer(base):
        def initialize_logging(self) -> None:
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

        async def on_startup(self, app) -> None:
            self.apps: set = set()

        async def handle_index(self, request):
            """The page, its links to the address the browser used: through a tunnel to another
            port, or to --host 0.0.0.0, the page must connect back where it came from."""
            refuse_foreign(request, self.host)
            self.public_url = f"{request.scheme}://{request.host}"  # read before the next await
            return await super().handle_index(request)

        async def handle_websocket(self, request):
            refuse_foreign(request, self.host)
            return await super().handle_websocket(request)

        async def _process_messages(self, websocket, app_service) -> None:
            # textual-serve's loop over one page's messages, while its app runs: the app is known here
            self.apps.add(app_service)
            try:
                await super()._process_messages(websocket, app_service)
            finally:
                self.apps.discard(app_service)

        async def on_shutdown(self, app) -> None:
            """Every app told to quit, as when its tab closes, and waited for (10 s at most)."""
            if self.apps:
                await asyncio.wait([asyncio.ensure_future(service.stop()) for service in list(self.apps)],
                                   timeout=10)

    return AppServer


def refuse_foreign(request, bound: str) -> None:
    """403 for a request another web site's page makes: the app drives files as you, so only its
    own page may connect. A browser lets any page open a websocket to 127.0.0.1 (it sends that
    page's ``Origin``), and a site whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its
    own name as ``Host``: so the ``Origin`` must be the address asked for, and on loopback that
    address must be a loopback one."""
    from urllib.parse import urlsplit

    from aiohttp import web

    host = request.host or ""
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != host:
        raise web.HTTPForbidden(text="nn-tui serve: a page from another address may not drive the app\n")
    if is_loopback(bound):
        name = urlsplit(f"//{host}").hostname or ""
        if not (name == "localhost" or _is_ip_loopback(name)):
            raise web.HTTPForbidden(text="nn-tui serve: open it as http://127.0.0.1:PORT (or localhost)\n")


def _is_ip_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def run_server(server) -> int:
    """Serve until a signal: 130 after Ctrl-C (SIGINT), 143 after SIGTERM, as shells expect.

    textual-serve's own ``serve`` stops on both signals alike; this is it, with the signal kept.
    Stopping closes every page's connection, which quits its app (and so its training).
    """
    import asyncio
    import signal

    from aiohttp import web
    from aiohttp.web_runner import GracefulExit

    stopped_by: list[int] = []

    def stop(status: int) -> None:
        stopped_by.append(status)
        raise GracefulExit()

    server.initialize_logging()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.add_signal_handler(signal.SIGINT, stop, 130)
    loop.add_signal_handler(signal.SIGTERM, stop, 143)
    web.run_app(server._make_app(), host=server.host, port=server.port, handle_signals=False, loop=loop,
                print=lambda *args: None)
    return stopped_by[0] if stopped_by else 0
