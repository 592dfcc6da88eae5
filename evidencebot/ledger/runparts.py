"""What a run commit holds beside its record, as `record` writes it, for `verify`
(`rederive.check_run`): the shape of an attempt that produced no report and its outcome
read again from its log, the IBKR counts made again from the log and the report, and
the documents and subject rendered again on the parent's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import git
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.record import HAND_RECORDED, EvidenceRecord, Outcome, attempt_stem, named_from
from ..evidence.render import render_documents, run_subject, run_trailers
from ..guard.changes import Record, blob_sides
from ..guard.rules import Change
from . import AGAIN, DROP, Add
from .workspace import Context

COMPARED = ("Burnin-", "Evidence-", "Code-", "Ibkr-")  # the trailers a run commit may hold

if TYPE_CHECKING:
    from datetime import datetime

    from ..evidence.verdict import MetricValues, Verdict


def verdict_for(ctx: Context, values: MetricValues, *, started: datetime, finished: datetime,
                code: tuple[str, bool | None], reported: object,
                disconnects: int | None, exit_code: int | None,
                began: datetime | None, recorded: datetime) -> Verdict:
    """A run's verdict under the base's rules: the thresholds on ``values``, then the trust
    rules (the window, the duration claimed, the code the base held when it started, held
    to what the report says of it: ``reported``, its metrics or None; the disconnections,
    the wrapper's exit code, and when `run` started the session and ``recorded`` it:
    ``began``, unless the base pins the clock). The one reading, for `record` and
    `verify`."""
    from ..evidence.trust import RunFacts, code_facts, run_reasons
    from ..evidence.verdict import verdict

    shown, held, dirty = code_facts(code[0], code[1], reported, ctx.reviewed_at(started))
    facts = RunFacts(started, finished, values.paper_duration_seconds, shown, held,
                     disconnects, exit_code,
                     None if ctx.rules.ops.allow_pinned_clock else began, recorded)
    return verdict(values, ctx.rules.qualify, code_dirty=dirty,
                   extra=run_reasons(facts, window=ctx.window, qualify=ctx.rules.qualify,
                                     base=ctx.rules.ops.base))


def attempt(record: EvidenceRecord, add: Add) -> None:
    """An attempt that produced no report (failed-infra, -market-data, -code) is what
    `record_attempt` writes: no report, metrics or verdict, named by its start and its
    outcome. A completed run relabelled failed-infra would leave the streak alone."""
    if record.outcome.reported:
        return
    held = [name for name, value in (("a report", record.report), ("metrics", record.metrics),
                                     ("a verdict", record.verdict),
                                     ("a report_sha256", record.report_sha256))
            if value is not None]
    stem = attempt_stem(record.started, record.outcome.value)
    if held or not named_from(record.run_id, stem):
        said = f"holds {', '.join(held)}" if held else f"is not named {stem}"
        add("attempt-mismatch", f"the record of a {record.outcome.value} attempt {said}: "
            "an attempt that produced no report is recorded without one",
            "a run that produced a report takes its outcome from it: " + AGAIN)


def kept_log(ctx: Context, c: OpsCommit, path: str,
             records: Sequence[Record] | None) -> bytes | None:
    """The log run commit ``c`` keeps beside its record at ``path`` (None: none)."""
    from .messages import log_path

    if records is None:  # (its change not known: ask git by path)
        return git.show_bytes(ctx.repo, c.sha, log_path(path))
    sides = blob_sides(records, log_path(path))
    return git.blob(ctx.repo, sides[1]) if sides is not None and sides[1] else None


def failure(ctx: Context, record: EvidenceRecord, log: bytes | None, add: Add) -> None:
    """An attempt that leaves the streak alone (failed-infra, failed-market-data) is what
    `run` makes of the log and exit code its commit holds (`messages.attempt_failure`),
    with the gateway up or gone after the run (the one fact the commit does not hold): a
    crash recorded as the gateway's fault would keep a code bug out of the streak. The
    outcome is compared, not the reason's words (a release may word it otherwise)."""
    from .messages import readings

    if record.outcome not in (Outcome.FAILED_INFRA, Outcome.FAILED_MARKET_DATA):
        return
    read = readings(ctx, exit_code=record.session.exit_code, log=log)
    said = (record.outcome.value, record.session.failure)
    if said[0] in {r.outcome for r in read}:
        return
    gone = f"; with the gateway gone after it, {read[1].outcome} ({read[1].reason})" \
        if read[1] != read[0] else ""
    code = record.session.exit_code
    exited = f"exit code {code}" if code is not None else "no exit code (it was killed)"
    add("failure-mismatch", f"the record says {said[0]} ({said[1]}), but its log and "
        f"{exited} read as {read[0].outcome} ({read[0].reason}){gone}",
        "a failed attempt's outcome is what its log says, and a failed-code one breaks the "
        "streak: " + DROP)


