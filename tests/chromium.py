"""Load a page in real headless Chromium over the DevTools protocol, stdlib only.

A test helper: `load(path)` starts Chromium with a throwaway profile (and HOME), opens the
file, waits for its load event and returns what a reviewer's browser would have done with
it — console errors, network requests, a screenshot, the DOM, marks per chart. Chromium is
always killed, its whole process group, before `load` returns or raises.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
_IN_CLOSE_WRITE, _IN_MOVED_TO = 0x8, 0x80
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_COUNT_MARKS = """JSON.stringify(Object.fromEntries(
  [...document.querySelectorAll('svg.chart')].map(
    (svg, i) => [svg.dataset.chart || String(i), svg.querySelectorAll('g.mark').length])))"""


class ChromiumError(Exception):
    """Chromium did not start, answer or load the page in time."""


@dataclass
class PageResult:
    """What loading the page did and showed."""

    console_errors: list[str]
    requests: list[str]  # every URL requested other than the page itself
    screenshot_png: bytes
    dom: str
    counts: dict[str, int] = field(default_factory=dict)  # chart -> number of g.mark


def find_chromium() -> str:
    """The Chromium binary; skips the test when there is none, fails it in CI."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed, and CI must run the browser tests")
    pytest.skip("chromium is not installed")


class WebSocket:
    """The client half of RFC 6455, as much as CDP needs: masked text frames out; text,
    continuation, ping and close frames in (server frames are never masked)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline, self.buf = sock, deadline, bytearray()

    @classmethod
    def connect(cls, url: str, deadline: float) -> WebSocket:
        """Open ``ws://host:port/path`` and complete the opening handshake (checked)."""
        parts = urlsplit(url)
        left = max(0.01, deadline - time.monotonic())
        ws = cls(socket.create_connection((parts.hostname, parts.port), timeout=left), deadline)
        key = base64.b64encode(os.urandom(16)).decode()
        ws.sock.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                         ).encode())
        while b"\r\n\r\n" not in ws.buf:
            ws._fill()
        head, _, rest = bytes(ws.buf).partition(b"\r\n\r\n")
        ws.buf = bytearray(rest)
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        if not head.startswith(b"HTTP/1.1 101") or accept.encode() not in head:
            ws.close()
            raise ChromiumError(f"websocket handshake refused: {head.decode(errors='replace')}")
        return ws

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ChromiumError("timed out talking to Chromium")
        return left

    def _fill(self) -> None:
        self.sock.settimeout(self._left())
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ChromiumError("Chromium closed the websocket")
        self.buf += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send(self, opcode: int, payload: bytes) -> None:
        """One final frame, masked as a client must."""
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self) -> str:
        """The next whole text message, its continuation frames joined; answers pings."""
        message = bytearray()
        while True:
            b0, b1 = self._take(2)
            if b1 & 0x80:
                raise ChromiumError("server frames must not be masked")
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._take(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._take(8))
            opcode, payload = b0 & 0x0F, self._take(n)
            if opcode == 0x8:
                raise ChromiumError("Chromium closed the websocket")
            if opcode == 0x9:
                self.send(0xA, payload)
            elif opcode in (0x0, 0x1):
                message += payload
                if b0 & 0x80:
                    return message.decode("utf-8")

    def close(self) -> None:
        self.sock.close()


class DevTools:
    """CDP commands over one page target's websocket; events are kept in arrival order."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws, self.next_id = ws, 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events read meanwhile are kept."""
        self.next_id += 1
        self.ws.send(0x1, json.dumps({"id": self.next_id, "method": method,
                                      "params": params}).encode())
        while True:
            msg: dict[str, Any] = json.loads(self.ws.receive())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise ChromiumError(f"{method}: {msg['error']}")
                return dict(msg["result"])
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str, *, since: int = 0) -> dict[str, Any]:
        """The first ``event`` received from ``self.events[since]`` on (already, or next);
        the websocket's deadline bounds the wait."""
        seen = next((e for e in self.events[since:] if e["method"] == event), None)
        while seen is None:
            msg = json.loads(self.ws.receive())
            if "method" in msg:
                self.events.append(msg)
                seen = msg if msg["method"] == event else None
        return dict(seen["params"])


