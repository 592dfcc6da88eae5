"""IBKR error codes and what a failed run's log says about its cause. Pure, stdlib only."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from .. import textsafe
from ..frozen import frozen

IN_USE = 326
COULD_NOT_CONNECT = 502
READ_ONLY = 321
MARKET_DATA = frozenset({354, 10167, 10089, 10090, 162, 2103, 2105})
CONNECTIVITY = frozenset({1100, 1300, 2110})
INFORMATIONAL = frozenset({2104, 2106, 2158, 2107, 2108})
# Connectivity as evidence. Benign: farm-status information (a farm is OK, connecting, or
# inactive but available on demand); `[ibkr] benign_codes` adds to it. Disconnections: the
# link to IB lost (1100), the socket port reset (1300), TWS lost its server (2110), a
# competing live session took the data (10197). Restorations: 1101 (data lost), 1102 (kept).
BENIGN = frozenset({2104, 2106, 2107, 2108, 2119, 2158})
DISCONNECTS = frozenset({1100, 1300, 2110, 10197})
RESTORATIONS = frozenset({1101, 1102})
DEGRADED = frozenset({2103, 2105, 2110, 1100})
FIX_502 = ("enable ActiveX and Socket Clients; ports: TWS paper 7497, Gateway paper 4002, "
           "TWS live 7496, Gateway live 4001")

# ASCII only: letters, digits, word ends (adversary 53: "WARNİNG: 1102", as a Turkish
# locale upper-cases it, was a code to a Unicode-folding reading of the whole log and none
# to `telling`'s cheap look, so a cut log dropped the restoration and a crash read as infra)
_CODE_PATTERNS = (
    re.compile(r"\b(?:error|warning)[ :]+(\d{3,5})\b", re.IGNORECASE | re.ASCII),
    re.compile(r"\bcode[\"']?[ \t]*[:=][ \t]*(\d{3,5})\b", re.IGNORECASE | re.ASCII),
    re.compile(r"\berrorCode[=: ]+(\d{3,5})\b", re.ASCII),
)
_TRACEBACK = "Traceback (most recent call last):"
# A crash in a log that is no Python traceback: PowerShell's error record (7.x: "Exception:
# <script>:<line>" over a "Line |" frame; 5.1: "+ FullyQualifiedErrorId :").
# (within a line: `\s` crossed line ends, so the whole log saw a record split over two
# lines that no line of it holds, and a run of blank lines took quadratic time: adversary 53)
_SCRIPT_ERROR = re.compile(r"^[ \t]*\+[ \t]*FullyQualifiedErrorId[ \t]*:|^[ \t]*Line \|[ \t]*\r?$",
                           re.MULTILINE)
# (ib_async logs "API connection failed: ConnectionRefusedError(...)" and then, always,
# its hint "Make sure API port on TWS/IBG is open": a log that ends on either ends on it)
_REFUSED = re.compile(r"connection refused|couldn't connect|could not connect|"
                      r"ConnectionRefusedError|Make sure API port on TWS/IBG is open",
                      re.IGNORECASE)


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


def code_occurrences(log_text: str) -> list[int]:
    """Every IBKR code in a log, once per line it appears on, in order (a code on three
    lines is three messages; `parse_codes` keeps each code once)."""
    out: list[int] = []
    for line in log_text.splitlines():
        found: list[int] = []
        for pat in _CODE_PATTERNS:
            found += [int(m.group(1)) for m in pat.finditer(line)]
        out += list(dict.fromkeys(found))
    return out


def message_codes(messages: Any) -> list[int]:
    """Every integer ``code`` in a report's list of IBKR messages, in order."""
    if not isinstance(messages, list):
        return []
    return [m["code"] for m in messages if isinstance(m, dict)
            and isinstance(m.get("code"), int) and not isinstance(m.get("code"), bool)]


@frozen
class Connectivity:
    """How a run's IBKR messages sort: benign, disconnections, restorations, other."""

    benign: int
    disconnects: int
    restorations: int
    other: int


def connectivity(*sources: Iterable[int], benign: Collection[int] = ()) -> Connectivity:
    """Count a run's IBKR messages from several ``sources`` (the wrapper's log, the report's
    messages). A real wrapper often prints a message and lists it in its report too, so a
    code counts as often as the source that shows it most, not the sum of both. ``benign``
    (`[ibkr] benign_codes`) extends BENIGN and wins over the other classes."""
    counts: dict[int, int] = {}
    for source in sources:
        seen: dict[int, int] = {}
        for code in source:
            seen[code] = seen.get(code, 0) + 1
        for code, n in seen.items():
            counts[code] = max(counts.get(code, 0), n)
    quiet = BENIGN | set(benign)
    total = {"benign": 0, "disconnects": 0, "restorations": 0, "other": 0}
    for code, n in counts.items():
        cls = ("benign" if code in quiet else "disconnects" if code in DISCONNECTS
               else "restorations" if code in RESTORATIONS else "other")
        total[cls] += n
    return Connectivity(**total)