def connectivity(ctx: Context, record: EvidenceRecord, log: bytes | None,
                 add: Add) -> int | None:
    """The run's IBKR messages counted again from what its commit holds, as `record`
    counts them (`messages.run_connectivity`: the log kept beside the record, the report's
    messages through the base's pointer); a record that counts otherwise is blamed. The
    disconnections counted (None: neither log nor messages)."""
    from .messages import report_messages, run_connectivity

    conn = run_connectivity(ctx, log, report_messages(ctx, record.report))
    counted = (conn.disconnects, conn.restorations, conn.benign) if conn is not None else \
        (None, None, None)
    said = (record.ibkr.disconnects, record.ibkr.restorations, record.ibkr.benign_messages)
    if said != counted:
        add("connectivity-mismatch", f"the record counts {said[0]} IBKR disconnection(s), "
            f"{said[1]} restoration(s) and {said[2]} benign message(s); its log and report "
            f"hold {counted[0]}, {counted[1]} and {counted[2]}",
            "a record's IBKR counts come from its log and report: " + AGAIN)
    return counted[0]


def parent_document(ctx: Context, c: OpsCommit, changes: Sequence[Change],
                    path: str) -> bytes | None:
    """The file ``path`` as ``c``'s parent holds it: from ``changes`` when the commit
    changed it (None when it added it), else from git (None: no parent, or no such file
    there)."""
    for ch in changes:
        if ch.old is not None and ch.old.path == path:
            return ch.old.data
        if ch.new is not None and ch.new.path == path:
            return None  # (added by the commit: the parent has none)
    return git.show_bytes(ctx.repo, c.parents[0], path) if c.parents else None


def documents(ctx: Context, c: OpsCommit, record: EvidenceRecord, path: str,
               backlog: bytes | None, changes: Sequence[Change], streak: int,
               runs: streaks.Runs, add: Add, *, needed: int) -> bool:
    """A run commit's documents are what `record` writes for its record on its parent's
    (`render.render_documents`): the tracker with its row and streak line, the session
    log with its entry, nothing else; its subject is `record`'s. A row giving another
    outcome, a row hidden in a comment, an entry telling another result would show the
    reviewer a run that is not the one recorded. Whether a hand-written row stands for
    the run (`record` adds none)."""
    from ..md.edit import MarkdownEditError
    from ..redact import redact
    docs = ctx.cfg.docs
    olds = {ch.old.path for ch in changes if ch.old is not None}
    news = {ch.new.path: ch.new.data for ch in changes if ch.new is not None}
    old_log = parent_document(ctx, c, changes, docs.session_log)
    def nowhere(why: str) -> bool:  # (record refuses to record there: no run commit can)
        add("tracker-row-mismatch", f"the parent's documents hold nowhere to record run "
            f"{record.run_id} ({why}): `record` writes no run commit there",
            "the documents of a run commit are written by evidencebot: " + AGAIN)
        return False

    if backlog is None or old_log is None:
        return nowhere("no tracker or session log")
    try:
        rendered = render_documents(
            record, cfg=ctx.cfg, backlog=backlog, session_log=old_log, path=path,
            streak=streak, milestone=ctx.milestone, consecutive=needed,
            checks_default=HAND_RECORDED, closed=ctx.milestone in runs.closed)
    except MarkdownEditError as e:
        return nowhere(str(e))
    def differs(name: str, old: bytes, want: bytes, what: str) -> tuple[str, str] | None:
        now = news.get(name) if name in news or name in olds else old
        return None if now == want else (
            f"{name} is not what `record` writes for run {record.run_id} on the parent's: "
            f"{what}, and nothing else",
            "the documents of a run commit are written by evidencebot: " + AGAIN)

    if said := differs(docs.backlog, backlog, rendered.backlog,
                       "the run's row and the streak line"):
        add("tracker-row-mismatch", *said)
    if said := differs(docs.session_log, old_log, rendered.session_log, "the run's entry"):
        add("session-entry-mismatch", *said)
    subject = redact(run_subject(record))  # (as `run_message` writes it)
    if c.subject != subject:
        add("subject-mismatch", f"the subject reads {c.subject!r}, not {subject!r} (what "
            "`record` writes for its record)", AGAIN)
    return rendered.row_number is None


def trailers(ctx: Context, c: OpsCommit, record: EvidenceRecord, data: bytes, streak: int,
              hand_row: bool, add: Add, *, needed: int) -> None:
    """Run commit ``c``'s trailers are `record`'s for its record (at ``data``'s bytes) and
    the streak re-derived for it, of the ``needed`` runs it was recorded under."""
    t = c.trailers
    expected = dict(run_trailers(
        record, path=t.get("Evidence-Record", ""), data=data, streak=streak,
        consecutive=needed, config_sha=t.get("Config-Sha256", ""),
        version=t.get("Evidencebot-Version", ""), hand_row=hand_row))
    for key in sorted(set(expected) | {k for k in t if k.startswith(COMPARED)}):
        if t.get(key) != expected.get(key):
            add("trailer-mismatch", f"{key}: trailer says {t.get(key)!r}, re-derived from "
                f"the record and the history: {expected.get(key)!r}",
                "trailers must be recomputable from the record; re-record the run")
