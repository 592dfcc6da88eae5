"""A run's IBKR messages and its log as the run commit keeps it: what `record` counts and
`verify` counts again from the commit (`rederive`), one implementation for both."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..evidence.report import pointer
from ..frozen import replace
from ..redact import redact
from ..textsafe import clean, escapes_only
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
    """The wrapper's log as a run commit keeps it: escape sequences and control characters
    removed, then account numbers redacted (in the text as it reads: an escape between the
    digits hid one from the redaction, and cleaning showed it)."""
    if log is None:
        return None
    return KeptStream(log_encoding(log[:64])).feed(log, final=True).encode()


class KeptStream:
    """`kept_log` a piece at a time (``encoding``: `log_encoding`'s): what `feed` returns,
    joined, is the text `kept_log` makes of the whole, whatever the pieces (a sequence, a
    character, an account number across two is held until it is whole). `run` keeps a
    wrapper's output through it and chooses what to keep of a long one on what it returns
    (adversaries 51, 52: "Error ESC[1;36m1100" was a code only once cleaned; an escape
    left open in a kept part took the next one)."""

    def __init__(self, encoding: str | None) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder(encoding or "utf-8-sig")("replace")
        self._clean = CleanStream()
        self._word = ""  # (cleaned text that may be part of an account number)

    def feed(self, data: bytes, *, final: bool = False) -> str:
        text = self._word + self._clean.feed(self._decoder.decode(data, final), final=final)
        cut = len(text) if final else _word_start(text)
        self._word = text[cut:]
        return redact(text[:cut]) if "U" in text else text[:cut]  # (an account's letters)


class CleanStream:
    """`textsafe.clean` of text given a piece at a time: the pieces it returns, joined,
    are `clean` of the whole. No escape sequence reaches past its line; within one, what
    more text could clean otherwise is held: an escape sequence that may go on (an OSC's
    body is dropped as it comes, up to what ends it), a carriage return that a line feed
    may follow (with what is removed after it)."""

    def __init__(self) -> None:
        self._cr = ""  # a carriage return with nothing shown after it yet
        self._rest = ""  # an escape sequence that may go on (in an OSC: an ESC, maybe ST's)
        self._osc = ""  # the characters that end the OSC left open, if one is

    def feed(self, text: str, *, final: bool = False) -> str:
        text, self._rest = self._rest + text, ""
        if self._osc:
            text = self._after_osc(text, final)
            if self._osc and not final:
                return ""
        text, self._cr = self._cr + text, ""
        if _PLAIN.fullmatch(text):  # (most output: nothing to clean, nothing held)
            return text
        if final:
            return clean(text)
        found = _open_at(text)
        cut = len(text) if found is None or (  # (a CSI's parameters past that: as written)
            len(found.group()) > _HELD and not _OPEN_OSC.match(found.group())) \
            else found.start()
        if found is not None and cut == found.start() and _OPEN_OSC.match(found.group()):
            self._osc = "\x07\x9c" if found.group()[0] == "\x9d" else "\x07"
        else:
            self._rest = text[cut:]
        back = text.rfind("\r", max(text.rfind("\n") + 1, cut - _HELD), cut)
        if back >= 0 and escapes_only(text[back + 1:cut]):  # (those end where the sequence
            self._cr, cut = "\r", back  # held begins: they join nothing after them)
        return clean(text[:cut])

    def _after_osc(self, text: str, final: bool) -> str:
        """``text`` after the body of the OSC left open: from what ends it (BEL, ST: taken;
        an ESC or a line end: not); an ESC last is held (ST may follow)."""
        i = next((k for k, ch in enumerate(text) if ch in self._osc or ch in "\x1b\r\n"),
                 len(text))
        if i == len(text) or (text[i] == "\x1b" and i + 1 == len(text) and not final):
            self._rest = text[i:]
            return ""
        self._osc = ""
        if text[i] == "\x1b":
            return text[i + 2:] if text[i + 1:i + 2] == "\\" else text[i:]
        return text[i:] if text[i] in "\r\n" else text[i + 1:]


# A suffix that more text could make a longer escape sequence (CSI or OSC, ESC or C1)
_OPEN = re.compile(r"(?:\x1b\[[0-?]*[ -/]*|\x9b[0-?]*[ -/]*|\x1b\][^\x07\x1b\r\n]*"
                   r"|\x9d[^\x07\x1b\x9c\r\n]*|\x1b)\Z")
_OPEN_OSC = re.compile(r"\x1b\]|\x9d")
_HELD = 256  # the most characters of a sequence or after a carriage return held
_PLAIN = re.compile(r"[\t\n\x20-\x7e]*")  # (what `clean` leaves as it is)


def _open_at(text: str) -> re.Match[str] | None:
    """The escape sequence that runs to the end of ``text``, where more text could make it
    longer (the leftmost, as `clean` reads it). None holds BEL or a line end, and ESC only
    first; a C1 OSC holds no ST: each is looked for where it alone can begin (searched
    from every C1 OSC opener, a read full of them took quadratic time: adversary 53, 3 s
    for 64 KiB, the wrapper stalled on its pipe)."""
    lo = max(text.rfind(ch) for ch in "\x07\r\n") + 1
    esc = text.rfind("\x1b")
    starts = [esc] if esc >= lo else []
    lo = max(lo, esc + 1)
    c1 = text.find("\x9d", max(lo, text.rfind("\x9c") + 1))
    starts += [i for i in (c1, text.rfind("\x9b")) if i >= lo]
    return next((m for m in map(lambda i: _OPEN.match(text, i), sorted(starts)) if m), None)


def _word_start(text: str) -> int:
    """Where the word at the end of ``text`` begins (an account number may go on in the
    next piece); the end when that word is longer than any account number is read."""
    if not text or not _WORD.match(text, len(text) - 1):
        return len(text)
    run = _WORD_RUN.match(text[-_WORD_HELD - 1:][::-1])  # (read backwards: once)
    size = run.end() if run is not None else 0
    return len(text) - size if size <= _WORD_HELD else len(text)


_WORD = re.compile(r"\w")
_WORD_RUN = re.compile(r"\w*")
_WORD_HELD = 4096


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
