"""`record`: from a report (or a failed attempt, or a refused session) to one ops commit.

Every commit lands through `Context.append` (lock → tip → draft → judge → advance); the
drafts are built by `run_draft` and `refusal_draft`, which a rebuild after a lost push
race calls again on the remote's tip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import __version__, git
from ..defaults import CHECKS_DIR
from ..errors import UsageError
from ..evidence import streak as streaks
from ..evidence import trailers
from ..evidence.history import OpsCommit
from ..evidence.record import (
    HAND_RECORDED,
    Attachments,
    CodeState,
    EvidenceRecord,
    Outcome,
    SessionInfo,
    attempt_stem,
    build_record,
    read_file,
    record_path,
)
from ..evidence.render import redact_bytes, render_documents, run_message, run_trailers
from ..evidence.report import check_times, load_json, metrics_from, read_report
from ..evidence.verdict import Verdict
from ..frozen import field, frozen
from ..md import edit as mdedit
from ..md.edit import MarkdownEditError
from ..redact import redact
from ..textsafe import markdown
from .commit import Draft, Tip
from .messages import kept_log, log_path, report_messages, run_connectivity
from .refusals import (
    refuse_case_twin,
    refuse_contradicted_row,
    refuse_second_session,
    same_or_refuse,
)
from .runparts import verdict_for
from .workspace import Context


@frozen
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
    record: EvidenceRecord | None = None  # the record (the earlier one when unchanged)
    was_closed: bool = False  # the burn-in milestone was closed before this run


def record_report(ctx: Context, report_path: Path, *, log: bytes | None = None,
                  session: SessionInfo | None = None,
                  live_code: CodeState | None = None) -> RecordResult:
    """Record a burn-in report as evidence; idempotent on the run id.

    ``live_code``: the run just happened (`run`), and this was the operator's checkout
    when it started: the code under test, dirty if the checkout is not the same now (a
    branch switched or a file undone while the session ran); otherwise the code comes
    from the report, or is the base branch as of the run's start with its dirtiness
    unknown — never today's working tree."""
    source = str(report_path)
    doc = load_json(read_report(report_path), source=source)
    metrics = metrics_from(doc, ctx.rules.report.fields, source=source)
    now = ctx.now
    check_times(metrics, now=now, source=source)
    if live_code is not None:
        code = ctx.live_code(since=live_code)
    elif metrics.code_commit is not None:
        code = CodeState(commit=metrics.code_commit, dirty=metrics.code_dirty)
    else:
        code = ctx.code_as_of(metrics.started_at)
    conn = run_connectivity(ctx, kept_log(log), report_messages(ctx, doc))
    v = verdict_for(ctx, metrics, started=metrics.started_at, finished=metrics.finished_at,
                    code=(code.commit, code.dirty), reported=metrics,
                    disconnects=conn.disconnects if conn is not None else None,
                    exit_code=session.exit_code if session is not None else None,
                    began=session.began if session is not None else None,
                    recorded=now.replace(microsecond=0))
    path = record_path(ctx.cfg, metrics.run_id)
    record = build_record(
        cfg=ctx.rules, run_id=metrics.run_id, outcome=Outcome(v.outcome), recorded_at=now,
        started_at=metrics.started_at, finished_at=metrics.finished_at, metrics=metrics,
        verdict=v, report=doc, code=code, session=session or SessionInfo(),
        attachments=Attachments(log=log_path(path) if log is not None else None),
        connectivity=conn,
    )
    return commit_run(ctx, record, log=log, verdict_=v)


def _attachments(record: EvidenceRecord, log: bytes | None,
                 handoff: bytes | None) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    kept = kept_log(log)
    if record.session.log and kept is not None:
        out[record.session.log] = kept
    if record.session.handoff and handoff is not None:
        out[record.session.handoff] = redact(handoff.decode("utf-8", "replace")).encode()
    return out


@frozen
class RunDraft:
    draft: Draft
    streak: int
    hand_row: bool  # the run already had a hand-written tracker row
    closure: tuple[str, OpsCommit] | None = None  # (milestone, closure) whose runs it breaks
    was_closed: bool = False  # the burn-in milestone was closed before it


