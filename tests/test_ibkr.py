"""Real ib_async against the simulated gateway on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import free_port

from evidencebot.ibkr.codes import FIX_502, classify_failure, parse_codes
from evidencebot.ibkr.probe import probe_gateway
from evidencebot.redact import redact
from evidencebot.sim.gateway import running_gateway

TIMEOUT = 5.0


def probe(port: int, ids: list[int] = [17, 18, 19], **kw: object):  # type: ignore[no-untyped-def]  # noqa: B006
    return probe_gateway(host="127.0.0.1", port=port, client_ids=ids, connect_timeout=TIMEOUT,
                         readonly_wait=kw.pop("readonly_wait", 0.3), **kw)  # type: ignore[arg-type]


def test_clean_connect() -> None:
    with running_gateway(accounts=["DU1234567"]) as port:
        r = probe(port)
    assert r.ok and r.client_id == 17 and r.paper and r.read_only is False
    assert r.accounts == ["DU***"] and "1234567" not in r.reason


def test_held_client_id_moves_to_the_next_far_faster_than_the_timeout() -> None:
    with running_gateway(hold_client_ids={17, 18}) as port:
        start = time.monotonic()
        r = probe(port, readonly_wait=0.05)
        elapsed = time.monotonic() - start
    assert r.ok and r.client_id == 19 and r.held_ids == [17, 18]
    assert elapsed < TIMEOUT / 3, f"{elapsed:.2f} s: the probe waited for the connect timeout"


def test_every_id_held_fails_with_the_fix() -> None:
    with running_gateway(hold_client_ids={17}) as port:
        r = probe(port, ids=[17])
    assert not r.ok and r.error_code == 326 and "IBKR_CLIENT_ID" in r.fix


def test_read_only_api_is_detected_without_any_order() -> None:
    with running_gateway(read_only=True) as port:
        r = probe(port, readonly_wait=TIMEOUT)
    assert not r.ok and r.read_only and "Read-Only" in r.reason
    assert r.elapsed < TIMEOUT  # the 321 ended the wait, not the timeout


def test_live_account_is_refused_under_the_paper_profile() -> None:
    with running_gateway(accounts=["U7654321"]) as port:
        r = probe(port)
        live_ok = probe(port, paper_profile=False)
    assert not r.ok and r.paper is False and "live account (U***)" in r.reason
    assert live_ok.ok


def test_connection_refused_is_502_with_the_fix() -> None:
    r = probe(free_port())
    assert not r.ok and r.error_code == 502 and r.fix == FIX_502


def test_gateway_that_accepts_then_closes_is_502_quickly() -> None:
    with running_gateway(refuse=True) as port:
        r = probe(port)
    assert not r.ok and r.error_code == 502 and r.fix == FIX_502
    assert r.elapsed < TIMEOUT


def test_ctrl_c_during_the_probe_is_an_interrupt_at_once() -> None:
    """A gateway that takes the connection and never answers the handshake, and a SIGINT
    the moment it does: the probe ends in KeyboardInterrupt, long before its timeout.
    (asyncio.run's own handler cancelled the probe's task, ib_async's connect swallowed
    the cancel, and the interrupt was lost: the run went on, or hung.)"""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held: list[socket.socket] = []

    def accept_then_interrupt() -> None:
        for _ in range(2):  # (the probe's own reachability check, then ib_async's connect)
            conn, _ = server.accept()
            held.append(conn)
        os.kill(os.getpid(), signal.SIGINT)  # (Ctrl-C, while ib_async waits on the gateway)

    waiter = threading.Thread(target=accept_then_interrupt, daemon=True)
    # (Python's own handler, as an operator's terminal has it: a test run started in the
    # background of a non-interactive shell ignores SIGINT)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    waiter.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            probe_gateway(host="127.0.0.1", port=server.getsockname()[1], client_ids=[17],
                          connect_timeout=30)
    finally:
        signal.signal(signal.SIGINT, before)
        server.close()
        for conn in held:
            conn.close()
    assert time.monotonic() - start < 15  # (not the 30 s connect timeout)


@pytest.mark.parametrize(("exit_code", "log", "outcome", "flag"), [
    pytest.param(3, "Error 326, reqId -1: client id already in use", "failed-infra",
                 "retry_client_id", id="326"),
    pytest.param(2, "Error 502: Couldn't connect to TWS", "failed-infra", "retry_connect",
                 id="502"),
    pytest.param(1, "ConnectionRefusedError: [Errno 111]", "failed-infra", "retry_connect",
                 id="refused"),
    pytest.param(1, "Error 354, reqId 3: Requested market data is not subscribed",
                 "failed-market-data", None, id="354"),
    pytest.param(1, "Warning 10167, reqId 4: delayed market data", "failed-market-data", None,
                 id="10167"),
    pytest.param(1, "Error 2105, reqId -1: HMDS data farm connection is broken",
                 "failed-market-data", None, id="2105"),
    pytest.param(1, "Error 1100, reqId -1: Connectivity lost\nTraceback (most recent call "
                 "last):\nOSError", "failed-infra", None, id="1100-beats-traceback"),
    pytest.param(1, "Error 1100, reqId -1: Connectivity lost\nError 1102, reqId -1: "
                 "Connectivity restored - data maintained\nTraceback (most recent call "
                 "last):\nKeyError: 'bid'", "failed-code", None,
                 id="a-restored-1100-is-no-cause"),
    pytest.param(1, "Error 1100: lost\nError 1101: restored, data lost\nError 1100: lost "
                 "again\nTraceback (most recent call last):\nOSError", "failed-infra", None,
                 id="lost-again-after-a-restoration"),
    pytest.param(1, "Traceback (most recent call last):\n  File x\nZeroDivisionError: boom",
                 "failed-code", None, id="traceback"),
    pytest.param(2, "Traceback (most recent call last):\n  File x\nKeyError: 'bid'",
                 "failed-code", None, id="a-crash-exiting-2-is-no-502"),
    pytest.param(3, "Traceback (most recent call last):\n  File x\nKeyError: 'bid'",
                 "failed-code", None, id="a-crash-exiting-3-is-no-326"),
    # the exit codes say 502 and 326 where the log holds them (found by an adversary: a
    # wrapper's own usage error exits 2, and was read as a 502 that leaves the streak)
    pytest.param(2, "usage: run.py [-h] [--runs N]\nrun.py: error: unrecognized arguments: "
                 "--paper", "failed-code", None, id="a-usage-error-exiting-2-is-no-502"),
    pytest.param(2, "python: can't open file '/bot/scripts/run.py': [Errno 2] No such file",
                 "failed-code", None, id="a-missing-script-exiting-2-is-no-502"),
    pytest.param(3, "all ids tried", "failed-code", None, id="an-exit-3-without-326-is-no-326"),
    pytest.param(2, "Error 502: Couldn't connect to TWS, retrying\nconnected as 17\nrun.py: "
                 "error: unrecognized arguments: --x", "failed-code", None,
                 id="a-502-retried-past-says-nothing-of-an-exit-2"),
    pytest.param(2, "Error 502: Couldn't connect to TWS after 3 tries", "failed-infra",
                 "retry_connect", id="an-exit-2-ending-on-its-502-is-502"),
    # found by a tester: ib_async's own last line after a refused connection is its hint
    pytest.param(2, "ERROR API connection failed: ConnectionRefusedError(111, \"Connect call "
                 "failed ('127.0.0.1', 4002)\")\nERROR Make sure API port on TWS/IBG is open",
                 "failed-infra", "retry_connect", id="ib-async-s-refusal-and-its-hint"),
    pytest.param(1, "Warning 2104, reqId -1: farm OK\nsomething odd", "failed-code", None,
                 id="farm-ok-is-not-a-cause"),
    pytest.param(None, "still running", "failed-code", None, id="hung"),
    pytest.param(1, "Error 354, reqId 3: not subscribed\nTraceback (most recent call last):\n"
                 "KeyError: 'bid'", "failed-code", None, id="traceback-beats-market-data"),
    pytest.param(1, "Error 326, reqId -1: client id 17 already in use\nconnected as 18\n"
                 "Traceback (most recent call last):\nZeroDivisionError: position size",
                 "failed-code", None, id="a-busy-id-moved-past-is-no-cause-of-a-crash"),
    pytest.param(1, "Error 502: Couldn't connect, retrying\nTraceback (most recent call "
                 "last):\nKeyError: 'bid'", "failed-code", None,
                 id="a-crash-after-a-502-retry-is-a-crash"),
    pytest.param(1, "Error 2105, reqId -1: HMDS data farm connection is broken:euhmds\n"
                 "Warning 2106, reqId -1: HMDS data farm connection is OK:euhmds\n"
                 "something odd", "failed-code", None, id="a-farm-ok-again-is-no-cause"),
    pytest.param(1, "Error 2103, reqId -1: farm broken\nWarning 2104: farm OK\n"
                 "Error 2103, reqId -1: farm broken again", "failed-market-data", None,
                 id="broken-again-after-ok"),
    pytest.param(1, "Error 2105, reqId -1: HMDS broken\nException: C:\\bot\\run.ps1:88\n"
                 "Line |\n  88 |  throw 'position size'\n", "failed-code", None,
                 id="powershell-7-error-record"),
    pytest.param(1, "Error 354: not subscribed\nAt C:\\bot\\run.ps1:88 char:5\n"
                 "    + CategoryInfo          : OperationStopped: (boom:String) [], "
                 "RuntimeException\n    + FullyQualifiedErrorId : boom\n", "failed-code", None,
                 id="windows-powershell-error-record"),
    pytest.param(137, "Error 354: not subscribed\n", "failed-code", None,
                 id="killed-out-of-memory"),
    pytest.param(-9, "Error 326: in use\n", "failed-code", None, id="killed-by-a-signal"),
    # a code inside the crash report says nothing of the run's connection
    pytest.param(1, "Traceback (most recent call last):\n  File \"bot/h.py\", line 41\n"
                 "    log.warning(\"error 1100 seen, reconnecting\")\nAttributeError: x",
                 "failed-code", None, id="a-code-echoed-in-a-traceback-is-no-loss"),
    pytest.param(1, "Traceback (most recent call last):\nKeyError: 'symbol' handling "
                 "{'code': 1300}", "failed-code", None, id="a-code-in-an-exception-is-no-loss"),
    pytest.param(1, "unexpected error 2110 in the handler\nAt C:\\bot\\run.ps1:88 char:5\n"
                 "+ throw\n+ FullyQualifiedErrorId : boom\n", "failed-code", None,
                 id="a-code-in-a-powershell-error-record-is-no-loss"),
    # a neutral outcome needs the log to end on its cause: crash reports no rule knows
    pytest.param(1, "Error 354, reqId 3: not subscribed\n╭── Traceback (most recent call last) "
                 "──╮\n│ bot.py:12 │\n╰──╯\nZeroDivisionError: division by zero",
                 "failed-code", None, id="a-rich-traceback-after-a-routine-354"),
    pytest.param(1, "Error 354: not subscribed\n  File \"bot.py\", line 3\n    if x = 1:\n"
                 "         ^\nSyntaxError: invalid syntax", "failed-code", None,
                 id="a-syntax-error-has-no-traceback-header"),
    pytest.param(1, "Error 354: not subscribed\nFatal Python error: Segmentation fault",
                 "failed-code", None, id="fatal-python-error"),
    pytest.param(1, "Error 354: not subscribed\nUnhandled exception. System.Exception: boom",
                 "failed-code", None, id="dotnet-unhandled-exception"),
    pytest.param(1, "Error 326: client id 17 in use\nconnected as 18\nException: boom",
                 "failed-code", None, id="powershell-concise-view-after-a-busy-id"),
    pytest.param(1, "Error 2105, reqId -1: HMDS broken\nWarning 2106: HMDS OK\n"
                 "Error 354: not subscribed\nno report written", "failed-code", None,
                 id="a-last-line-without-its-cause"),
    pytest.param(1, "Error 1100, reqId -1: Connectivity lost\nException: C:\\bot\\run.ps1:88\n"
                 "Line |\n  88 |  throw 'x'\n", "failed-infra", None,
                 id="a-loss-logged-before-the-crash-is-the-cause"),
])
def test_classify_failure(exit_code: int | None, log: str, outcome: str, flag: str | None) -> None:
    c = classify_failure(exit_code=exit_code, log_text=log, gateway_alive=True)
    assert c.outcome == outcome
    if flag:
        assert getattr(c, flag)


def test_a_dead_gateway_is_infra_only_if_it_was_seen_alive_before() -> None:
    log = "lost the connection to the gateway mid-run\n"
    c = classify_failure(exit_code=1, log_text=log, gateway_alive=False, seen_alive=True)
    assert c.outcome == "failed-infra" and "went away" in c.reason
    never = classify_failure(exit_code=1, log_text=log, gateway_alive=False, seen_alive=False)
    assert never.outcome == "failed-code" and "went away" not in never.reason


def test_a_crash_is_a_code_bug_even_when_the_gateway_went_away() -> None:
    """Whether the gateway went away is not in the evidence verify reads: a crash report
    in the log decides."""
    c = classify_failure(exit_code=1, log_text="Traceback (most recent call last):\nEOFError",
                         gateway_alive=False, seen_alive=True)
    assert c.outcome == "failed-code" and c.crashed and c.reason == "traceback: EOFError"


def test_parse_codes_in_first_seen_order() -> None:
    log = 'Error 326, reqId -1: x\n{"code": 2104, "message": "ok"}\nWarning 354: y\nerror 326'
    assert parse_codes(log) == [326, 2104, 354]


def test_redaction() -> None:
    assert redact("DU1234567 and U7654321, not UK100 or U2") == "DU*** and U***, not UK100 or U2"


def test_sim_gateway_cli_prints_its_port_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "evidencebot", "sim-gateway", "--port", "0",
                             "--hold-client-id", "17"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("listening on 127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        r = probe(port, readonly_wait=0.05)
        assert r.ok and r.client_id == 18 and r.held_ids == [17]
    finally:
        proc.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        code = proc.wait(timeout=10)
    assert code == 0


def test_die_after_drops_connected_clients() -> None:
    import asyncio

    from ib_async import IB

    async def session(port: int) -> bool:
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, 30, timeout=TIMEOUT)
        gone = asyncio.Event()
        ib.disconnectedEvent += gone.set
        await asyncio.wait_for(gone.wait(), TIMEOUT)
        return not ib.isConnected()

    with running_gateway(die_after=0.2, die_after_first_client=True) as port:
        assert asyncio.run(session(port))
