"""`record`: from a report (or a failed attempt) to one ops commit with trailers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import config as config_mod
from . import evidence, git, history, ledger
from .config import Config, LoadedConfig
from .errors import UsageError
from .redact import redact
from .report import Verdict, check_times, load_json, metrics_from, verdict

MILESTONE = "MO-2"


@dataclass(frozen=True)
class Context:
    """Everything a command needs, resolved once: the repo, both configs, the clock."""

    repo: Path
    loaded: LoadedConfig  # the operator's (working tree) config
    base: LoadedConfig  # the config committed on the base branch: thresholds and rules
    clock: Callable[[], datetime]

    @property
    def now(self) -> datetime:
        return self.clock()

    @property
    def cfg(self) -> Config:
        return self.loaded.config

    @property
    def rules(self) -> Config:
        return self.base.config

    @property
    def author(self) -> ledger.Identity:
        return ledger.Identity.parse(self.cfg.ops.author)

    def tip(self) -> ledger.Tip:
        return ledger.tip(self.repo, branch=self.cfg.ops.branch, base=self.cfg.ops.base)

    def history(self, rev: str | None = None) -> list[history.OpsCommit]:
        return history.read(self.repo, rev or self.tip().sha, bot_author=self.cfg.ops.author)

    @property
    def consecutive(self) -> int:
        rule = self.rules.milestone.get(MILESTONE)
        return rule.consecutive if rule else 3


def open_context(
    repo: Path, *, config_path: Path | None, clock: Callable[[], datetime]
) -> Context:
    try:
        top = git.toplevel(repo)
    except git.GitError:
        raise UsageError(f"{repo} is not inside a git repository") from None
    loaded = config_mod.load(top, config_path)
    base_ref = loaded.config.ops.base
    base = LoadedConfig(loaded.config, None, "none")
    for ref in (f"refs/heads/{base_ref}", f"refs/remotes/origin/{base_ref}"):
        if git.rev_parse(top, ref):
            base = config_mod.load_at(top, ref)
            break
    return Context(top, loaded, base, clock)


Judge = Callable[[Context, str, str], None]


@dataclass(frozen=True)
class RecordResult:
    status: str  # "recorded" | "unchanged"
    run_id: str
    outcome: str
    record_path: str
    streak: int
    consecutive: int
    sha: str | None
    verdict: Verdict | None = None
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "run_id": self.run_id, "outcome": self.outcome,
            "record": self.record_path, "commit": self.sha,
            "streak": f"{self.streak}/{self.consecutive}",
            "qualifying": self.outcome == "qualifying",
            "reasons": list(self.verdict.reasons) if self.verdict else [],
            "disagreement": self.verdict.disagreement if self.verdict else None,
            "notes": list(self.notes),
        }


def record_report(
    ctx: Context,
    report_path: Path,
    *,
    log: bytes | None = None,
    session: evidence.SessionInfo | None = None,
    judge: Judge | None = None,
) -> RecordResult:
    """Record a burn-in report as evidence; idempotent on the run id."""
    source = str(report_path)
    try:
        data = report_path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read report {report_path}: {e.strerror}") from None
    doc = load_json(data, source=source)
    metrics = metrics_from(doc, ctx.cfg.report.fields, source=source)
    now = ctx.now
    check_times(metrics, now=now, source=source)
    code = ledger.code_state(ctx.repo, ctx.cfg.ops.code_paths)
    v = verdict(metrics, ctx.rules.qualify, code_dirty=code[1])
    record = evidence.build_record(
        cfg=ctx.rules, run_id=metrics.run_id, outcome=v.outcome, recorded_at=now,
        started_at=metrics.started_at, finished_at=metrics.finished_at, metrics=metrics,
        verdict=v, report=doc, code=code, session=session or evidence.SessionInfo(),
        log_path=None, handoff_path=None,
    )
    return commit_run(ctx, record, log=log, judge=judge, verdict_=v)


def commit_run(
    ctx: Context,
    record: dict[str, Any],
    *,
    log: bytes | None,
    judge: Judge | None,
    handoff: tuple[str, bytes] | None = None,
    verdict_: Verdict | None = None,
) -> RecordResult:
    """Write the record, row, entry (and log, handoff) as one commit on the ops branch."""
    cfg = ctx.cfg
    path = evidence.record_path(cfg, record["run_id"])
    if log is not None:
        record["session"]["log"] = path[:-len(".json")] + ".log"
    if handoff is not None:
        record["session"]["handoff"] = handoff[0]
    with ledger.lock(ctx.repo):
        at = ctx.tip()
        existing = git.show_bytes(ctx.repo, at.sha, path)
        if existing is not None:
            return _already(ctx, record, existing, path, verdict_)
        commits = ctx.history(at.sha)
        prior = history.streak(commits)
        outcome = record["outcome"]
        streak = history.next_streak(prior, outcome, dirty=record["code"]["dirty"])
        data = evidence.record_bytes(record)
        changes: dict[str, bytes] = {path: data}
        docs = read_docs(ctx, at.sha, cfg.docs.backlog, cfg.docs.session_log)
        rendered = evidence.render_documents(
            record, cfg=cfg, backlog=docs[cfg.docs.backlog], session_log=docs[cfg.docs.session_log],
            path=path, streak=streak, milestone=MILESTONE,
            checks_default="not run by evidencebot (report recorded by hand)",
        )
        if rendered.backlog is not None:
            changes[cfg.docs.backlog] = rendered.backlog
        changes[cfg.docs.session_log] = rendered.session_log
        if log is not None:
            changes[record["session"]["log"]] = redact(log.decode("utf-8", "replace")).encode()
        if handoff is not None:
            changes[handoff[0]] = redact(handoff[1].decode("utf-8", "replace")).encode()
        trailers = evidence.run_trailers(
            record, path=path, data=data, streak=streak, consecutive=ctx.consecutive,
            config_sha=ctx.base.sha256)
        message = evidence.run_message(record, trailers, streak=streak,
                                       consecutive=ctx.consecutive, milestone=MILESTONE)
        sha = ledger.commit(
            ctx.repo, at=at, changes=changes, message=message, author=ctx.author, when=ctx.now,
            judge=(lambda old, new: judge(ctx, old, new)) if judge else None,
        )
    notes: tuple[str, ...] = () if rendered.backlog is not None else (
        f"run {record['run_id']} already has a hand-written tracker row; no second row added",)
    if ctx.loaded.config.qualify != ctx.rules.qualify:
        notes += (f"[qualify] in your config differs from the one committed on "
                  f"{ctx.cfg.ops.base}; the verdict used {ctx.cfg.ops.base}'s thresholds",)
    return RecordResult("recorded", record["run_id"], outcome, path, streak,
                        ctx.consecutive, sha, verdict_, notes)


def _already(ctx: Context, record: dict[str, Any], existing: bytes, path: str,
             v: Verdict | None) -> RecordResult:
    try:
        old = json.loads(existing.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        old = {}
    if old.get("report_sha256") != record.get("report_sha256") or record.get(
            "report_sha256") is None:
        raise UsageError(
            f"run {record['run_id']} is already recorded ({path}) with different content; "
            "a record is never rewritten"
        )
    streak = history.streak(ctx.history())
    return RecordResult("unchanged", record["run_id"], old.get("outcome", ""), path, streak,
                        ctx.consecutive, None, v)


def read_docs(ctx: Context, rev: str, *names: str) -> dict[str, bytes]:
    """The documents evidencebot edits, as of ``rev``; a missing one is bad input."""
    out: dict[str, bytes] = {}
    for name in names:
        data = git.show_bytes(ctx.repo, rev, name)
        if data is None:
            raise UsageError(f"{name} is not on {ctx.cfg.ops.branch} (nor its base); "
                             "evidencebot records into the existing documents")
        out[name] = data
    return out


def record_attempt(
    ctx: Context,
    *,
    outcome: str,
    started: datetime,
    session: evidence.SessionInfo,
    log: bytes,
    judge: Judge | None,
    handoff: Callable[[str, str], tuple[str, bytes]] | None = None,
) -> RecordResult:
    """Record a run that produced no report (failed-infra, -market-data, -code).

    ``handoff(run_id, record_path)`` renders the DEBUG packet for a code bug."""
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{outcome}"
    code = ledger.code_state(ctx.repo, ctx.cfg.ops.code_paths)
    now = ctx.now
    record = evidence.build_record(
        cfg=ctx.rules, run_id=run_id, outcome=outcome, recorded_at=now, started_at=started,
        finished_at=now, metrics=None, verdict=None, report=None, code=code, session=session,
        log_path=None, handoff_path=None)
    packet = handoff(run_id, evidence.record_path(ctx.cfg, run_id)) if handoff else None
    return commit_run(ctx, record, log=log, judge=judge, handoff=packet)


def record_refusal(ctx: Context, *, checks: list[dict[str, Any]], failed: list[str],
                   next_window: str | None, judge: Judge | None) -> str:
    """A session the pre-run checks refused: an ops commit of kind `check`."""
    from . import __version__, mdedit
    from .trailers import render_message

    now = ctx.now
    path = f"reports/evidence/checks/{now:%Y%m%dT%H%M%SZ}.json"
    record = {"schema": 1, "kind": "check", "recorded_at": f"{now:%Y-%m-%dT%H:%M:%SZ}",
              "failed": failed, "next_window": next_window, "checks": checks}
    data = evidence.redact_bytes(evidence.record_bytes(record))
    reasons = "; ".join(f"{c['name']}: {c['reason']}" for c in checks if c["status"] == "FAIL")
    with ledger.lock(ctx.repo):
        at = ctx.tip()
        log = read_docs(ctx, at.sha, ctx.cfg.docs.session_log)[ctx.cfg.docs.session_log]
        entry = "\n".join([
            f"## {now:%Y-%m-%d %H:%M} UTC — OPS — session skipped: pre-run checks failed",
            "", f"- Milestone: {MILESTONE}", f"- Pre-run checks: {reasons}",
            "- Result: not run", f"- Evidence: {path}",
            f"- Next: {'next window ' + next_window if next_window else 'fix the checks above'}",
        ])
        changes = {path: data,
                   ctx.cfg.docs.session_log: evidence.redact_bytes(mdedit.append_entry(log, entry))}
        trailers = [("Evidence-Kind", "check"), ("Check-Failed", ", ".join(failed))]
        if next_window:
            trailers.append(("Check-Next-Window", next_window))
        trailers += [("Session-Type", "OPS"), ("Evidencebot-Version", __version__),
                     ("Config-Sha256", ctx.base.sha256)]
        message = render_message(f"evidence(check): session skipped ({', '.join(failed)})",
                                 f"Pre-run checks failed: {reasons}.", trailers)
        return ledger.commit(ctx.repo, at=at, changes=changes, message=redact(message),
                             author=ctx.author, when=now,
                             judge=(lambda o, n: judge(ctx, o, n)) if judge else None)
