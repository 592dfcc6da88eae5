"""A webhook receiver on 127.0.0.1 for the tests and the demo: real HTTP on a free port,
every request recorded, and three behaviours — answer 200, answer 500, or take the request
and never answer (a server that hangs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..frozen import frozen

HOST = "127.0.0.1"
MODES = ("ok", "fail", "hang")
READ_TIMEOUT = 5.0  # a client that connects and sends nothing cannot hold shutdown longer


@frozen
class Request:
    """One request as the receiver saw it; ``json`` is None when the body is not JSON."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


class Receiver:
    """The running receiver: its port, what it has received, and a way to wait for it."""

    def __init__(self, port: int, mode: str) -> None:
        self.port = port
        self.mode = mode
        self._received: list[Request] = []
        self._changed = threading.Condition()
        self.released = threading.Event()  # set on exit: hanging handlers return unanswered

    @property
    def received(self) -> list[Request]:
        """A snapshot of every request so far, in arrival order."""
        with self._changed:
            return list(self._received)

    def url(self, path: str = "/hook") -> str:
        """The apprise URL that posts JSON to this receiver at ``path``."""
        return f"json://{HOST}:{self.port}{path}"

    def wait_for(self, n: int, timeout: float) -> bool:
        """Block until at least ``n`` requests have arrived; False if ``timeout`` ran out."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._received) >= n, timeout)

    def _record(self, request: Request) -> None:
        with self._changed:
            self._received.append(request)
            self._changed.notify_all()


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = READ_TIMEOUT

        def _take(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            receiver._record(Request(self.command, self.path, dict(self.headers.items()), body))
            if receiver.mode == "hang":
                receiver.released.wait()
                self.close_connection = True
                return
            status = 500 if receiver.mode == "fail" else 200
            payload = b'{"error": "simulated failure"}' if status == 500 else b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _take

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request line carries the URL's tokens: never print it

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads: nothing outlives exit
    block_on_close = True


@contextmanager
def receiver(*, mode: str = "ok") -> Iterator[Receiver]:
    """Serve on 127.0.0.1 at a free port until the block ends, then release any hanging
    request, stop serving, close the socket and join every thread it started."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    rec = Receiver(0, mode)
    server = _Server((HOST, 0), _handler_for(rec))
    rec.port = server.server_port
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                               name="webhook-receiver", daemon=True)
    serving.start()
    try:
        yield rec
    finally:
        rec.released.set()
        server.shutdown()
        server.server_close()
        serving.join()
