"""Evidence records and everything rendered from them: the tracker row, the session-log
entry, the commit message and its trailers.

The record (``reports/evidence/step1a/<run-id>.json``) is the source of truth; the row,
the entry and the trailers are functions of it, so `verify` can recompute the trailers
and a push that lost a race can re-render the commit onto a new tip.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import __version__, mdedit
from .config import Config
from .redact import redact, redact_json
from .report import Metrics, Verdict, fmt_ratio, outcome_note
from .templating import render
from .trailers import render_message

STREAK_LINE = re.compile(r"Consecutive qualifying runs:\s*\d+\s+of\s+\d+")


def canonical(value: Any) -> bytes:
    """A stable byte form of a JSON value, for comparing report contents."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_path(cfg: Config, run_id: str) -> str:
    return f"{cfg.docs.evidence_dir.rstrip('/')}/{run_id}.json"


@dataclass(frozen=True)
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


def build_record(
    *,
    cfg: Config,
    run_id: str,
    outcome: str,
    recorded_at: datetime,
    started_at: datetime,
    finished_at: datetime,
    metrics: Metrics | None,
    verdict: Verdict | None,
    report: Mapping[str, Any] | None,
    code: tuple[str, bool, list[str]],
    session: SessionInfo,
    log_path: str | None,
    handoff_path: str | None,
) -> dict[str, Any]:
    """The evidence record as a JSON-ready dict; every string is redacted."""
    commit, dirty, dirty_paths = code
    client_id = session.client_id if session.client_id is not None else (
        metrics.client_id if metrics else None)
    codes = list(dict.fromkeys([*(metrics.ibkr_codes if metrics else ()), *session.ibkr_codes]))
    redacted_report = redact_json(dict(report)) if report is not None else None
    rec: dict[str, Any] = {
        "schema": 1,
        "kind": "step1a-burnin",
        "run_id": run_id,
        "outcome": outcome,
        "recorded_at": _iso(recorded_at),
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "metrics": None if metrics is None else {
            "paper_duration_seconds": metrics.paper_duration_seconds,
            "filled_orders": metrics.filled_orders,
            "symbol_data_availability_ratio": metrics.symbol_data_availability_ratio,
            "min_bars_per_symbol": metrics.min_bars_per_symbol,
            "runs_completed": metrics.runs_completed,
            "runs_requested": metrics.runs_requested,
        },
        "thresholds": cfg.qualify.model_dump(),
        "verdict": None if verdict is None else {
            "qualifying": verdict.qualifying,
            "reasons": list(verdict.reasons),
            "report_passed": verdict.report_passed,
            "disagreement": verdict.disagreement,
        },
        "code": {"commit": commit, "dirty": dirty, "dirty_paths": dirty_paths[:50]},
        "ibkr": {"client_id": client_id, "codes": codes},
        "session": {
            "command": list(session.command) if session.command else None,
            "checks": session.checks,
            "check_results": [dict(r) for r in session.check_results],
            "exit_code": session.exit_code,
            "failure": session.failure,
            "retry_after": session.retry_after,
            "log": log_path,
            "handoff": handoff_path,
        },
        "report": redacted_report,
        "report_sha256": None if redacted_report is None else sha256(canonical(redacted_report)),
    }
    return redact_json(rec)


