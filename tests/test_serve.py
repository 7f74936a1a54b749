"""``nn-tui serve``: the app in a web browser through textual-serve, tested in a real browser
(headless Chromium from Debian's ``chromium`` package, driven over the DevTools protocol)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_path, plain
from tests.test_cli import error_line, invoke, no_crash
from tui_trainer.cli import serve as serve_cli
from tui_trainer.experiments import runs as store

try:
    import textual_serve  # noqa: F401
    HAVE_SERVE = True
except ImportError:
    HAVE_SERVE = False

needs_serve = pytest.mark.skipif(not HAVE_SERVE, reason="textual-serve is not installed: pip install -e '.[test]'")
needs_chromium = pytest.mark.skipif(
    chromium_path() is None,
    reason="no chromium on PATH: the browser test needs Debian's chromium package (apt-get install chromium; "
           ".ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(*args: str) -> tuple[subprocess.Popen, int]:
    """``nn-tui serve`` on a free loopback port, once it accepts connections."""
    return listening(*spawn_serve(*args))


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_server_left():
    """A server a failed test left running is ended (its apps with it) before the next test."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # its apps told to quit, then it ends
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def spawn_serve(*args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tui_trainer", "serve", "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(process)
    return process, port


def listening(process: subprocess.Popen, port: int) -> tuple[subprocess.Popen, int]:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            assert time.monotonic() < deadline, "nn-tui serve did not listen within 30 s"
            time.sleep(0.05)


def interrupt(process: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C: exit status 130, no traceback; what it printed."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (process.returncode, out, err)
    assert "Traceback" not in out + err, err
    return out, err


# -- the command -----------------------------------------------------------------------------------


def test_every_app_option_passes_through_to_the_app(tmp_path):
    names = {p.name for p in serve_cli.APP_OPTIONS}
    from tui_trainer.cli.group import main

    assert names == {p.name for p in main.params} - {"version", "help"}  # every one, and nothing else
    config = tmp_path / "c.toml"
    args = serve_cli.app_arguments({"config_path": config, "preset": None, "colors": "256", "no_record": True,
                                    "memory_budget": "2G", "runs_dir": tmp_path / "r", "dataset": None})
    assert args == ["--config", str(config.resolve()), "--colors", "256", "--memory-budget", "2G",
                    "--runs-dir", str((tmp_path / "r").resolve()), "--no-record"]
    command = serve_cli.app_command({"preset": "relu-xor", "colors": "auto"})
    assert command.endswith("-m tui_trainer --preset relu-xor")


@needs_serve
def test_it_binds_loopback_and_says_how_to_tunnel(monkeypatch):
    served = []
    monkeypatch.setattr(serve_cli, "run_server", lambda server: served.append(server))
    port = free_port()
    result = invoke("serve", "--port", port, "--preset", "relu-xor")
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert served[0].host == "127.0.0.1" and served[0].port == port
    assert f"ssh -L {port}:127.0.0.1:{port} HOST" in result.output
    assert "warning" not in result.output
    assert served[0].command.endswith("-m tui_trainer --preset relu-xor")
    # the group's own options pass through too: nn-tui --no-record serve
    result = invoke("--no-record", "--colors", "256", "serve", "--port", port)
    assert served[1].command.endswith("-m tui_trainer --colors 256 --no-record"), served[1].command
    result = invoke("--colors", "256", "serve", "--colors", "16", "--port", port)  # serve's own wins
    assert served[2].command.endswith("-m tui_trainer --colors 16"), served[2].command
    result = invoke("--memory-budget", "3G", "serve", "--port", port)
    assert served[3].command.endswith("-m tui_trainer --memory-budget 3G"), served[3].command


@needs_serve
def test_another_interface_needs_host_and_warns(monkeypatch):
    monkeypatch.setattr(serve_cli, "run_server", lambda server: 0)
    result = invoke("serve", "--host", "0.0.0.0", "--port", free_port())
    no_crash(result)
    assert result.exit_code == 0
    warning = [line for line in result.output.splitlines() if line.startswith("warning")]
    assert len(warning) == 1 and "anyone who can reach port" in warning[0] and "drives the app" in warning[0]
    assert serve_cli.is_loopback("127.0.0.1") and serve_cli.is_loopback("::1") and serve_cli.is_loopback("localhost")
    assert not serve_cli.is_loopback("0.0.0.0")


def test_bad_options_fail_at_once_in_one_line(monkeypatch):
    error_line(invoke("serve", "--preset", "no-such-preset"), "--preset")
    if HAVE_SERVE:
        line = error_line(invoke("serve", "--host", "bad\x1b[2Jhost.invalid"), "--host bad\\x1b[2Jhost.invalid")
        assert "\x1b" not in line
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        if HAVE_SERVE:
            error_line(invoke("serve", "--port", port), f"cannot listen on 127.0.0.1:{port}")


def test_without_the_extra_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # as if not installed
    line = error_line(invoke("serve", "--port", free_port()))
    assert line == "Error: " + serve_cli.INSTALL_HINT


@needs_serve
def test_ctrl_c_stops_it_cleanly():
    both = [spawn_serve(), spawn_serve()]  # started together: the test waits for one start-up, not two
    (process, port), (other, _) = [listening(*one) for one in both]
    # the page connects back to the address it was loaded from: through `ssh -L 9000:127.0.0.1:PORT`
    # the browser loads it as 127.0.0.1:9000, and a page naming PORT would reach nothing
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": "127.0.0.1:9000"})
    page = urllib.request.urlopen(request, timeout=30).read().decode()
    assert "ws://127.0.0.1:9000/ws" in page and f":{port}" not in page
    # another site's page may not drive the app: neither with its Origin, nor re-pointing its name here
    for path, headers in [("/ws", {"Origin": "http://evil.example"}), ("/", {"Host": "evil.example:80"}),
                          ("/ws", {"Host": "evil.example", "Origin": "http://evil.example"})]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers),
                                   timeout=30)
        assert refused.value.code == 403, (path, headers)
    out, err = interrupt(process)
    assert f"http://127.0.0.1:{port}" in out and err == "stopped\n"
    process = other
    process.terminate()
    out, err = process.communicate(timeout=30)
    assert process.returncode == 143 and "Traceback" not in err


