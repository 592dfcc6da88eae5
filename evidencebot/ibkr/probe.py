"""The gateway probe (real `ib_async`).

Measured with ib-async 2.1.0 (DESIGN.md "IBKR"): a duplicate client id makes TWS send 326
and close the socket, but `connectAsync` only ends at its timeout, so the probe listens for
326 itself and moves to the next id at once; 321 "Read-Only" is a warning ib_async never
fails a request on, so the probe listens for it with its own timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..redact import redact
from .codes import COULD_NOT_CONNECT, DEGRADED, FIX_502, IN_USE, READ_ONLY


@dataclass
class ProbeResult:
    ok: bool
    reason: str
    fix: str = ""
    client_id: int | None = None
    client_ids_tried: list[int] = field(default_factory=list)
    held_ids: list[int] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)  # redacted
    paper: bool | None = None
    read_only: bool | None = None
    degraded: list[int] = field(default_factory=list)
    error_code: int | None = None
    elapsed: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def probe_gateway(*, host: str, port: int, client_ids: Sequence[int], connect_timeout: float,
                  paper_profile: bool = True, readonly_wait: float = 2.0) -> ProbeResult:
    """TCP connect, API handshake, accounts, paper vs live, Read-Only — without any order.

    On a thread of its own, which the main thread waits for: a Ctrl-C is the main thread's
    KeyboardInterrupt at once. asyncio.run's own handler only cancels the probe's task, and
    ib_async's connect swallows the cancel: the interrupt was lost, and the run went on (or
    hung in the loop's cleanup, holding the run's lock)."""
    start = time.monotonic()
    done: list[ProbeResult | BaseException] = []

    def probe() -> None:
        try:
            done.append(asyncio.run(_probe(host, port, list(client_ids), connect_timeout,
                                           paper_profile, readonly_wait)))
        except BaseException as e:  # (handed to the main thread)
            done.append(e)

    worker = threading.Thread(target=probe, name="evidencebot-gateway-probe", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.25)  # (a join with a timeout: Windows interrupts no plain one)
    if isinstance(done[0], BaseException):
        raise done[0]
    done[0].elapsed = time.monotonic() - start
    return done[0]


# long: the connect race (connect, 326, a dropped socket) is one state machine
async def _probe(host: str, port: int, client_ids: list[int], timeout: float, paper: bool,
                 readonly_wait: float) -> ProbeResult:
    try:
        _r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        w.close()
    except (TimeoutError, OSError) as e:
        return ProbeResult(False, f"cannot reach {host}:{port} ({type(e).__name__}); "
                           f"error {COULD_NOT_CONNECT}", FIX_502, error_code=COULD_NOT_CONNECT)
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    from ib_async import IB
    from ib_async.ib import StartupFetch

    result = ProbeResult(False, "")
    for cid in client_ids:
        result.client_ids_tried.append(cid)
        ib = IB()
        errors: list[tuple[int, str]] = []
        in_use, read_only = asyncio.Event(), asyncio.Event()

        def on_error(_req: int, code: int, text: str, _c: object,
                     sink: list[tuple[int, str]] = errors, flag: asyncio.Event = in_use,
                     ro: asyncio.Event = read_only) -> None:
            sink.append((code, text))
            if code == IN_USE:
                flag.set()
            elif code == READ_ONLY and "read-only" in text.lower():
                ro.set()

        closed = asyncio.Event()
        ib.errorEvent += on_error
        # The socket closing (without a 326) ends the wait too, not the connect timeout.
        ib.client.conn.disconnected += lambda _msg, flag=closed: flag.set()
        connect = asyncio.ensure_future(ib.connectAsync(
            host, port, cid, timeout=timeout, fetchFields=StartupFetch.ORDERS_OPEN))
        refused = asyncio.ensure_future(in_use.wait())
        dropped = asyncio.ensure_future(closed.wait())
        done, _ = await asyncio.wait({connect, refused, dropped}, timeout=timeout * 2,
                                     return_when=asyncio.FIRST_COMPLETED)
        dropped.cancel()
        if refused in done or in_use.is_set():
            connect.cancel()
            await asyncio.gather(connect, return_exceptions=True)
            ib.disconnect()
            result.held_ids.append(cid)
            continue  # 326: the next id, at once
        refused.cancel()
        if connect not in done or connect.exception() is not None:
            why = ("the gateway closed the connection" if closed.is_set()
                   else "no API handshake before the timeout")
            connect.cancel()
            await asyncio.gather(connect, return_exceptions=True)
            ib.disconnect()
            return _fail(result, f"{why} (error {COULD_NOT_CONNECT}) — is this an IB Gateway "
                         "/ TWS API port with socket clients enabled?", FIX_502,
                         COULD_NOT_CONNECT)
        try:
            return await _inspect(ib, result, cid, errors, read_only, paper, readonly_wait,
                                  redact)
        finally:
            ib.disconnect()
    return _fail(result, f"every client id tried is in use (error {IN_USE}): "
                 f"{', '.join(map(str, result.held_ids))}",
                 "set IBKR_CLIENT_ID to a free id or widen [ibkr] client_id_range", IN_USE)


async def _inspect(ib: Any, result: ProbeResult, cid: int, errors: list[tuple[int, str]],
                   read_only: asyncio.Event, paper: bool, readonly_wait: float,
                   redact: Any) -> ProbeResult:
    result.client_id = cid
    accounts = list(ib.managedAccounts())
    result.accounts = [redact(a) for a in accounts]
    result.paper = any(a.startswith("DU") for a in accounts)
    if not read_only.is_set():
        # Open orders were asked for at connect; ask again and give a 321 time to arrive.
        ib.client.reqOpenOrders()
        try:
            await asyncio.wait_for(read_only.wait(), readonly_wait)
        except TimeoutError:
            pass
    result.read_only = read_only.is_set()
    result.degraded = sorted({c for c, _ in errors if c in DEGRADED})
    shown = ", ".join(result.accounts) or "none"
    if paper and not result.paper:
        return _fail(result, f"the paper profile is connected to a live account ({shown})",
                     "connect to the paper gateway (port 4002 / 7497) and a DU… account")
    if result.read_only:
        return _fail(result, "Read-Only API is on (error 321)",
                     "TWS/Gateway: Configure → API → Settings → untick 'Read-Only API'")
    result.ok = True
    held = f"; {', '.join(map(str, result.held_ids))} in use (326)" if result.held_ids else ""
    result.reason = f"accounts {shown}, client id {cid}{held}, read-only off"
    if result.degraded:
        result.reason += f"; degraded: {', '.join(map(str, result.degraded))}"
    return result


def _fail(result: ProbeResult, reason: str, fix: str, code: int | None = None) -> ProbeResult:
    result.ok = False
    result.reason = reason
    result.fix = fix
    result.error_code = code
    return result
