"""The evidence record (``reports/evidence/step1a/<run-id>.json``): the source of truth a
run commit carries. An `EvidenceRecord` is built once, complete, and never mutated; every
string in it is redacted. Its JSON form is the file's bytes (key order fixed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from ..config import Config
from ..frozen import frozen
from ..hashes import sha256
from ..shape import Invalid, as_dict, build, spec
from .report import Metrics
from .stamps import parse_stamp, stamp  # noqa: F401 - the record's times
from .verdict import Verdict

if TYPE_CHECKING:  # (writing a record needs these; verify only reads records)
    from ..ibkr.codes import Connectivity

T = TypeVar("T")


class Outcome(StrEnum):
    QUALIFYING = "qualifying"
    NON_QUALIFYING = "non-qualifying"
    FAILED_INFRA = "failed-infra"
    FAILED_MARKET_DATA = "failed-market-data"
    FAILED_CODE = "failed-code"

    @property
    def reported(self) -> bool:
        """Whether the run produced a report (and so metrics)."""
        return self in (Outcome.QUALIFYING, Outcome.NON_QUALIFYING)


def _valid_stamp(v: str) -> str:
    try:
        parse_stamp(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a UTC time YYYY-MM-DDTHH:MM:SSZ") from None
    return v


def file_bytes(record: Any) -> bytes:
    """A record's file: its JSON, keys in field order, two-space indent. ASCII: a bidi
    override or a zero-width space from a report shows in a review's diff as \\u202e,
    never as text that reads differently from what it holds."""
    doc = as_dict(record, by_alias=True)
    return (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode("utf-8")


def read_file(cls: type[T], data: bytes) -> T:
    """A record from its file's bytes; `Invalid` naming the first problem (bad JSON too)."""
    from .report import strict_loads

    try:
        doc = strict_loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise Invalid((), f"Invalid JSON: {e}") from None
    return build(cls, doc)


# Frozen classes checked by `shape.build` (no pydantic: every `record` and `verify`
# reads them). Field order is the file's key order.


@frozen
class RecordMetrics:
    paper_duration_seconds: int
    filled_orders: int
    symbol_data_availability_ratio: float
    min_bars_per_symbol: int
    runs_completed: int
    runs_requested: int = 1

    @property
    def report_passed(self) -> bool | None:
        """(a verdict's `MetricValues`: a record keeps no report flag)"""
        return None


@frozen
class RecordVerdict:
    qualifying: bool
    reasons: tuple[str, ...]
    report_passed: bool | None
    disagreement: str | None


@frozen
class CodeState:
    commit: str
    dirty: bool | None  # None: unknown (a report recorded after the fact)
    dirty_paths: tuple[str, ...] = ()


@frozen
class IbkrInfo:
    client_id: int | None
    codes: tuple[int, ...] = ()
    disconnects: int | None = None  # connectivity losses (1100 and the like) in the run
    restorations: int | None = None  # connectivity restored (1101, 1102)
    benign_messages: int | None = None  # farm-status information (2104 & co, benign_codes)


@frozen
class SessionRecord:
    command: tuple[str, ...] | None = None
    checks: str | None = None
    check_results: tuple[dict[str, Any], ...] = ()
    exit_code: int | None = None
    failure: str | None = None
    retry_after: str | None = None
    log: str | None = None
    handoff: str | None = None
    began: str | None = None  # when `run` started the session (None: not known: recorded
    # by hand, or by a release that did not keep it)

    _checks: ClassVar = {"began": _valid_stamp}


_STAMPS = {"recorded_at": _valid_stamp, "started_at": _valid_stamp,
           "finished_at": _valid_stamp, "voided_at": _valid_stamp}


@frozen(kw_only=True)
class _File:
    """A record file: its schema version first; `to_bytes` is the file."""

    schema_version: int = spec(1, alias="schema")

    _checks: ClassVar = _STAMPS

    def to_bytes(self) -> bytes:
        return file_bytes(self)


@frozen(kw_only=True)
class EvidenceRecord(_File):
    """One run as evidence."""

    kind: Literal["step1a-burnin"] = "step1a-burnin"
    run_id: str
    outcome: Outcome
    recorded_at: str  # 2026-11-25T09:00:00Z
    started_at: str
    finished_at: str
    metrics: RecordMetrics | None
    thresholds: dict[str, Any]
    verdict: RecordVerdict | None
    code: CodeState
    ibkr: IbkrInfo
    session: SessionRecord
    report: dict[str, Any] | None
    report_sha256: str | None

    @property
    def started(self) -> datetime:
        return parse_stamp(self.started_at)

    @property
    def finished(self) -> datetime:
        return parse_stamp(self.finished_at)

    @property
    def recorded(self) -> datetime:
        return parse_stamp(self.recorded_at)


