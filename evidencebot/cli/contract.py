"""The `--json` contract: one pydantic model per command's output. Every command prints one
JSON object with `"schema": "evidencebot.<command>/1"`; numbers are numbers, booleans
booleans, absent values null; a streak and a run have one shape everywhere. A failed
command prints `{"schema", "error": {"message", "fix", "exit_code"}}` (see `state.fail`).
`evidencebot schema COMMAND` prints a command's JSON Schema, generated from these models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .entries import _float, _int, schema_name


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Streak(Out):
    milestone: str
    count: int
    needed: int
    closed: bool


class Metrics(Out):
    paper_duration_seconds: int
    filled_orders: int
    symbol_data_availability_ratio: float
    min_bars_per_symbol: int


class Run(Out):
    """One run, as every command shows it."""

    run_id: str
    outcome: str
    qualifying: bool
    started_at: str | None  # ISO-8601 UTC
    finished_at: str | None
    commit: str | None  # the evidence commit
    record: str | None  # the record's path
    reasons: list[str]  # why it does not qualify (empty when it does)
    metrics: Metrics | None
    code_commit: str | None
    code_dirty: bool | None  # null: unknown
    client_id: int | None
    disconnects: int | None
    voided: bool


class ErrorInfo(Out):
    message: str
    fix: str | None
    exit_code: int


class Failure(Out):
    """What any command prints under --json when it fails."""

    schema_: str = Field(alias="schema")
    error: ErrorInfo


class Check(Out):
    name: str
    status: Literal["PASS", "FAIL", "WARN"]
    reason: str
    fix: str
    evidence: str
    data: dict[str, Any]


class CheckOut(Out):
    ok: bool
    client_id: int | None
    checks: list[Check]
    error: ErrorInfo | None = None  # when a check failed (exit 3)


class Entry(Out):
    """One ops commit in `history`."""

    commit: str
    date: str  # the commit's date
    kind: str
    run_id: str | None
    outcome: str | None
    voided: bool
    reasons: list[str]  # why the run did not qualify
    started_at: str | None
    duration_s: int | None
    filled: int | None
    data_ratio: float | None
    min_bars: int | None
    client_id: int | None
    streak: int | None  # Burnin-Streak after this run
    code_dirty: bool | None
    disconnects: int | None
    handoff: str | None
    retry_after: str | None
    problems: list[str]


class HistoryOut(Out):
    branch: str
    exists: bool
    streak: Streak
    holds: bool | None = None  # whether the closure holds (as `Milestone.holds`)
    entries: list[Entry]


class RecordOut(Out):
    status: Literal["recorded", "unchanged"]
    run: Run
    streak: Streak
    commit: str | None
    disagreement: str | None
    notes: list[str]


class MergeRequest(Out):
    provider: str
    action: str
    url: str | None
    push: str
    commands: list[str]
    description_file: str | None


class CloseOut(Out):
    status: Literal["closed", "already-closed"]
    milestone: str
    commit: str | None
    runs: list[Run]
    description: str
    merge_request: MergeRequest


class Violation(Out):
    commit: str
    rule: str
    message: str
    fix: str
    path: str
    lines: list[int] | None
    section: str


class VerifyOut(Out):
    ok: bool
    range: str
    commits: int
    runs: list[Run]
    squashed: bool
    code: bool  # the range holds no ops commit: judged as code (`judge_code`)
    violations: list[Violation]


class InitOut(Out):
    written: list[str]
    pre_commit_config: str


class Section(Out):
    title: str
    source: str
    text: str


class ContextOut(Out):
    sections: list[Section]


class RunOut(Out):
    """`run`: what happened. A failed run is recorded (run) and reported (error)."""

    status: Literal["recorded", "unchanged", "refused", "dry-run", "failed"]
    run: Run | None
    streak: Streak | None
    commit: str | None  # the evidence commit (the run's, or the refusal's)
    added: bool  # whether this run added a commit
    checks: list[Check]
    command: list[str]
    params: dict[str, Any] | None  # what the wrapper was asked to do ([burnin] + options)
    client_id: int | None
    notes: list[str]
    closure: CloseOut | None
    error: ErrorInfo | None = None
    retry_after: str | None = None  # a market-data failure's retry (newcomer 16)
    # what became of the push after the run was recorded: pushed, up-to-date, no remote;
    # null when none was made (--no-push, a closure's merge request pushed it, a failure)
    push: str | None = None


class Milestone(Out):
    streak: Streak
    runs: list[Run]  # the runs of the current streak
    closed_on: str | None
    closed_by: list[str]  # the run ids a closure names
    holds: bool | None = None  # whether the closure holds (verify: closure-contradicted)


class StatusOut(Out):
    milestones: list[Milestone]
    branch: str
    tip: str | None
    runs: list[Run]  # every run on the ops branch, newest first
    last_run: Run | None  # the run that started last
    voided: dict[str, str]  # run id -> why it was voided
    hand_written_rows: list[str]
    malformed: list[str]
    lines: list[str]
    unpushed: int | None = None  # ops commits the [ops] remote lacks (None: no remote)


class VoidOut(Out):
    status: Literal["voided", "unchanged"]
    run_id: str
    record: str
    commit: str
    reason: str
    streak: Streak


class ReportOut(Out):
    path: str


class ExplainOut(Out):
    topic: Literal["trailers", "scope"]
    kinds: list[str] | None = None
    trailers: list[dict[str, Any]] | None = None
    scope: list[dict[str, Any]] | None = None
    verify: list[dict[str, Any]] | None = None


class InstallHooksOut(Out):
    installed: list[str]
    kept: dict[str, str]  # a replaced hook evidencebot did not write → where it now is


class DemoOut(Out):
    directory: str
    repo: str
    seconds: float


class NextOut(Out):
    next_start: str
    reason: str
    pending_retry: str | None
    # (newcomer 16: the text said whether it is due and for which run; --json did not)
    pending_retry_due: bool | None = None
    pending_retry_run_id: str | None = None
    pending_retry_commit: str | None = None


class ScheduleOut(Out):
    format: Literal["cron", "systemd", "windows"]
    at: str
    days: list[str]
    command: list[str]
    log: str
    written: list[str]
    files: dict[str, str]


class Delivery(Out):
    url: str
    ok: bool
    error: str


class NotifyOut(Out):
    ok: bool
    deliveries: list[Delivery]


class SchemaOut(Out):
    command: str
    json_schema: dict[str, Any]


class HookOut(Out):
    hook: Literal["pre-commit", "commit-msg"] | None  # None: the command line named no hook
    applies: bool  # an ops commit (the guard's business)
    ok: bool
    problems: list[str]
    exit_code: int
    error: ErrorInfo | None = None


class SimGatewayOut(Out):
    host: str
    port: int


OUTPUTS: dict[str, type[Out]] = {
    "init": InitOut, "context": ContextOut, "check": CheckOut, "run": RunOut,
    "record": RecordOut, "history": HistoryOut, "status": StatusOut, "close": CloseOut,
    "verify": VerifyOut, "install-hooks": InstallHooksOut, "demo": DemoOut,
    "next": NextOut, "schedule": ScheduleOut, "notify": NotifyOut, "schema": SchemaOut,
    "void": VoidOut, "report": ReportOut, "explain": ExplainOut, "hook": HookOut,
    "sim-gateway": SimGatewayOut,
}


def json_schema(command: str) -> dict[str, Any]:
    """The JSON Schema of ``command``'s --json output: its document, or a failure."""
    model = OUTPUTS[command]
    ok = model.model_json_schema(mode="serialization")
    ok.setdefault("properties", {})["schema"] = {"const": schema_name(command)}
    ok.setdefault("required", []).append("schema")
    failed = Failure.model_json_schema(by_alias=True)
    failed["properties"]["schema"] = {"const": schema_name(command)}
    defs = {**ok.pop("$defs", {}), **failed.pop("$defs", {})}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://evidencebot.invalid/schema/{command}/1",
            "title": schema_name(command), "anyOf": [ok, failed], "$defs": defs}