# -- in a real browser -----------------------------------------------------------------------------


def the_run(root: Path) -> store.Run | None:
    found = store.list_runs(root)
    return found[0] if found else None


def app_processes(marker: str) -> set[int]:
    """The pids of the apps ``nn-tui serve`` started whose command line holds ``marker``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"tui_trainer" in argv and marker.encode() in argv and b"serve" not in argv:
                found.add(int(entry.name))
    return found


@needs_serve
@needs_chromium
def test_the_app_trains_in_a_browser_and_closing_the_tab_ends_it(tmp_path):
    runs_root = tmp_path / "runs"
    process, port = start_serve("--runs-dir", str(runs_root), "--dataset", "xor")
    url = f"http://127.0.0.1:{port}/"
    shot = os.environ.get("NN_TUI_SCREENSHOT")

    async def drive() -> None:
        async with Browser(*(1280, 720) if shot else (1000, 600)) as page:
            await page.open(url)
            await page.call("Target.createTarget", url=url)  # a second tab, with an app of its own
            await page.wait_for(lambda: re.search(r"state +ready", plain(page.received)),
                                what="'state ready' on the page")
            assert await page.evaluate("document.body.classList.contains('-first-byte')")
            assert the_run(runs_root) is None  # nothing trains before the key
            await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            await page.press(" ")
            await page.wait_for(lambda: (run := the_run(runs_root)) is not None
                                and len(store.read_metrics(run.path).epochs) >= 3,
                                what="three epochs recorded by the app in the page")
            page.received = ""
            await page.wait_for(lambda: re.search(r"state +training", plain(page.received)),
                                what="'state training' on the page")
            run = the_run(runs_root)
            assert run.status == "running" and run.meta["source"] == "app"
            assert run.settings["dataset"] == "xor"  # the option reached the app
            if shot:  # the README's picture: a little more training first
                await page.wait_for(lambda: len(store.read_metrics(run.path).epochs) >= 80, timeout=60,
                                    what="80 epochs")
                Path(shot).write_bytes(await page.screenshot())
            apps = app_processes(str(runs_root))
            assert run.meta["pid"] in apps and len(apps) == 2, apps
            await page.close_tab()
            # the tab closed (the browser still open): its app quits, and its training with it
            deadline = time.monotonic() + 20
            while store.read_run(run.path).status == "running" or store._alive(run.meta["pid"]):
                assert time.monotonic() < deadline, "the app went on after its tab closed"
                await asyncio.sleep(0.02)
            assert len(app_processes(str(runs_root))) == 1  # the other tab's app goes on
            # Ctrl-C with a tab open: the server and that tab's app end (a deadline, not a measurement:
            # without telling its apps to quit, the server had waited ~20 s for the open page)
            began = time.monotonic()
            interrupt(process)
            assert time.monotonic() - began < 10 and not app_processes(str(runs_root))

    try:
        asyncio.run(drive())
    finally:
        if process.poll() is None:
            interrupt(process)
    run = store.read_run(the_run(runs_root).path)
    assert run.status == "interrupted" and run.meta["ended"] is not None