def record_bytes(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- what the trailers say, recomputable from the record ------------------------------

def run_trailers(
    record: Mapping[str, Any], *, path: str, data: bytes, streak: int, consecutive: int,
    config_sha: str, version: str = __version__,
) -> list[tuple[str, str]]:
    """The trailer block of a run commit, from its record (``verify`` calls this too)."""
    t: list[tuple[str, str]] = [
        ("Evidence-Kind", "step1a-burnin"),
        ("Evidence-Run-Id", record["run_id"]),
        ("Evidence-Outcome", record["outcome"]),
        ("Evidence-Record", path),
        ("Evidence-Record-Sha256", sha256(data)),
    ]
    m = record.get("metrics")
    if m and record["outcome"] in ("qualifying", "non-qualifying"):
        t += [
            ("Burnin-Paper-Duration-Seconds", str(m["paper_duration_seconds"])),
            ("Burnin-Filled-Orders", str(m["filled_orders"])),
            ("Burnin-Symbol-Data-Availability-Ratio",
             fmt_ratio(m["symbol_data_availability_ratio"])),
            ("Burnin-Min-Bars-Per-Symbol", str(m["min_bars_per_symbol"])),
        ]
    t.append(("Burnin-Streak", f"{streak}/{consecutive}"))
    t += [("Code-Commit", record["code"]["commit"]),
          ("Code-Dirty", "true" if record["code"]["dirty"] else "false")]
    if record["ibkr"].get("client_id") is not None:
        t.append(("Ibkr-Client-Id", str(record["ibkr"]["client_id"])))
    session = record.get("session") or {}
    if record["ibkr"].get("codes") and record["outcome"].startswith("failed"):
        t.append(("Ibkr-Codes", ",".join(str(c) for c in record["ibkr"]["codes"])))
    if session.get("retry_after"):
        t.append(("Retry-After", session["retry_after"]))
    if session.get("handoff"):
        t.append(("Handoff", session["handoff"]))
    t += [("Session-Type", "OPS"), ("Evidencebot-Version", version),
          ("Config-Sha256", config_sha)]
    return t


def result_text(record: Mapping[str, Any]) -> str:
    m, v = record.get("metrics"), record.get("verdict")
    outcome = record["outcome"]
    if m and v:
        if v["qualifying"]:
            return (f"qualifying ({m['filled_orders']} filled, data ratio "
                    f"{fmt_ratio(m['symbol_data_availability_ratio'])}, "
                    f"min bars {m['min_bars_per_symbol']})")
        return f"non-qualifying ({'; '.join(v['reasons'])})"
    failure = (record.get("session") or {}).get("failure")
    return f"{outcome} ({failure})" if failure else outcome


def run_message(record: Mapping[str, Any], trailers: list[tuple[str, str]], *, streak: int,
                consecutive: int, milestone: str) -> str:
    v = record.get("verdict") or {}
    subject = f"evidence(step1a): {record['run_id']} {record['outcome']}"
    body = render("commit_body.j2", kind="step1a-burnin", run_id=record["run_id"],
                  result=result_text(record), reasons=v.get("reasons") or [],
                  disagreement=v.get("disagreement"), streak=streak,
                  consecutive=consecutive, milestone=milestone)
    return redact(render_message(subject, body, trailers))


# --- the documents ---------------------------------------------------------------------

def tracker_values(record: Mapping[str, Any], *, number: int, path: str) -> dict[str, str]:
    m = record.get("metrics")
    v = record.get("verdict")
    if v:
        outcome = outcome_note(Verdict(v["qualifying"], tuple(v["reasons"]), None, None))
    else:
        outcome = result_text(record)
        retry = (record.get("session") or {}).get("retry_after")
        if retry:
            outcome += f"; retry scheduled {retry}"
    client = record["ibkr"].get("client_id")
    return {
        "#": str(number),
        "Date (UTC)": record["started_at"][:10],
        "Run ID": record["run_id"],
        "Duration (s)": str(m["paper_duration_seconds"]) if m else "—",
        "Filled": str(m["filled_orders"]) if m else "—",
        "Data ratio": fmt_ratio(m["symbol_data_availability_ratio"]) if m else "—",
        "Min bars": str(m["min_bars_per_symbol"]) if m else "—",
        "Client ID": "" if client is None else str(client),
        "Outcome": outcome,
        "Evidence": path,
    }


@dataclass(frozen=True)
class Rendered:
    backlog: bytes | None  # None: the row already exists (hand-written), nothing changes
    session_log: bytes
    row_number: int | None


def render_documents(
    record: Mapping[str, Any], *, cfg: Config, backlog: bytes, session_log: bytes,
    path: str, streak: int, milestone: str, checks_default: str,
) -> Rendered:
    """The backlog with the run's row (and streak line), the log with the run's entry."""
    tracker = cfg.docs.tracker_section
    table = mdedit.first_table(mdedit.parse(backlog), tracker)
    run_col = _col(table, "Run ID")
    existing = [r for r in table.rows if run_col is not None and run_col < len(r)
                and r[run_col] == record["run_id"]]
    new_backlog: bytes | None = None
    number: int | None = None
    if not existing:
        number = _next_number(table)
        values = tracker_values(record, number=number, path=path)
        new_backlog = mdedit.append_row(
            backlog, tracker, {k: v for k, v in values.items() if table.has_column(k)})
        consecutive = cfg.milestone.get(milestone)
        total = consecutive.consecutive if consecutive else 3
        new_backlog = mdedit.replace_line(
            new_backlog, tracker, STREAK_LINE,
            f"Consecutive qualifying runs: {streak} of {total}")
        new_backlog = redact_bytes(new_backlog)
    session = record.get("session") or {}
    command = session.get("command")
    entry = render(
        "session_entry.md.j2",
        when=record["recorded_at"][:16].replace("T", " "),
        title=f"Step 1A burn-in {record['run_id']}",
        milestone=milestone,
        checks=session.get("checks") or checks_default,
        command=f"`{_join(command)}`" if command else "none (report recorded by hand)",
        client_id=record["ibkr"].get("client_id") or "unknown",
        code_commit=record["code"]["commit"],
        code_dirty=record["code"]["dirty"],
        result=result_text(record),
        evidence=path + (f"; {tracker} row {number}" if number else "")
        + (f"; handoff {session['handoff']}" if session.get("handoff") else ""),
        next=_next_step(record, streak, cfg, milestone),
    )
    return Rendered(new_backlog, redact_bytes(mdedit.append_entry(session_log, entry)), number)


def redact_bytes(data: bytes) -> bytes:
    # Only the text is redacted; a file that is not UTF-8 is left for the scope rules.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    red = redact(text)
    return data if red == text else red.encode("utf-8")


def _col(table: mdedit.Table, name: str) -> int | None:
    try:
        return table.column(name)
    except mdedit.MarkdownEditError:
        return None


def _next_number(table: mdedit.Table) -> int:
    nums = [int(r[0]) for r in table.rows if r and r[0].isdigit()]
    return (max(nums) if nums else len(table.rows)) + 1


def _join(argv: Sequence[str]) -> str:
    """The command line as the operator would type it (POSIX quoting)."""
    return shlex.join(argv)


def _next_step(record: Mapping[str, Any], streak: int, cfg: Config, milestone: str) -> str:
    rule = cfg.milestone.get(milestone)
    need = rule.consecutive if rule else 3
    outcome = record["outcome"]
    retry = (record.get("session") or {}).get("retry_after")
    if outcome == "failed-code":
        return "DEBUG session: see the handoff packet"
    if retry:
        return f"retry in the next window ({retry})"
    if outcome == "failed-infra":
        return "fix the gateway, then retry in the next window"
    if streak >= need:
        return f"{milestone} streak met ({streak}/{need}): close {milestone}"
    return f"run {streak + 1} of {need} in the next window"
