"""Burn-in report → Metrics. Pure: the clock is passed in.

The wrapper's report is read through the configured JSON pointers (every bot names its
fields its own way); what is malformed is bad input (exit 2), never a traceback.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from ..config import ReportFields
from ..defaults import WINDOWS_RESERVED
from ..errors import UsageError
from ..frozen import frozen
from ..redact import redact
from ..shape import INT_LIMIT, Invalid, build, spec
from ..textsafe import whole_number
from .trailers import FORMS

CLOCK_SKEW = timedelta(minutes=5)
RUN_ID = re.compile(FORMS["Evidence-Run-Id"])
MAX_REPORT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
COMMIT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def _safe_run_id(v: str) -> str:
    if not RUN_ID.fullmatch(v):
        raise ValueError("must start with a letter or a digit, then letters, digits, "
                         "'.', '_' or '-' (at most 100; it names a file)")
    if v.endswith(".") or v.split(".", 1)[0].lower() in WINDOWS_RESERVED:
        raise ValueError(f"{v!r} names no file on Windows (a reserved device name, or a "
                         "trailing dot)")
    if redact(v) != v:  # (redacted, its record and its row would name another run)
        raise ValueError(f"{v!r} reads as an IBKR account number, which evidence never holds")
    said = set(re.split(r"[^a-z0-9]+", v.casefold())) & _VERDICT_WORDS
    if _NAMES_MILESTONE.search(v.casefold()) or said:
        raise ValueError(f"{v!r} names a milestone or says a verdict"
                         f"{' (' + ', '.join(sorted(said)) + ')' if said else ''}: its "
                         "session-log heading, tracker row and commit subject would read as "
                         "one ('MO-2-CLOSED', 'burn-in-streak-met')")
    return v


# a milestone's id as a word of a run id, spelt with a separator: MO-2, mo_02, M0.2 (a
# host's or a model's "-m01" is none: round 33 found a good session refused for it)
_NAMES_MILESTONE = re.compile(r"(?:^|[-._])m[o0][-._]+[0-9]+(?=$|[-._])")
# (the words of a run id, split at anything but letters and digits, that read as a verdict)
_VERDICT_WORDS = frozenset({"closed", "closure", "done", "complete", "completed", "met",
                            "passed", "qualifying", "qualified", "signed", "approved"})


def _aware(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError("must carry a time zone (e.g. a trailing 'Z')")
    v = v.astimezone(UTC)
    if not EARLIEST <= v < LATEST:
        raise ValueError(f"is out of range ({EARLIEST.year}–{LATEST.year - 1})")
    return v


def _commit_id(v: str) -> str:
    if not COMMIT_ID.fullmatch(v):
        raise ValueError("must be a full commit id (40 or 64 hex digits, lower case)")
    return v


@frozen(kw_only=True)
class Metrics:
    """What the verdict needs from a report, however the bot names its fields. Checked by
    `shape.build`: numbers are numbers (`true` is not one filled order, "0.9" is not a
    ratio), times carry a zone."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    paper_duration_seconds: int = spec(strict=True, ge=0)
    filled_orders: int = spec(strict=True, ge=0)
    symbol_data_availability_ratio: float = spec(ge=0, le=1)
    min_bars_per_symbol: int = spec(strict=True, ge=0)
    runs_completed: int = spec(strict=True, ge=0)
    runs_requested: int = spec(1, strict=True, ge=1)
    report_passed: bool | None = None
    client_id: int | None = spec(None, strict=True, ge=0)
    ibkr_codes: tuple[int, ...] = ()
    code_commit: str | None = None
    code_dirty: bool | None = None

    _checks: ClassVar = {"run_id": _safe_run_id, "started_at": _aware, "finished_at": _aware,
                         "code_commit": _commit_id}


_MISSING = object()


def pointer(doc: Any, ptr: str) -> Any:
    """Resolve an RFC 6901 JSON pointer; ``_MISSING`` when a step does not exist."""
    if ptr == "":
        return doc
    cur = doc
    for raw in ptr.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and (i := whole_number(part)) is not None and i < len(cur):
            cur = cur[i]
        else:
            return _MISSING
    return cur