def _reported(text: str) -> bool:
    """Whether ``text`` holds a crash report: a Python traceback, a PowerShell error record."""
    return _TRACEBACK in text or _SCRIPT_ERROR.search(text) is not None


# Every line `telling` says tells has one of these (a cheap look first: most do not)
_MAYBE = re.compile(rb"(?i)error|warning|code|traceback|line \||char:")


def telling(line: bytes) -> bool:
    """Whether a line of a wrapper's output is one its evidence is read from: one with an
    IBKR code (`code_occurrences`) or a crash report's first line (`crashed_in`,
    `before_crash`). `run` keeps every such line of a log it must cut (`Capture`), read
    as the log is kept (`messages.KeptStream`: UTF-8, no NUL, no escape)."""
    if _MAYBE.search(line) is None:
        return False
    text = line.decode("utf-8", "replace")
    return any(p.search(text) for p in _CODE_PATTERNS) or crash_told(text)


def crash_told(text: str) -> bool:
    """Whether ``text`` holds a crash report's first words: a traceback's header, a
    PowerShell error record's last line or its frame (what `telling` reads besides codes)."""
    return _reported(text) or _SCRIPT_FRAME.search(text) is not None


def crash_frame(line: bytes) -> bool:
    """Whether a line is a PowerShell error record's frame (`before_crash`)."""
    if b"char:" not in line and b"Line |" not in line:
        return False  # (a cheap look first: run asks it of every line it leaves out)
    return _SCRIPT_FRAME.search(line.decode("utf-8", "replace")) is not None


_UNTOLD = re.compile(r"^\[evidencebot: \d+ bytes of the wrapper's output left out here[^\n]*; "
                     r"(\d+) line\(s\) with an IBKR code or a crash report left out too\]$",
                     re.MULTILINE)


def left_out(dropped: int, kept: int, room: int, untold: int) -> str:
    """The line a cut log has where its middle was: how many bytes went, how many lines
    that tell were kept below it, the room of the whole, and how many that tell went too
    (what `untold` reads back)."""
    among = (f", but for the {kept} line(s) with an IBKR code or a crash report, below"
             if kept else "")
    gone = (f"; {untold} line(s) with an IBKR code or a crash report left out too"
            if untold else "")
    return (f"[evidencebot: {dropped} bytes of the wrapper's output left out here{among}; "
            f"a run's log keeps its first and last lines, {room} bytes in all{gone}]")


def untold(log_text: str) -> int:
    """How many lines with an IBKR code or a crash report a run's log says it left out
    (`Capture`: past the room it keeps for them). Each counts as a disconnection (the
    worst it could be), and none lets a failure pass for a lost connection: the log
    cannot show what they said."""
    return sum(int(m.group(1)) for m in _UNTOLD.finditer(log_text))


def _unrestored(log_text: str) -> list[int]:
    """The codes of a log after its last restoration (1101, 1102): a loss before one was
    over when the run went on."""
    seen = code_occurrences(log_text)
    last = max((i for i, c in enumerate(seen) if c in RESTORATIONS), default=-1)
    return seen[last + 1:]


def crashed_in(exit_code: int | None, log_text: str) -> bool:
    """Whether a run crashed: a Python traceback or a PowerShell error record in its log,
    or an exit by a signal or a Windows crash status (negative, or over 128: 137 is an
    out-of-memory kill) — a code bug whatever else the log says."""
    return _reported(log_text) or (exit_code is not None and (exit_code < 0 or exit_code > 128))


# The first line of a PowerShell error record's frame: 5.1's "At <script>:<n> char:<n>",
# 7.x's "Line |"; the record begins a line above it (the message, or "Exception: …").
_SCRIPT_FRAME = re.compile(r"^[ \t]*(?:At .+:\d+ char:\d+|Line \|)[ \t]*\r?$",
                           re.MULTILINE | re.ASCII)


def before_crash(log_text: str) -> str:
    """The log up to where a crash report (a Python traceback, a PowerShell error record)
    begins: what the run logged on its way. A code inside the report (a source line it
    echoes, an exception's message) says nothing of how the run went."""
    starts = [i for i in (log_text.find(_TRACEBACK),) if i >= 0]
    m = _SCRIPT_FRAME.search(log_text)
    if m is not None:
        starts.append(log_text.rfind("\n", 0, max(log_text.rfind("\n", 0, m.start()), 0)) + 1)
    return log_text[:min(starts)] if starts else log_text


