"""Burn-in report → Metrics → Verdict. Pure: the clock is passed in.

The report's own ``passed`` flag is never trusted: the verdict is recomputed from the
`[qualify]` thresholds, and a disagreement is noted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .config import Qualify, ReportFields
from .errors import UsageError

CLOCK_SKEW = timedelta(minutes=5)
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Metrics(BaseModel):
    """What the verdict needs from a report, however the bot names its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    started_at: datetime
    finished_at: datetime
    paper_duration_seconds: int = Field(ge=0)
    filled_orders: int = Field(ge=0)
    symbol_data_availability_ratio: float = Field(ge=0, le=1)
    min_bars_per_symbol: int = Field(ge=0)
    runs_completed: int = Field(ge=0)
    runs_requested: int = Field(1, ge=1)
    report_passed: bool | None = None
    client_id: int | None = None
    ibkr_codes: tuple[int, ...] = ()

    @field_validator("run_id")
    @classmethod
    def _safe_run_id(cls, v: str) -> str:
        if not RUN_ID.match(v):
            raise ValueError("must be letters, digits, '.', '_' or '-' (it names a file)")
        return v

    @field_validator("started_at", "finished_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("must carry a time zone (e.g. a trailing 'Z')")
        return v.astimezone(UTC)


@dataclass(frozen=True)
class Verdict:
    qualifying: bool
    reasons: tuple[str, ...]  # every threshold that failed, in a fixed order
    report_passed: bool | None
    disagreement: str | None  # set when the report's own flag says otherwise

    @property
    def outcome(self) -> str:
        return "qualifying" if self.qualifying else "non-qualifying"


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
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def load_json(data: bytes, *, source: str) -> dict[str, Any]:
    """Decode a report (a UTF-8 BOM is fine: PowerShell writes one)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise UsageError(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: the report must be a JSON object")
    return doc


def _min_bars(value: Any) -> Any:
    if isinstance(value, dict):
        nums = list(value.values())
        if not nums:
            return 0
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in nums):
            return value  # let validation name the field
        return int(min(nums))
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
    }
    values: dict[str, Any] = {}
    for name, ptr in required.items():
        v = pointer(doc, ptr)
        if v is _MISSING:
            raise UsageError(f"{source}: missing {ptr.lstrip('/')} (the report's {name})")
        values[name] = v
    for name, ptr in optional.items():
        v = pointer(doc, ptr) if ptr else _MISSING
        if v is not _MISSING and v is not None:
            values[name] = v
    values["min_bars_per_symbol"] = _min_bars(values["min_bars_per_symbol"])
    msgs = pointer(doc, fields.ibkr_messages) if fields.ibkr_messages else _MISSING
    values["ibkr_codes"] = _codes(msgs if msgs is not _MISSING else None)
    try:
        return Metrics.model_validate(values)
    except ValidationError as e:
        err = e.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "report"
        ptr = {**required, **optional}.get(name, name)
        raise UsageError(f"{source}: {ptr.lstrip('/')}: {err['msg']}") from None


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


class MetricValues(Protocol):
    """What a verdict reads: a Metrics, or the metrics stored in a record (verify)."""

    @property
    def paper_duration_seconds(self) -> int: ...
    @property
    def filled_orders(self) -> int: ...
    @property
    def symbol_data_availability_ratio(self) -> float: ...
    @property
    def min_bars_per_symbol(self) -> int: ...
    @property
    def runs_completed(self) -> int: ...
    @property
    def runs_requested(self) -> int: ...
    @property
    def report_passed(self) -> bool | None: ...


def verdict(m: MetricValues, q: Qualify, *, code_dirty: bool) -> Verdict:
    """Every failed threshold, in a fixed order; never the report's own flag."""
    reasons: list[str] = []
    if m.paper_duration_seconds < q.min_paper_duration_seconds:
        reasons.append(
            f"paper duration {m.paper_duration_seconds} s < {q.min_paper_duration_seconds} s"
        )
    if m.filled_orders < q.min_filled_orders:
        reasons.append(f"{m.filled_orders} filled orders < {q.min_filled_orders}")
    if m.symbol_data_availability_ratio < q.min_symbol_data_availability_ratio:
        reasons.append(
            f"data ratio {fmt_ratio(m.symbol_data_availability_ratio)} < "
            f"{fmt_ratio(q.min_symbol_data_availability_ratio)}"
        )
    if m.min_bars_per_symbol < q.min_bars_per_symbol:
        reasons.append(f"min bars per symbol {m.min_bars_per_symbol} < {q.min_bars_per_symbol}")
    if m.runs_completed < m.runs_requested:
        reasons.append(f"runs completed {m.runs_completed} of {m.runs_requested}")
    if code_dirty and not q.allow_dirty_code:
        reasons.append("code under test was dirty")
    ok = not reasons
    disagreement = None
    if m.report_passed is not None and m.report_passed != ok:
        disagreement = (
            f"the report says passed={str(m.report_passed).lower()}, the thresholds say "
            f"{'qualifying' if ok else 'non-qualifying'}"
        )
    return Verdict(ok, tuple(reasons), m.report_passed, disagreement)


def fmt_ratio(x: float) -> str:
    """A ratio as the shortest faithful decimal: 0.857, 0.8, 1.0."""
    return repr(round(float(x), 6))


def outcome_note(v: Verdict) -> str:
    """The tracker's Outcome cell: 'qualifying' or 'non-qualifying: <reasons>'."""
    return v.outcome if v.qualifying else f"non-qualifying: {'; '.join(v.reasons)}"


def parse_instant(text: str) -> datetime:
    """ISO-8601 with a zone (``Z`` accepted), as UTC."""
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"not an ISO-8601 time: {text!r}") from None
    if dt.tzinfo is None:
        raise UsageError(f"time {text!r} needs a zone, e.g. 2026-11-25T09:00:00Z")
    return dt.astimezone(UTC)