def _launch(binary: str, home: Path) -> subprocess.Popen[bytes]:
    """Chromium in its own process group, profile and HOME under ``home``, stderr to a log."""
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    with open(home / "stderr.log", "wb") as log:
        return subprocess.Popen([binary, *FLAGS, f"--user-data-dir={home / 'profile'}",
                                 "--remote-debugging-port=0", "about:blank"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=log, env=env, start_new_session=True)


def _port_in(port_file: Path) -> int | None:
    """The port on the first line of DevToolsActivePort, once that line is whole."""
    try:
        first, newline, _ = port_file.read_text().partition("\n")
    except FileNotFoundError:
        return None
    return int(first) if newline and first.isdigit() else None


def _wait_for_port(proc: subprocess.Popen[bytes], home: Path, deadline: float) -> int:
    """The DevTools port Chromium writes to <profile>/DevToolsActivePort.

    Waits on events, not a clock: inotify for the file being written, a pidfd for
    Chromium exiting first (Linux). Elsewhere it re-checks the file every 20 ms."""
    profile, linux = home / "profile", sys.platform == "linux"
    profile.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        sel = stack.enter_context(selectors.DefaultSelector())
        if linux:
            watch = _inotify(profile)
            stack.callback(os.close, watch)
            pidfd = os.pidfd_open(proc.pid)
            stack.callback(os.close, pidfd)
            sel.register(watch, selectors.EVENT_READ, "written")
            sel.register(pidfd, selectors.EVENT_READ, "exited")
        while (port := _port_in(profile / "DevToolsActivePort")) is None:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                log = (home / "stderr.log").read_text(errors="replace")[-2000:]
                raise ChromiumError(f"Chromium did not start its DevTools server:\n{log}")
            if linux:
                for key, _ in sel.select(left):
                    if key.data == "written":
                        os.read(watch, 65536)
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=min(left, 0.02))
        return port


def _inotify(directory: Path) -> int:
    """An inotify descriptor that becomes readable when a file in ``directory`` is closed
    after writing or moved into it."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = int(libc.inotify_init1(os.O_CLOEXEC))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1 failed")
    if libc.inotify_add_watch(fd, os.fsencode(directory), _IN_CLOSE_WRITE | _IN_MOVED_TO) < 0:
        os.close(fd)
        raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory} failed")
    return fd


def _page_ws_url(port: int, deadline: float) -> str:
    """The page target's websocket URL, from /json/list (or a new tab from /json/new)."""
    left = max(0.1, deadline - time.monotonic())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=left)
    try:
        conn.request("GET", "/json/list")
        targets = json.loads(conn.getresponse().read())
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            conn.request("PUT", "/json/new?about:blank")
            pages = [json.loads(conn.getresponse().read())]
        return str(pages[0]["webSocketDebuggerUrl"])
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill Chromium's process group (browser, zygote, renderers) and reap the browser."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    """Console errors and assertions, uncaught exceptions, and browser log errors."""
    out: list[str] = []
    for e in events:
        p = e["params"]
        if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif e["method"] == "Runtime.exceptionThrown":
            details = p["exceptionDetails"]
            thrown = details.get("exception", {}).get("description", "")
            out.append(f"{details.get('text', 'exception')} {thrown}".strip())
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append(p["entry"]["text"])
    return out


def load(path: Path, *, timeout: float = 60.0) -> PageResult:
    """Open ``path`` in a fresh headless Chromium and report what happened.

    Raises ChromiumError when Chromium does not start or the load event does not come
    within ``timeout`` seconds; Chromium is killed in every case."""
    binary, url = find_chromium(), path.resolve().as_uri()
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="evidencebot-chromium-",
                                     ignore_cleanup_errors=True) as tmp:
        proc = _launch(binary, Path(tmp))
        try:
            port = _wait_for_port(proc, Path(tmp), deadline)
            ws = WebSocket.connect(_page_ws_url(port, deadline), deadline)
            try:
                return _inspect(DevTools(ws), url)
            finally:
                ws.close()
        except OSError as e:  # sockets and HTTP past the deadline, or refused
            raise ChromiumError(f"talking to Chromium failed: {e!r}") from e
        finally:
            _stop(proc)


def _inspect(cdp: DevTools, url: str) -> PageResult:
    """Navigate to ``url``, wait for its load event, then read the page and the events."""
    for domain in ("Network", "Runtime", "Log", "Page"):
        cdp.call(f"{domain}.enable")
    # Events are ordered: a load event of the first about:blank would come before this answer.
    navigated = cdp.call("Page.navigate", url=url)
    if "errorText" in navigated:
        raise ChromiumError(f"{url}: {navigated['errorText']}")
    cdp.wait_for("Page.loadEventFired", since=len(cdp.events))
    counts = json.loads(cdp.call("Runtime.evaluate", expression=_COUNT_MARKS,
                                 returnByValue=True)["result"]["value"])
    dom = cdp.call("Runtime.evaluate", expression="document.documentElement.outerHTML",
                   returnByValue=True)["result"]["value"]
    png = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    requests = [e["params"]["request"]["url"] for e in cdp.events
                if e["method"] == "Network.requestWillBeSent"]
    return PageResult(console_errors=_errors(cdp.events),
                      requests=[r for r in requests if r != url], screenshot_png=png,
                      dom=dom, counts=counts)