def run_draft(ctx: Context, record: EvidenceRecord, *, parent: str,
              attachments: Mapping[str, bytes], data: bytes | None = None,
              runs: streaks.Runs | None = None) -> RunDraft:
    """The commit recording ``record`` on top of ``parent``: the record, the tracker row,
    the session-log entry, the attachments, and the trailers (streak from the history).

    ``data``: the record's committed bytes, when replaying a commit onto a new tip."""
    cfg = ctx.cfg
    path = record_path(cfg, record.run_id)
    runs = ctx.runs(parent) if runs is None else runs
    docs = read_docs(ctx, parent, cfg.docs.backlog, cfg.docs.session_log)
    hand = ctx.hand_rows(docs[cfg.docs.backlog], runs)
    refuse_contradicted_row(record, runs, hand, backlog=cfg.docs.backlog)
    streak = streaks.streak_with(
        runs, run_id=record.run_id, started=record.started_at, finished=record.finished_at,
        outcome=record.outcome.value, dirty=record.code.dirty is True, hand_rows=hand)
    data = record.to_bytes() if data is None else data
    try:
        rendered = render_documents(
            record, cfg=cfg, backlog=docs[cfg.docs.backlog],
            session_log=docs[cfg.docs.session_log], path=path, streak=streak,
            milestone=ctx.milestone, consecutive=ctx.consecutive, checks_default=HAND_RECORDED,
            closed=ctx.milestone in runs.closed)
    except MarkdownEditError as e:
        raise UsageError(f"{cfg.docs.backlog}: {e}") from None
    changes: dict[str, bytes] = {path: data, cfg.docs.session_log: rendered.session_log}
    if rendered.backlog != docs[cfg.docs.backlog]:
        changes[cfg.docs.backlog] = rendered.backlog
    changes.update(attachments)
    block = run_trailers(record, path=path, data=data, streak=streak,
                         consecutive=ctx.consecutive, config_sha=ctx.base.sha256,
                         hand_row=rendered.row_number is None)
    message = run_message(record, block, streak=streak, consecutive=ctx.consecutive,
                          milestone=ctx.milestone)
    closed: tuple[str, OpsCommit] | None = None
    history = ctx.history(parent) if runs.closed else ()  # (read only after a closure)
    for mo in (mo for mo in ctx.milestones if mo in runs.closed):
        broken = streaks.contradicted_closure(
            streaks.closure_before(history, runs, mo), runs, merged=ctx.on_base,
            run_id=record.run_id, started=record.started_at, finished=record.finished_at,
            outcome=record.outcome.value, dirty=record.code.dirty is True)
        if broken is not None:
            closed = (mo, broken)
            break
    return RunDraft(Draft(changes, message), streak, rendered.row_number is None, closed,
                    was_closed=ctx.milestone in runs.closed)


def recordable(ctx: Context, record: EvidenceRecord, *, parent: str,
               runs: streaks.Runs) -> bool:
    """Whether ``record`` is to be committed on ``parent`` (``runs``: its runs): False when
    ``parent`` holds this very record already; what record refuses there is exit 2. The
    one check for `record` and for a run replayed on a newer remote tip (`push`)."""
    path = record_path(ctx.cfg, record.run_id)
    existing = git.show_bytes(ctx.repo, parent, path)
    branch = ctx.cfg.ops.branch
    if existing is not None:
        same_or_refuse(record, existing, path)
        if not any(f.run_id == record.run_id for f in runs.facts):
            raise UsageError(f"{path} is on {branch}, but no run commit recorded it "
                             "(a commit made by hand?): it is no evidence", fix=f"take "
                             f"the commit that added it off {branch} (git log "
                             f"{branch} -- {path}), then record the report again")
        return False
    refuse_case_twin(ctx, parent, path)
    refuse_second_session(record, runs)
    return True


