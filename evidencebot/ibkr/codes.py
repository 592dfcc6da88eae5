"""IBKR error codes and what a failed run's log says about its cause. Pure, stdlib only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import textsafe

IN_USE = 326
COULD_NOT_CONNECT = 502
READ_ONLY = 321
MARKET_DATA = frozenset({354, 10167, 10089, 10090, 162, 2103, 2105})
CONNECTIVITY = frozenset({1100, 1300, 2110})
INFORMATIONAL = frozenset({2104, 2106, 2158, 2107, 2108})
DEGRADED = frozenset({2103, 2105, 2110, 1100})
FIX_502 = ("enable ActiveX and Socket Clients; ports: TWS paper 7497, Gateway paper 4002, "
           "TWS live 7496, Gateway live 4001")

_CODE_PATTERNS = (
    re.compile(r"\b(?:error|warning)[ :]+(\d{3,5})\b", re.IGNORECASE),
    re.compile(r"\bcode[\"']?\s*[:=]\s*(\d{3,5})\b", re.IGNORECASE),
    re.compile(r"\berrorCode[=: ]+(\d{3,5})\b"),
)
_TRACEBACK = "Traceback (most recent call last):"
_REFUSED = re.compile(r"connection refused|couldn't connect|could not connect|"
                      r"ConnectionRefusedError", re.IGNORECASE)


def parse_codes(log_text: str) -> list[int]:
    """IBKR codes in a log (`Error 326, reqId -1: …`, `code=354`, `"code": 2104`), first
    seen first."""
    seen: list[int] = []
    for line in log_text.splitlines():
        for pat in _CODE_PATTERNS:
            for m in pat.finditer(line):
                code = int(m.group(1))
                if code not in seen:
                    seen.append(code)
    return seen


@dataclass(frozen=True)
class Classification:
    outcome: str  # failed-infra | failed-market-data | failed-code
    reason: str
    codes: tuple[int, ...]
    retry_client_id: bool = False  # 326: retry at once with the next id
    retry_connect: bool = False  # 502 / refused: check the gateway, back off, retry


def classify_failure(*, exit_code: int | None, log_text: str, gateway_alive: bool | None,
                     seen_alive: bool = True) -> Classification:
    """The runbook's failure handling, as a function of the wrapper's log and exit code.

    Precedence, log first: 326 (retry with the next id) > 502/refused (retry) > lost
    connectivity in the log (1100 & co: infra) > a gateway dead after the run that was
    seen alive before it (infra; one never seen never "went away") > a traceback (a code
    bug, even when a market-data code also appears) > market data > a hang > anything
    else (a code bug)."""
    codes = tuple(parse_codes(log_text))
    errors = [c for c in codes if c not in INFORMATIONAL]
    if IN_USE in errors or exit_code == 3:
        return Classification("failed-infra", "client id already in use (error 326)", codes,
                              retry_client_id=True)
    if COULD_NOT_CONNECT in errors or _REFUSED.search(log_text) or exit_code == 2:
        return Classification("failed-infra", f"could not connect (error 502): {FIX_502}",
                              codes, retry_connect=True)
    lost = sorted(set(errors) & CONNECTIVITY)
    if lost:
        return Classification("failed-infra",
                              f"connectivity lost (error {', '.join(map(str, lost))})", codes)
    if gateway_alive is False and seen_alive:
        return Classification("failed-infra", "the gateway went away during the run", codes)
    if _TRACEBACK in log_text:
        last = [ln for ln in log_text.strip().splitlines() if ln.strip()][-1:]
        return Classification("failed-code", f"traceback: {textsafe.line(last[0])[:120]}" if last
                              else "traceback", codes)
    md = [c for c in errors if c in MARKET_DATA]
    if md:
        return Classification("failed-market-data",
                              f"market data unavailable (error {', '.join(map(str, md))})",
                              codes)
    if exit_code is None:
        return Classification("failed-code", "the wrapper hung until the timeout", codes)
    return Classification("failed-code", f"the wrapper exited {exit_code} without a known "
                          "IBKR cause", codes)
