"""Headless Chromium (Debian's ``chromium`` package) driven over the Chrome DevTools protocol.

A few DevTools methods over one websocket, with aiohttp's websocket client (aiohttp comes with
textual-serve, so the browser tests need no package of their own: no selenium, no chromedriver,
no browser download). Used by tests/test_serve.py, whose browser test also takes the README's
screenshot of the served page (``NN_TUI_SCREENSHOT=docs/serve.png``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")
ESCAPE = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")


def chromium_path() -> str | None:
    """The system's Chromium, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def plain(terminal_output: str) -> str:
    """What a terminal stream says, its escape sequences taken out."""
    return ESCAPE.sub("", terminal_output)


class Browser:
    """One headless Chromium with one page (``async with Browser() as page``)."""

    def __init__(self, width: int = 1000, height: int = 600) -> None:
        self.size = (width, height)
        self.process: subprocess.Popen | None = None
        self.profile = tempfile.mkdtemp(prefix="nn-tui-chromium-")
        self._next_id = 0
        self._ws = None
        self._session = None
        self.target_id = ""
        self.received = ""
        """Everything the page received over its websockets (the served app's terminal output)."""

    async def __aenter__(self) -> Browser:
        import aiohttp

        path = chromium_path()
        if path is None:
            raise RuntimeError("no chromium on PATH")
        self.process = subprocess.Popen(
            [path, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit status {self.process.poll()})")
            await asyncio.sleep(0.02)
        port = int(port_file.read_text().split()[0])
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t["type"] == "page")
        self.target_id = page["id"]
        self._ws = await self._session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        await self.call("Network.enable")
        await self.call("Page.enable")
        await self.call("Emulation.setDeviceMetricsOverride", width=self.size[0], height=self.size[1],
                        deviceScaleFactor=1, mobile=False)  # the page's own size, whatever the window's
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            if self._ws is not None:
                await self._ws.close()
            if self._session is not None:
                await self._session.close()
        finally:
            if self.process is not None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    # the protocol

    async def call(self, method: str, **params):
        """Call a DevTools method and return its result (events that come meanwhile are taken in)."""
        self._next_id += 1
        ident = self._next_id
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self._receive(60)
            if message is None:
                raise RuntimeError(f"{method}: the page's DevTools connection closed")
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def _receive(self, timeout: float) -> dict | None:
        import aiohttp

        msg = await self._ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return None
        message = json.loads(msg.data)
        if message.get("method") == "Network.webSocketFrameReceived":
            frame = message["params"]["response"]
            data = frame["payloadData"]
            self.received += base64.b64decode(data).decode("utf-8", "replace") if frame["opcode"] == 2 else data
        return message

    async def wait_for(self, condition, timeout: float = 20.0, what: str = "the page") -> None:
        """Take in the page's events until ``condition()`` holds; ``TimeoutError`` naming ``what``."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{what}: not seen within {timeout:g} s")
            try:
                await self._receive(min(left, 0.2))
            except asyncio.TimeoutError:
                pass

    # what a user does

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def press(self, key: str) -> None:
        """Type one key into the focused element (``" "`` for space, or one printable character)."""
        code = "Space" if key == " " else f"Key{key.upper()}"
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, text=key,
                        windowsVirtualKeyCode=ord(key.upper()))
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code,
                        windowsVirtualKeyCode=ord(key.upper()))

    async def screenshot(self) -> bytes:
        result = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(result["data"])

    async def close_tab(self) -> None:
        """Close the page, as a user closes the browser tab."""
        await self.call("Target.closeTarget", targetId=self.target_id)