def commit_run(ctx: Context, record: EvidenceRecord, *, log: bytes | None,
               handoff: bytes | None = None, verdict_: Verdict | None = None) -> RecordResult:
    """Write the record, row, entry (and log, handoff) as one commit on the ops branch."""
    path = record_path(ctx.cfg, record.run_id)
    made: list[RunDraft] = []

    def make(at: Tip) -> Draft | None:
        runs = ctx.runs(at.sha)
        if not recordable(ctx, record, parent=at.sha, runs=runs):
            return None
        made.append(run_draft(ctx, record, parent=at.sha, runs=runs,
                              attachments=_attachments(record, log, handoff)))
        return made[0].draft

    sha = ctx.append(make)
    if sha is None:
        streak = ctx.streak().count
        old = _recorded(ctx, path)
        # (the commit that holds it, as `void` names its own: newcomer 16 read null)
        holder = git.out(ctx.repo, "log", "-1", "--format=%H", "--diff-filter=A",
                         ctx.tip().sha, "--", path).strip() or None
        return RecordResult("unchanged", record.run_id, old.outcome.value if old else "", path,
                            streak, ctx.consecutive, holder, verdict_, record=old)
    notes: tuple[str, ...] = () if not made[0].hand_row else (
        f"run {record.run_id} already has a hand-written tracker row; no second row added",)
    if made[0].closure is not None:
        mo, closed = made[0].closure
        notes += (f"run {record.run_id} breaks the streak of the runs {mo}'s "
                  f"closure ({closed.sha[:12]}) names: it falls between two of them, so "
                  "the closure (not merged yet) does not hold; verify blames it "
                  f"(closure-contradicted). Start {ctx.cfg.ops.branch} again from "
                  f"{ctx.cfg.ops.base} and record the reports anew",)
    if "qualify" in ctx.unheeded():
        notes += (f"[qualify] in your config differs from the one committed on "
                  f"{ctx.cfg.ops.base}; the verdict used {ctx.cfg.ops.base}'s thresholds",)
    return RecordResult("recorded", record.run_id, record.outcome.value, path, made[0].streak,
                        ctx.consecutive, sha, verdict_, notes, record,
                        was_closed=made[0].was_closed)


def _recorded(ctx: Context, path: str) -> EvidenceRecord | None:
    """The record at ``path`` on the ops tip; None when it cannot be read as one."""
    data = git.show_bytes(ctx.repo, ctx.tip().sha, path)
    try:
        return read_file(EvidenceRecord, data or b"")
    except ValueError:
        return None


def _document_fix(ctx: Context, rev: str, name: str) -> str:
    """Where a missing document is, when one of its name is elsewhere (found by a newcomer:
    documents kept in docs/ and the [docs] setting never named)."""
    leaf = name.rsplit("/", 1)[-1]
    elsewhere = [p for p in git.out(ctx.repo, "ls-tree", "-r", "--name-only", rev).splitlines()
                 if p.rsplit("/", 1)[-1] == leaf and p != name]
    key = next((k for k in ("design", "backlog", "session_log")
                if getattr(ctx.cfg.docs, k) == name), None)
    if elsewhere and key:
        return (f'it is at {elsewhere[0]}: set [docs] {key} = "{elsewhere[0]}" in '
                "evidencebot.toml on the base branch")
    return (f"commit {name} on the base branch first; the demo's repository (`evidencebot "
            "demo`) shows the three documents and the sections evidencebot edits")


def read_docs(ctx: Context, rev: str, *names: str) -> dict[str, bytes]:
    """The documents evidencebot edits, as of ``rev``; a missing one is bad input."""
    out: dict[str, bytes] = {}
    for name in names:
        data = git.show_bytes(ctx.repo, rev, name)
        if data is None:
            raise UsageError(f"{name} is not on {ctx.cfg.ops.branch} (nor its base); "
                             "evidencebot records into the existing documents",
                             fix=_document_fix(ctx, rev, name))
        out[name] = data
    return out


Handoff = Callable[[str, str], tuple[str, bytes]]  # (run id, record path) -> (path, text)