def document(command: str, out: Out) -> dict[str, Any]:
    """``out`` as the one JSON object ``command`` prints."""
    return {"schema": schema_name(command), **out.model_dump(mode="json")}


def streak(s: Any) -> Streak:
    """An evidence.streak.Streak in the contract's shape."""
    return Streak(milestone=s.milestone, count=s.count, needed=s.needed,
                  closed=s.closed_by is not None)


def run_of_record(record: Any, *, commit: str | None, path: str | None,
                  voided: bool = False) -> Run:
    """A run from its EvidenceRecord."""
    m, v = record.metrics, record.verdict
    reasons = list(v.reasons) if v else ([record.session.failure] if record.session.failure
                                         else [])
    return Run(
        run_id=record.run_id, outcome=record.outcome.value,
        qualifying=record.outcome.value == "qualifying" and not voided,
        started_at=record.started_at, finished_at=record.finished_at, commit=commit,
        record=path, reasons=reasons,
        metrics=None if m is None else Metrics(
            paper_duration_seconds=m.paper_duration_seconds, filled_orders=m.filled_orders,
            symbol_data_availability_ratio=m.symbol_data_availability_ratio,
            min_bars_per_symbol=m.min_bars_per_symbol),
        code_commit=record.code.commit, code_dirty=record.code.dirty,
        client_id=record.ibkr.client_id, disconnects=record.ibkr.disconnects, voided=voided)


def run_of_commit(c: Any, *, reasons: list[str] | None = None, voided: bool = False) -> Run:
    """A run from its commit's trailers (reasons, when known, from its record)."""
    t = c.trailers
    filled = _int(t.get("Burnin-Filled-Orders"))
    metrics = None if filled is None else Metrics(
        paper_duration_seconds=_int(t.get("Burnin-Paper-Duration-Seconds")) or 0,
        filled_orders=filled,
        symbol_data_availability_ratio=_float(t.get("Burnin-Symbol-Data-Availability-Ratio"))
        or 0.0, min_bars_per_symbol=_int(t.get("Burnin-Min-Bars-Per-Symbol")) or 0)
    dirty = {"true": True, "false": False}.get(t.get("Code-Dirty", ""))
    return Run(run_id=c.run_id, outcome=c.outcome,
               qualifying=c.outcome == "qualifying" and not voided,
               started_at=c.started or None, finished_at=c.finished or None, commit=c.sha,
               record=t.get("Evidence-Record"), reasons=list(reasons or []), metrics=metrics,
               code_commit=t.get("Code-Commit"), code_dirty=dirty,
               client_id=_int(t.get("Ibkr-Client-Id")),
               disconnects=_int(t.get("Ibkr-Disconnects")), voided=voided)
