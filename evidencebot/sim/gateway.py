"""A simulated TWS / IB Gateway on 127.0.0.1 that speaks the real TWS socket protocol well
enough for real `ib_async` to connect, sync and be refused.

Wire: the client sends ``API\\0`` + a length-prefixed ``v157..178``; the server answers
``<serverVersion>\\0<connTime>\\0``; every later message is a 4-byte big-endian length and
NUL-terminated ASCII fields. After startApi (71) the server sends nextValidId (9) and
managedAccounts (15), then answers the startup requests ib_async makes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn, TextIO

HOST = "127.0.0.1"
SERVER_VERSION = 176  # inside ib_async 2.1.0's v157..178; >= 166 carries the reject JSON
FARM_OK = ((2104, "Market data farm connection is OK:usfarm"),
           (2106, "HMDS data farm connection is OK:ushmds"),
           (2158, "Sec-def data farm connection is OK:secdefnj"))
READ_ONLY_TEXT = ("Error validating request.-'bO' : cause - The API interface is currently in "
                  "Read-Only mode.")
IN_USE_TEXT = "Unable to connect as the client id is already in use. Retry with a unique client id."
NOT_SUBSCRIBED_TEXT = "Requested market data is not subscribed."


@dataclass
class GatewayOptions:
    accounts: list[str] = field(default_factory=lambda: ["DU1234567"])
    hold_client_ids: set[int] = field(default_factory=set)
    read_only: bool = False
    refuse: bool = False
    die_after: float | None = None
    die_after_first_client: bool = False  # count die_after from the first API client
    farm_messages: bool = True
    market_data_error: int | None = None
    unsubscribed: set[str] = field(default_factory=set)


def frame(*fields: object) -> bytes:
    payload = b"".join(str(f).encode("ascii", "replace") + b"\0" for f in fields)
    return struct.pack(">I", len(payload)) + payload


class SimGateway:
    """One listening socket; each connection is one API client."""

    def __init__(self, options: GatewayOptions) -> None:
        self.options = options
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._active_ids: set[int] = set()
        self.stopped = asyncio.Event()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._client, HOST, port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.options.die_after is not None and not self.options.die_after_first_client:
            asyncio.get_running_loop().call_later(self.options.die_after, self.stop)
        return self.port

    def stop(self) -> None:
        """Close the listening socket and every connection (a gateway that dies)."""
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.close()
        self.stopped.set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.options.refuse:
            writer.close()
            return
        self._writers.add(writer)
        client_id: int | None = None
        try:
            if await reader.readexactly(4) != b"API\0":
                return
            await self._read(reader)  # "v157..178": any range that admits ours will do
            writer.write(frame(SERVER_VERSION, time.strftime("%Y%m%d %H:%M:%S UTC")))
            while True:
                fields = await self._read(reader)
                client_id = await self._handle(fields, writer, client_id)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, _Closing):
            pass
        finally:
            if client_id is not None:
                self._active_ids.discard(client_id)
            self._writers.discard(writer)
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> list[str]:
        (size,) = struct.unpack(">I", await reader.readexactly(4))
        body = await reader.readexactly(size)
        return body.decode("ascii", "replace").split("\0")[:-1]

    def _error(self, writer: asyncio.StreamWriter, req_id: int, code: int, text: str) -> None:
        writer.write(frame(4, 2, req_id, code, text, ""))

    async def _handle(self, fields: list[str], writer: asyncio.StreamWriter,
                      client_id: int | None) -> int | None:
        head = fields[0] if fields else ""
        msg = int(head) if head.isascii() and head.isdigit() else -1  # (not "²": int refuses it)
        opts = self.options
        if msg == 71:  # startApi
            cid = int(fields[2])
            if cid in opts.hold_client_ids or cid in self._active_ids:
                self._error(writer, -1, 326, IN_USE_TEXT)
                await writer.drain()
                raise _Closing
            if opts.die_after is not None and opts.die_after_first_client and \
                    not self._active_ids:
                asyncio.get_running_loop().call_later(opts.die_after, self.stop)
                opts.die_after_first_client = False  # once
            self._active_ids.add(cid)
            writer.write(frame(9, 1, 1))
            writer.write(frame(15, 1, ",".join(opts.accounts)))
            if opts.farm_messages:
                for code, text in FARM_OK:
                    self._error(writer, -1, code, text)
            return cid
        if msg in (5, 15, 16):  # open orders (and the auto/all variants)
            if opts.read_only:
                self._error(writer, -1, 321, READ_ONLY_TEXT)
            writer.write(frame(53, 1))
        elif msg == 61:
            writer.write(frame(62, 1))
        elif msg == 99:
            writer.write(frame(102))
        elif msg == 6:
            writer.write(frame(54, 1, fields[3] if len(fields) > 3 else ""))
        elif msg == 76:
            writer.write(frame(74, 1, fields[2]))
        elif msg == 7:
            writer.write(frame(55, 1, fields[2]))
        elif msg == 49:
            writer.write(frame(49, 1, int(time.time())))
        elif msg == 1:  # reqMktData: version, reqId, then the contract (conId, symbol, ...)
            req_id, symbol = int(fields[2]), fields[4] if len(fields) > 4 else ""
            failure = opts.market_data_error or (354 if symbol in opts.unsubscribed else None)
            if failure is not None:
                self._error(writer, req_id, failure, f"{NOT_SUBSCRIBED_TEXT} {symbol}".strip())
            else:
                writer.write(frame(1, 6, req_id, 4, 100.0, 1, 0))  # tickPrice: last 100.0
        return client_id


class _Closing(Exception):
    """Raised to close one client connection (after a 326)."""


@contextmanager
def running_gateway(port: int = 0, **options: object) -> Iterator[int]:
    """Run a gateway on a background thread; yields its port once it is listening."""
    opts = GatewayOptions(**options)  # type: ignore[arg-type]
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    box: dict[str, object] = {}

    async def main() -> None:
        gw = SimGateway(opts)
        box["gw"] = gw
        try:
            box["port"] = await gw.start(port)
        except OSError as e:
            box["error"] = e
            ready.set()
            return
        ready.set()
        await gw.stopped.wait()
        await asyncio.sleep(0)  # let the closing connections finish

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    try:
        yield box["port"]  # type: ignore[misc]
    finally:
        gw = box["gw"]
        loop.call_soon_threadsafe(gw.stop)  # type: ignore[attr-defined]
        thread.join(timeout=5)
        loop.close()


def serve(*, port: int, options: GatewayOptions, out: TextIO = sys.stdout,
          as_json: bool = False) -> int:
    """Run in the foreground until SIGTERM/SIGINT (or --die-after); print one ready line."""

    async def main() -> None:
        gw = SimGateway(options)
        actual = await gw.start(port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, gw.stop)
            except (NotImplementedError, AttributeError, ValueError):  # Windows
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(gw.stop))
        out.write(json.dumps({"schema": "evidencebot.sim-gateway/1", "host": HOST,
                              "port": actual}) + "\n" if as_json
                  else f"listening on {HOST}:{actual}\n")
        out.flush()
        await gw.stopped.wait()

    asyncio.run(main())
    return 0


class _Usage(Exception):
    """A mistake on the command line: said as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # (not argparse's usage block)
        raise _Usage(message)