def canonical(value: Any) -> bytes:
    """A stable byte form of a JSON value, for comparing report contents."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_path(cfg: Config, run_id: str) -> str:
    return f"{cfg.docs.evidence_dir.rstrip('/')}/{run_id}.json"


@frozen
class SessionInfo:
    """How the run came about; empty for a report recorded by hand."""

    command: Sequence[str] | None = None
    checks: str | None = None
    client_id: int | None = None
    exit_code: int | None = None
    retry_after: str | None = None
    failure: str | None = None
    ibkr_codes: Sequence[int] = ()
    check_results: Sequence[Mapping[str, Any]] = ()  # each check's status, reason, evidence
    began: datetime | None = None  # when `run` started the session, by its clock


@frozen
class Attachments:
    """Files committed next to the record, named before the record is built."""

    log: str | None = None
    handoff: str | None = None


# long: one literal holding every field of the record, in the file's key order
def build_record(
    *,
    cfg: Config,
    run_id: str,
    outcome: Outcome,
    recorded_at: datetime,
    started_at: datetime,
    finished_at: datetime,
    metrics: Metrics | None,
    verdict: Verdict | None,
    report: Mapping[str, Any] | None,
    code: CodeState,
    session: SessionInfo,
    attachments: Attachments = Attachments(),
    connectivity: Connectivity | None = None,  # the run's IBKR messages counted, if any
) -> EvidenceRecord:
    """The evidence record, complete; every string is redacted."""
    from ..redact import redact_json

    client_id = session.client_id if session.client_id is not None else (
        metrics.client_id if metrics else None)
    codes = list(dict.fromkeys([*(metrics.ibkr_codes if metrics else ()), *session.ibkr_codes]))
    redacted_report = redact_json(dict(report)) if report is not None else None
    doc: dict[str, Any] = {
        "schema": 1,
        "kind": "step1a-burnin",
        "run_id": run_id,
        "outcome": outcome.value,
        "recorded_at": stamp(recorded_at),
        "started_at": stamp(started_at),
        "finished_at": stamp(finished_at),
        "metrics": None if metrics is None else {
            "paper_duration_seconds": metrics.paper_duration_seconds,
            "filled_orders": metrics.filled_orders,
            "symbol_data_availability_ratio": metrics.symbol_data_availability_ratio,
            "min_bars_per_symbol": metrics.min_bars_per_symbol,
            "runs_completed": metrics.runs_completed,
            "runs_requested": metrics.runs_requested,
        },
        "thresholds": as_dict(cfg.qualify),
        "verdict": None if verdict is None else {
            "qualifying": verdict.qualifying,
            "reasons": list(verdict.reasons),
            "report_passed": verdict.report_passed,
            "disagreement": verdict.disagreement,
        },
        "code": {"commit": code.commit, "dirty": code.dirty,
                 "dirty_paths": list(code.dirty_paths[:50])},
        "ibkr": _ibkr(client_id, codes, connectivity),
        "session": {
            "command": list(session.command) if session.command else None,
            "checks": session.checks,
            "check_results": [dict(r) for r in session.check_results],
            "exit_code": session.exit_code,
            "failure": session.failure,
            "retry_after": session.retry_after,
            "log": attachments.log,
            "handoff": attachments.handoff,
            "began": stamp(session.began) if session.began is not None else None,
        },
        "report": redacted_report,
        "report_sha256": None if redacted_report is None else sha256(canonical(redacted_report)),
    }
    return build(EvidenceRecord, redact_json(doc))


def _ibkr(client_id: int | None, codes: list[int],
          connectivity: Connectivity | None) -> dict[str, Any]:
    counts = {} if connectivity is None else {
        "disconnects": connectivity.disconnects, "restorations": connectivity.restorations,
        "benign_messages": connectivity.benign}
    return {"client_id": client_id, "codes": codes, **counts}


@frozen(kw_only=True)
class VoidRecord(_File):
    """Why a run must not count, bound to the exact record it voids."""

    kind: Literal["void"] = "void"
    run_id: str
    reason: str
    voided_at: str  # 2026-11-25T09:00:00Z
    record: str  # the voided run's record, as committed
    record_sha256: str  # sha256 of that record's bytes


# What the checks of a report recorded by hand say (no pre-run checks ran).
HAND_RECORDED = "not run by evidencebot (report recorded by hand)"


def attempt_stem(started: datetime, outcome: str) -> str:
    """The name an attempt with no report is recorded under (`free_name` adds -2, -3 …)."""
    return f"{started:%Y%m%dT%H%M%SZ}-{outcome}"


def named_from(name: str, stem: str) -> bool:
    """Whether ``name`` is one `free_name` gives for ``stem``: it, or it with -2, -3 …"""
    suffix = name[len(stem):] if name.startswith(stem) else None
    return suffix == "" or (suffix is not None and suffix[:1] == "-" and suffix[1:2] != "0"
                            and suffix[1:].isascii() and suffix[1:].isdigit()
                            and suffix != "-1")  # (the first is the stem itself)