def read_report(path: Path) -> bytes:
    """A report's bytes (see `read_bounded`)."""
    return read_bounded(path, what="report")


def read_bounded(path: Path, *, what: str, limit: int = MAX_REPORT_BYTES) -> bytes:
    """A file's bytes: a regular file of at most ``limit`` bytes, checked before reading
    (a FIFO or a device is never opened)."""
    try:
        st = path.stat()
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path}: not a regular file (a {what} is a file)")
    if st.st_size > limit:
        raise UsageError(f"{path}: {st.st_size} bytes is over the {limit} byte limit for a "
                         f"{what}")
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{path}: over the {limit} byte limit for a {what}")
    return data


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(value := int(text)) >= INT_LIMIT:
        raise ValueError(f"the number {text[:24]}{'…' if len(text) > 24 else ''} is beyond "
                         "64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:24]} is beyond a double's range")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise ValueError(f"the key {twice[:40]!r} appears twice in one object")
    return dict(pairs)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects (strings skipped), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def strict_loads(text: str) -> Any:
    """JSON as evidence reads it: no NaN or Infinity, integers within 64 bits, no key
    twice in one object (`json.JSONDecodeError` or ValueError otherwise). Reports and
    the records `verify` reads alike: Python's json writes NaN, and a minimum over a
    NaN skips it."""
    doc = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                     object_pairs_hook=_unique)
    # UTF-8 holds no surrogates, so only an escape makes one: half of a pair ("\ud83d") is
    # no text, and writing it again as UTF-8 would fail
    if _ESCAPED_SURROGATE.search(text) and _SURROGATE.search(
            json.dumps(doc, ensure_ascii=False, check_circular=False)):
        raise ValueError("a lone UTF-16 surrogate escape (half of a \\uD8xx\\uDCxx pair) "
                         "is no text")
    return doc


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(data: bytes, *, source: str) -> dict[str, Any]:
    """Decode a report: UTF-8, with or without a byte-order mark, or UTF-16 with one
    (Windows PowerShell 5.1's `Out-File` writes that by default). Strict: no NaN or
    Infinity, integers within 64 bits, nesting at most 64 deep."""
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if b"\x00" in data[:4]:  # (no JSON text holds a NUL)
        wide = data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
        if wide or not utf16:
            raise UsageError(f"{source}: UTF-32 text" if wide else
                             f"{source}: UTF-16 without its byte-order mark",
                             fix="write the report in UTF-8, or in UTF-16 with its mark")
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text (nor UTF-16 with its byte-order "
                         "mark)") from None
    if _depth(text) > MAX_DEPTH:
        raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    try:
        doc = strict_loads(text)
    except json.JSONDecodeError as e:
        what = e.msg.removesuffix(" at")  # json's "Invalid control character at"
        raise UsageError(f"{source}: not valid JSON ({what} at line {e.lineno}, column "
                         f"{e.colno})") from None
    except (ValueError, RecursionError) as e:
        raise UsageError(f"{source}: {e}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: the report must be a JSON object")
    return doc


def _min_bars(value: Any, listed: Any) -> Any:
    """The fewest bars any symbol had: 0 when the report lists a symbol (``listed``) that
    the bars leave out, since every symbol needs its bars."""
    if isinstance(value, dict):
        nums = list(value.values())
        if not nums or (isinstance(listed, list) and any(
                isinstance(s, str) and s not in value for s in listed)):
            return 0
        if not all(isinstance(n, int | float) and not isinstance(n, bool)
                   and n == n and abs(n) != float("inf") for n in nums):
            return value  # let validation name the field (NaN and infinity included)
        return int(min(nums))  # (beyond 64 bits: validation names it)
    return value


def _codes(messages: Any) -> tuple[int, ...]:
    if not isinstance(messages, list):
        return ()
    out: list[int] = []
    for m in messages:
        code = m.get("code") if isinstance(m, dict) else None
        if isinstance(code, int) and code not in out:
            out.append(code)
    return tuple(out)