def _account(text: str) -> str:
    """An IBKR account id as the redaction reads one (DU… paper, U… live): any other
    would reach the logs unredacted."""
    from ..redact import ACCOUNT

    if ACCOUNT.fullmatch(text) is None:
        raise ValueError(text)  # (argparse words it "invalid _account value")
    return text


def _port(text: str) -> int:
    value = int(text)  # (argparse words a ValueError as "invalid _port value")
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


def parser() -> argparse.ArgumentParser:
    """The one declaration of the simulated gateway's options (`evidencebot sim-gateway`
    passes its arguments through to it)."""
    p = _Parser(
        prog="evidencebot sim-gateway",
        description="A simulated TWS / IB Gateway on 127.0.0.1 speaking the real socket "
                    "protocol (real ib_async connects to it). Prints `listening on "
                    "127.0.0.1:PORT` when ready; stops on SIGTERM / Ctrl-C.")
    p.add_argument("--port", type=_port, default=0,
                   help="port on 127.0.0.1 (0, the default: pick a free one and print it)")
    p.add_argument("--account", action="append", dest="accounts", type=_account,
                   metavar="DU…",
                   help="managed account (repeatable; a U… account simulates live)")
    p.add_argument("--hold-client-id", action="append", type=int, default=[], metavar="N",
                   help="client ids already in use: they get error 326 (repeatable)")
    p.add_argument("--read-only", action="store_true",
                   help="answer order requests with error 321")
    p.add_argument("--refuse", action="store_true",
                   help="accept connections, then close them at once")
    p.add_argument("--die-after", type=float, metavar="SECONDS",
                   help="stop (and drop every client) after this long")
    p.add_argument("--market-data-error", type=int, metavar="CODE",
                   help="answer every market-data request with this error (e.g. 354)")
    p.add_argument("--unsubscribed", action="append", default=[], metavar="SYMBOL",
                   help="symbols whose market data is not subscribed (error 354)")
    p.add_argument("--json", action="store_true",
                   help="print the ready line as one JSON object {schema, host, port}")
    return p


def options_from(accounts: Sequence[str] | None, hold: Iterable[int], *, read_only: bool,
                 refuse: bool, die_after: float | None, market_data_error: int | None,
                 unsubscribed: Iterable[str]) -> GatewayOptions:
    return GatewayOptions(accounts=list(accounts or ["DU1234567"]), hold_client_ids=set(hold),
                          read_only=read_only, refuse=refuse, die_after=die_after,
                          market_data_error=market_data_error, unsubscribed=set(unsubscribed))


def main(argv: Sequence[str] | None = None) -> int:
    """The simulated gateway's command line: a mistake, or a port it cannot listen on, is
    one line on stderr and exit 2."""
    as_json = "--json" in (sys.argv[1:] if argv is None else argv)  # (errors too)
    try:
        a = parser().parse_args(argv)
    except _Usage as e:
        text = str(e).replace("invalid _port value", "not a port (0-65535)").replace(
            "invalid _account value", "not an IBKR account id (DU and digits for paper, U "
            "and digits for live)")
        return _fail(text, "see `evidencebot sim-gateway --help`", as_json)
    try:
        return serve(port=a.port, options=options_from(
            a.accounts, a.hold_client_id, read_only=a.read_only, refuse=a.refuse,
            die_after=a.die_after, market_data_error=a.market_data_error,
            unsubscribed=a.unsubscribed), as_json=a.json)
    except OSError as e:  # (the port is taken, or not ours to take)
        return _fail(f"cannot listen on {HOST}:{a.port}: {e.strerror or e}",
                     "give another --port, or 0 for a free one", as_json)


def _fail(text: str, fix: str, as_json: bool) -> int:
    """The one line every evidencebot error is (and with --json, the error object)."""
    sys.stderr.write(f"evidencebot: error: sim-gateway: {text}\nFix: {fix}\n")
    if as_json:
        print(json.dumps({"schema": "evidencebot.sim-gateway/1", "error": {
            "message": f"sim-gateway: {text}", "fix": fix, "exit_code": 2}}))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