def record_attempt(ctx: Context, *, outcome: Outcome, started: datetime, session: SessionInfo,
                   log: bytes, handoff: Handoff | None = None,
                   finished: datetime | None = None) -> RecordResult:
    """Record a run that produced no report (failed-infra, -market-data, -code), from
    ``started`` to ``finished`` (now by default).

    ``handoff(run_id, record_path)`` renders the DEBUG packet for a code bug."""
    with ctx.locked():  # the name is free at the tip the commit goes on
        at = ctx.tip()
        run_id = free_name(ctx, at.sha, attempt_stem(started, outcome.value),
                           lambda name: record_path(ctx.cfg, name))
        path = record_path(ctx.cfg, run_id)
        packet = handoff(run_id, path) if handoff else None
        now = ctx.now
        record = build_record(
            cfg=ctx.rules, run_id=run_id, outcome=outcome, recorded_at=now, started_at=started,
            finished_at=finished or now, metrics=None, verdict=None, report=None,
            code=ctx.live_code(), session=session,
            attachments=Attachments(log=log_path(path),
                                    handoff=packet[0] if packet else None),
            connectivity=run_connectivity(ctx, kept_log(log)))
        return commit_run(ctx, record, log=log, handoff=packet[1] if packet else None)


def free_name(ctx: Context, rev: str, stem: str, path_of: Callable[[str], str]) -> str:
    """``stem``, or ``stem-2``, ``stem-3``… : the first whose evidence file is not at ``rev``
    (evidence is named from the run, never by the minute or the second alone)."""
    taken = set(git.out(ctx.repo, "ls-tree", "--name-only", rev, "--",
                        path_of(stem).rsplit("/", 1)[0] + "/").splitlines())
    name, n = stem, 1
    while path_of(name) in taken:
        n += 1
        name = f"{stem}-{n}"
    return name


def refusal_draft(ctx: Context, *, parent: str, checks: Sequence[Mapping[str, Any]],
                  failed: Sequence[str], next_window: str | None, now: datetime) -> Draft:
    """The `check` commit for a session the pre-run checks refused."""
    stem = free_name(ctx, parent, f"{now:%Y%m%dT%H%M%SZ}", lambda n: f"{CHECKS_DIR}/{n}.json")
    path = f"{CHECKS_DIR}/{stem}.json"
    record = {"schema": 1, "kind": "check", "recorded_at": f"{now:%Y-%m-%dT%H:%M:%SZ}",
              "failed": list(failed), "next_window": next_window,
              "checks": [dict(c) for c in checks]}
    data = redact_bytes((json.dumps(record, indent=2, ensure_ascii=True) + "\n").encode())
    reasons = markdown("; ".join(f"{c['name']}: {c['reason']}" for c in checks
                                 if c["status"] == "FAIL"))
    log = read_docs(ctx, parent, ctx.cfg.docs.session_log)[ctx.cfg.docs.session_log]
    entry = "\n".join([
        f"## {now:%Y-%m-%d %H:%M} UTC — OPS — session skipped: pre-run checks failed",
        "", f"- Milestone: {ctx.milestone}", f"- Pre-run checks: {reasons}",
        "- Result: not run", f"- Evidence: {path}",
        f"- Next: {'next window ' + next_window if next_window else 'fix the checks above'}",
    ])
    block = trailers.check_block(failed=failed, next_window=next_window, version=__version__,
                                 config_sha=ctx.base.sha256)
    message = trailers.render_message(
        f"evidence(check): session skipped ({', '.join(failed)})",
        f"Pre-run checks failed: {reasons}.", block)
    return Draft({path: data,
                  ctx.cfg.docs.session_log: mdedit.append_entry(log, redact(entry))},
                 redact(message))


@frozen
class Refusal:
    sha: str
    added: bool  # False: the same refusal was already recorded today (that commit)


def record_refusal(ctx: Context, *, checks: Sequence[Mapping[str, Any]],
                   failed: Sequence[str], next_window: str | None) -> Refusal:
    """A session the pre-run checks refused: an ops commit of kind `check` — unless the
    latest refusal recorded the same UTC day failed the same checks (a scheduler firing
    outside the window costs nothing)."""
    now = ctx.now
    earlier: list[str] = []

    def make(at: Any) -> Draft | None:
        latest = next((c for c in ctx.history(at.sha) if c.kind == "check"), None)
        if latest is not None and latest.date[:10] == f"{now:%Y-%m-%d}" and \
                latest.trailers.get("Check-Failed") == ", ".join(failed):
            earlier.append(latest.sha)
            return None
        return refusal_draft(ctx, parent=at.sha, checks=checks, failed=failed,
                             next_window=next_window, now=now)

    sha = ctx.append(make)
    return Refusal(sha, True) if sha is not None else Refusal(earlier[0], False)