def metrics_from(doc: Mapping[str, Any], fields: ReportFields, *, source: str) -> Metrics:
    """Pull the metrics out of a report through the configured JSON pointers."""
    required = {
        "run_id": fields.run_id,
        "started_at": fields.started_at,
        "finished_at": fields.finished_at,
        "paper_duration_seconds": fields.paper_duration_seconds,
        "filled_orders": fields.filled_orders,
        "symbol_data_availability_ratio": fields.symbol_data_availability_ratio,
        "min_bars_per_symbol": fields.bars_per_symbol,
        "runs_completed": fields.runs_completed,
    }
    optional = {
        "runs_requested": fields.runs_requested,
        "report_passed": fields.passed,
        "client_id": fields.client_id,
        "code_commit": fields.code_commit,
        "code_dirty": fields.code_dirty,
    }
    values: dict[str, Any] = {}
    for name, ptr in required.items():
        v = pointer(doc, ptr)
        if v is _MISSING:
            raise UsageError(f"{source}: missing {ptr.lstrip('/')} (the report's {name})")
        if name in ("started_at", "finished_at") and not isinstance(v, str):  # (a number
            raise UsageError(f"{source}: {ptr.lstrip('/')} must be an ISO-8601 time with a "  # is
                             f"zone, such as 2026-11-25T09:00:00Z, not {v!r}")  # no zone said)
        values[name] = v
    for name, ptr in optional.items():
        v = pointer(doc, ptr) if ptr else _MISSING
        if v is not _MISSING and v is not None:
            values[name] = v
    listed = pointer(doc, fields.symbols) if fields.symbols else _MISSING
    if listed is not _MISSING and listed is not None and not (
            isinstance(listed, list) and all(isinstance(x, str) for x in listed)):
        where = fields.symbols.lstrip("/")
        raise UsageError(f"{source}: {where}: should be a list of symbol names (the bars "
                         "are checked for each)", fix="write the symbols as a list of names, "
                         'or set [report.fields] symbols = "" on the base if the report '
                         "lists them otherwise")
    values["min_bars_per_symbol"] = _min_bars(values["min_bars_per_symbol"], listed)
    msgs = pointer(doc, fields.ibkr_messages) if fields.ibkr_messages else _MISSING
    values["ibkr_codes"] = _codes(msgs if msgs is not _MISSING else None)
    try:
        return build(Metrics, values)
    except Invalid as e:
        name = str(e.loc[0]) if e.loc else "report"
        ptr = {**required, **optional}.get(name, name)
        raise UsageError(f"{source}: {ptr.lstrip('/')}: {e.message}") from None


def check_times(m: Metrics, *, now: datetime, source: str) -> None:
    """A report finishing before it starts, or in the future, is bad input."""
    if m.finished_at < m.started_at:
        raise UsageError(
            f"{source}: finished {m.finished_at:%Y-%m-%dT%H:%M:%SZ} before it started "
            f"{m.started_at:%Y-%m-%dT%H:%M:%SZ}"
        )
    if m.finished_at > now + CLOCK_SKEW:
        raise UsageError(
            f"{source}: finishes in the future ({m.finished_at:%Y-%m-%dT%H:%M:%SZ}, now "
            f"{now:%Y-%m-%dT%H:%M:%SZ}); check the clock of the machine that wrote it"
        )


def parse_instant(text: str) -> datetime:
    """ISO-8601 with a zone (``Z`` accepted), as UTC, between 2000 and 2099."""
    shown = text if len(text) <= 40 else text[:40] + "…"
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"not an ISO-8601 time: {shown!r}") from None
    if dt.tzinfo is None:
        raise UsageError(f"time {shown!r} needs a zone, e.g. 2026-11-25T09:00:00Z")
    try:
        dt = dt.astimezone(UTC)
    except OverflowError:
        dt = EARLIEST - timedelta(days=1)
    if not EARLIEST <= dt < LATEST:
        raise UsageError(f"time {shown!r} is out of range ({EARLIEST.year}–"
                         f"{LATEST.year - 1})")
    return dt