@frozen
class Classification:
    outcome: str  # failed-infra | failed-market-data | failed-code
    reason: str
    codes: tuple[int, ...]
    retry_client_id: bool = False  # 326: retry at once with the next id
    retry_connect: bool = False  # 502 / refused: check the gateway, back off, retry
    crashed: bool = False  # `crashed_in`: a code bug whatever the exit code or the log says


def _crash(exit_code: int | None, log_text: str, codes: tuple[int, ...],
           hidden: int) -> Classification:
    """A crash's classification (`classify_failure`), and why it is one."""
    if hidden and not crashed_in(exit_code, log_text):
        return Classification("failed-code", f"its log left out {hidden} line(s) with an "
                              "IBKR code or a crash report: no cause it shows can be the "
                              "run's", codes, crashed=True)
    if not _reported(log_text):
        return Classification("failed-code", f"the wrapper was killed or crashed (exit "
                              f"{exit_code})", codes, crashed=True)
    last = [ln for ln in log_text.strip().splitlines() if ln.strip()][-1:]
    return Classification("failed-code", f"traceback: {textsafe.line(last[0])[:120]}" if last
                          else "traceback", codes, crashed=True)


def classify_failure(*, exit_code: int | None, log_text: str, gateway_alive: bool | None,
                     seen_alive: bool = True, benign: Collection[int] = ()) -> Classification:
    """The runbook's failure handling, as a function of the wrapper's log and exit code.

    Precedence: 326 (retry with the next id) > 502/refused (retry), each on the log's
    last line (the wrapper's exit codes 3 and 2 alone say nothing: Python's usage errors
    exit 2 too), and neither beside a crash (`crashed_in`) >
    lost connectivity (1100 & co: infra) logged before any crash report and followed by
    no restoration (1101, 1102) > a crash (a code bug, even when the gateway went away:
    surviving one is what the burn-in tests, and whether it went is not in the evidence
    `verify` reads) > a gateway dead after the run that was seen alive before it (infra;
    one never seen never "went away") > a market-data code on the log's last line > a
    hang > anything else (a code bug: a neutral outcome needs the log to end on its
    cause). ``benign`` (`[ibkr] benign_codes`): codes that are never a cause."""
    codes = tuple(parse_codes(log_text))
    # Lines a cut log could not keep (`untold`) may have been a crash report: no cause
    # the log shows is then the run's (adversary 49: a traceback among them, and a 354
    # at the end made a crash a market-data failure)
    hidden = untold(log_text)
    crashed = crashed_in(exit_code, log_text) or hidden > 0
    # What ended the run is what the log ends on (or the wrapper's exit code 2 or 3): a
    # 326 the auto-client wrapper moved past, the 354 every session prints for one symbol,
    # a 502 it retried say nothing of a crash after them that no rule recognises.
    lines = [ln for ln in log_text.splitlines() if ln.strip()]
    ended = set(parse_codes(lines[-1] if lines else "")) - INFORMATIONAL - set(benign)
    # (the auto-client wrapper's exit codes 3 and 2 mean 326 and 502, but Python's own
    # usage errors and a script that cannot be opened exit 2 too, a 502 retried past early
    # in the log says nothing of them: the log's last line says which)
    if not crashed and IN_USE in ended:
        return Classification("failed-infra", "client id already in use (error 326)", codes,
                              retry_client_id=True)
    if not crashed and (COULD_NOT_CONNECT in ended
                        or _REFUSED.search(lines[-1] if lines else "")):
        return Classification("failed-infra", f"could not connect (error 502): {FIX_502}",
                              codes, retry_connect=True)
    lost = sorted(set(_unrestored(before_crash(log_text))) & CONNECTIVITY - set(benign))
    if lost and not hidden:
        return Classification("failed-infra",
                              f"connectivity lost (error {', '.join(map(str, lost))})", codes)
    if crashed:
        return _crash(exit_code, log_text, codes, hidden)
    if gateway_alive is False and seen_alive:
        return Classification("failed-infra", "the gateway went away during the run", codes)
    md = sorted(ended & MARKET_DATA)
    if md:
        return Classification("failed-market-data",
                              f"market data unavailable (error {', '.join(map(str, md))})",
                              codes)
    if exit_code is None:
        return Classification("failed-code", "the wrapper hung until the timeout", codes)
    return Classification("failed-code", f"the wrapper exited {exit_code} without a known "
                          "IBKR cause", codes)
