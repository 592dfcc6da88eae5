"""A run's IBKR messages and its log as the run commit keeps it: what `record` counts and
`verify` counts again from the commit (`rederive`), one implementation for both."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..evidence.report import pointer
from ..frozen import replace
from ..redact import redact
from ..textsafe import clean
from .workspace import Context

if TYPE_CHECKING:  # (counting a run's IBKR messages imports them where they are counted)
    from ..ibkr.codes import Classification, Connectivity


def run_connectivity(ctx: Context, log: bytes | None, messages: Any = None
                     ) -> Connectivity | None:
    """The run's IBKR messages counted from its log as it is committed (`kept_log`) and
    its report's messages (`report_messages`), benign codes from the base config, as the
    verdict's thresholds are; None with neither. `verify` counts them again from what the
    run commit holds."""
    if log is None and not isinstance(messages, list):
        return None
    from ..ibkr.codes import code_occurrences, connectivity, message_codes, untold

    text = log_text(log) if log is not None else ""
    conn = connectivity(code_occurrences(text), message_codes(messages),
                        benign=ctx.rules.ibkr.benign_codes)
    lost = untold(text)  # (lines with a code the log could not keep: the worst they could be)
    return replace(conn, disconnects=conn.disconnects + lost) if lost else conn


def report_messages(ctx: Context, report: Any) -> Any:
    """The IBKR messages of a report, through the base's `[report.fields] ibkr_messages`
    (None without that pointer)."""
    fields = ctx.rules.report.fields
    return pointer(report, fields.ibkr_messages) if fields.ibkr_messages and \
        report is not None else None


def kept_log(log: bytes | None) -> bytes | None:
    """The wrapper's log as a run commit keeps it: account numbers redacted, escape
    sequences and control characters removed."""
    return None if log is None else clean(redact(log_text(log))).encode()


def as_kept(piece: bytes) -> bytes:
    """A piece of UTF-8 output (a line, or a piece of a long one) as `kept_log` reads it:
    what `Capture` decides to keep or count by (adversary 51: "Error ESC[1;36m1100", as a
    logger colours a number, told nothing as written and a disconnection once kept).
    Printable ASCII reads as it is written: redaction only takes digits away, which makes
    no code and no crash report."""
    if _AS_WRITTEN.search(piece) is None:
        return piece
    return clean(redact(piece.decode("utf-8", "replace"))).encode()


# What `clean` may change: a control character, a lone carriage return, any non-ASCII byte
_AS_WRITTEN = re.compile(rb"[^\t\n\r\x20-\x7e]|\r(?!\n)")


def log_text(log: bytes) -> str:
    """A wrapper's log as text (`log_encoding`). Found by a newcomer: a UTF-16 log was
    read as UTF-8, and the account number in it went into git unredacted."""
    return log.decode(log_encoding(log[:64]) or "utf-8-sig", "replace")


def log_encoding(head: bytes) -> str | None:
    """The encoding of a wrapper's output from its first bytes: UTF-16 as Windows
    PowerShell 5.1 writes a redirected log (with its mark, or without it when NULs fill
    every other byte of its start); None: UTF-8 (a byte-order mark dropped)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = head[:64]
    if len(head) >= 4 and head.count(0) * 2 >= len(head) - 1:  # (ASCII, two bytes each)
        odd = sum(1 for b in head[1::2] if b == 0) >= sum(1 for b in head[0::2] if b == 0)
        return "utf-16-le" if odd else "utf-16-be"
    return None


def log_path(record_file: str) -> str:
    """Where a run's log is kept: beside its record."""
    return record_file[:-len(".json")] + ".log"


def readings(ctx: Context, *, exit_code: int | None, log: bytes | None
             ) -> tuple[Classification, Classification]:
    """What `run` makes of an attempt's committed log and exit code with the gateway up
    after the run, and with it gone (`attempt_failure`): the one fact the commit does not
    hold. A recorded outcome neither gives is refuted (`runparts.failure`); one only the
    second gives, where the first is a code failure, is put to the reviewer
    (`describe`)."""
    return (attempt_failure(ctx, exit_code=exit_code, log=log, gateway_alive=True),
            attempt_failure(ctx, exit_code=exit_code, log=log, gateway_alive=False))


def attempt_failure(ctx: Context, *, exit_code: int | None, log: bytes | None,
                    gateway_alive: bool, seen_alive: bool = True) -> Classification:
    """Why an attempt left no report (`codes.classify_failure`), read from its log as the
    run commit keeps it (``log``: `kept_log`) and its exit code, benign codes from the base
    config; one that exited 0 ends on its missing report, one with no exit code (killed at
    its timeout, or stopped) is a code failure whatever its log says. What `run` records,
    and what `verify` reads again from the commit (`runparts.failure`), the gateway's
    state after the run either way."""
    from ..ibkr.codes import Classification, classify_failure

    text = log_text(log) if log is not None else ""
    if exit_code == 0:
        text += "\nno fresh report was written"
    cls = classify_failure(exit_code=exit_code, log_text=text, gateway_alive=gateway_alive,
                           seen_alive=seen_alive, benign=ctx.rules.ibkr.benign_codes)
    if exit_code is None and cls.outcome != "failed-code":
        return Classification("failed-code", "the wrapper was killed before it exited, at "
                              "its timeout or by a stop", cls.codes)
    return cls
