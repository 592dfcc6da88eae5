"""The simulated Step 1A burn-in wrapper for the demo and the tests.

It behaves like the operator's wrapper (exit 0: report written, qualifying or not; exit 2:
could not connect, error 502; exit 3: client id in use, error 326; exit 1: anything else,
a traceback on stderr), connects to the (simulated) gateway with real `ib_async`, and
simulates the paper session instead of waiting for it.

    python -m evidencebot.sim.burnin --report PATH --port N --scenario qualifying
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCENARIOS = ("qualifying", "no-fills", "low-data", "market-data", "code-bug",
             "connect-refused", "long")
SCENARIO_ENV = "EVIDENCEBOT_SIM_SCENARIO"  # the demo picks each run's scenario with it
SYMBOLS = ["VOD.L", "BARC.L", "LLOY.L", "BP.L", "HSBA.L", "AZN.L", "SHEL.L"]


def say(text: str) -> None:
    print(text, flush=True)


# long: the simulated wrapper's session, step by step as the real one runs it
async def session(host: str, port: int, client_id: int, scenario: str) -> tuple[int, str]:
    """Connect, and (market-data scenario) ask for a quote the account cannot see.

    Returns (exit code, account)."""
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    from ib_async import IB, Stock
    from ib_async.ib import StartupFetch

    ib = IB()
    errors: list[tuple[int, str]] = []
    in_use = asyncio.Event()
    market = asyncio.Event()

    def on_error(req_id: int, code: int, text: str, _contract: object) -> None:
        errors.append((code, text))
        say(f"Error {code}, reqId {req_id}: {text}")
        if code == 326:
            in_use.set()
        elif code in (354, 10167, 10089, 10090, 162):
            market.set()

    ib.errorEvent += on_error
    connect = asyncio.ensure_future(ib.connectAsync(host, port, client_id, timeout=5,
                                                    fetchFields=StartupFetch.POSITIONS))
    held = asyncio.ensure_future(in_use.wait())
    done, _ = await asyncio.wait({connect, held}, return_when=asyncio.FIRST_COMPLETED,
                                 timeout=10)
    if held in done:
        connect.cancel()
        await asyncio.gather(connect, return_exceptions=True)
        ib.disconnect()
        say(f"client id {client_id} is in use (error 326)")
        return 3, ""
    held.cancel()
    try:
        await connect
    except OSError as e:
        say(f"Error 502: Couldn't connect to TWS ({e})")
        return 2, ""
    account = ib.managedAccounts()[0] if ib.managedAccounts() else ""
    say(f"connected to account {account} with client id {client_id}")
    try:
        if scenario == "long":  # stay connected; a gateway that dies ends the session
            gone = asyncio.Event()
            ib.disconnectedEvent += gone.set
            try:
                await asyncio.wait_for(gone.wait(), 30)
            except TimeoutError:
                return 0, account
            say("lost the connection to the gateway mid-run; stopping")
            return 1, account
        if scenario == "market-data":
            # conId set: ib_async keys tickers by it (a real wrapper would qualify first)
            ib.reqMktData(Stock("HSBA", "LSE", "GBP", conId=1001), "", False, False)
            try:
                await asyncio.wait_for(market.wait(), 5)
            except TimeoutError:
                pass
            if market.is_set():
                code = next(c for c, _ in reversed(errors) if c in (354, 10167, 10089, 10090, 162))
                say(f"no report written: market data unavailable (error {code})")
                return 1, account
        return 0, account
    finally:
        ib.disconnect()


def simulated_now() -> datetime:
    """The demo's (and the tests') pinned clock, which evidencebot passes down; else now.
    The simulated session ends now and started its paper duration ago."""
    pinned = os.environ.get("EVIDENCEBOT_NOW")
    if pinned:
        return datetime.fromisoformat(pinned.replace("Z", "+00:00")).astimezone(UTC)
    return datetime.now(UTC)


def previous_start(path: Path) -> datetime | None:
    """When the last report at ``path`` says its run started (None without one)."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
        return datetime.fromisoformat(doc["started_at_utc"].replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def make_report(*, scenario: str, args: argparse.Namespace, client_id: int,
                account: str, now: datetime) -> dict[str, Any]:
    duration = args.paper_duration_seconds
    finished = now.replace(microsecond=0)
    started = finished - timedelta(seconds=duration + 2)
    prev = previous_start(args.report)
    if prev is not None and started <= prev:
        # Simulated runs take a second, not half an hour: keep run ids (start times) unique.
        started = prev + timedelta(seconds=1)
    filled = 0 if scenario == "no-fills" else 2 + args.seed % 3
    availability = {s: 1.0 for s in SYMBOLS}
    if scenario == "low-data":
        for s in SYMBOLS[:3]:
            availability[s] = 0.0
    else:
        availability["HSBA.L"] = 0.0  # one symbol without a subscription, as in real life
    ratio = round(sum(availability.values()) / len(availability), 3)
    bars = {s: 240 - (i * 3 + args.seed) % 5 for i, s in enumerate(SYMBOLS)}
    reasons = []
    if filled < args.min_filled_orders:
        reasons.append(f"filled orders {filled} < {args.min_filled_orders}")
    if ratio < args.min_symbol_data_availability_ratio:
        reasons.append(f"data ratio {ratio} < {args.min_symbol_data_availability_ratio}")
    return {
        "schema_version": 1,
        "run_id": args.run_id or started.strftime("%Y%m%dT%H%M%SZ"),
        "profile": "uk_paper",
        "started_at_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at_utc": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs_requested": args.runs,
        "runs_completed": args.runs,
        "paper_duration_seconds": duration,
        "ibkr": {"host": args.host, "port": args.port, "client_id": client_id,
                 "account": account},
        "symbols": SYMBOLS,
        "symbol_data_availability": availability,
        "symbol_data_availability_ratio": ratio,
        "preflight_bars_per_symbol": bars,
        "orders": {"submitted": filled + 1, "filled": filled, "cancelled": 1, "rejected": 0},
        "ibkr_messages": [{"code": 2104, "message": "Market data farm connection is OK:usfarm"},
                          {"code": 354, "message": "Requested market data is not subscribed. "
                                                   "HSBA.L"}],
        "thresholds": {"min_filled_orders": args.min_filled_orders,
                       "min_symbol_data_availability_ratio":
                           args.min_symbol_data_availability_ratio,
                       "preflight_min_bars_per_symbol": args.preflight_min_bars_per_symbol},
        "passed": not reasons,
        "failure_reasons": reasons,
    }


def write_atomically(path: Path, doc: dict[str, Any], *, bom: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = json.dumps(doc, indent=2).encode("utf-8") + b"\n"
    tmp.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    os.replace(tmp, path)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evidencebot.sim.burnin", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--report", required=True, type=Path)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--paper-duration-seconds", type=int, default=1800)
    p.add_argument("--min-filled-orders", type=int, default=1)
    p.add_argument("--min-symbol-data-availability-ratio", type=float, default=0.8)
    p.add_argument("--preflight-min-bars-per-symbol", type=int, default=100)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4002)
    p.add_argument("--scenario", choices=SCENARIOS,
                   default=os.environ.get(SCENARIO_ENV, "qualifying"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-id")
    p.add_argument("--bom", action="store_true", help="write a UTF-8 BOM, as PowerShell does")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    client_id = int(os.environ.get("IBKR_CLIENT_ID", "0") or 0)
    say(f"Step 1A burn-in (simulated): scenario {args.scenario}, {args.runs} run(s), "
        f"{args.paper_duration_seconds} s on paper")
    if args.scenario == "connect-refused":
        say(f"Error 502: Couldn't connect to TWS on {args.host}:{args.port}")
        return 2
    code, account = asyncio.run(session(args.host, args.port, client_id, args.scenario))
    if code != 0:
        return code
    if args.scenario == "code-bug":
        say("placing the opening orders ...")
        raise ZeroDivisionError("position size for VOD.L divided by a zero lot size")
    write_atomically(args.report, make_report(scenario=args.scenario, args=args,
                                              client_id=client_id, account=account,
                                              now=simulated_now()), bom=args.bom)
    say(f"report written: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
