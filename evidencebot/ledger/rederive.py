"""`verify`'s re-derivation of one run or closure commit from committed evidence alone: a
run's record against the report inside it, the verdict against the base config's rules,
the session against the runs before it, and every trailer against the record; a
closure's streak, named runs and rendered files. Nothing is trusted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from .. import git
from ..defaults import MAX_CLOCK_SKEW_SECONDS
from ..errors import UsageError
from ..evidence import rows
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.record import EvidenceRecord, canonical, read_file, record_path
from ..evidence.render import streak_said, streak_text
from ..evidence.report import Metrics, metrics_from
from ..evidence.rows import streak_lines
from ..evidence.stamps import git_date, parse_stamp
from ..evidence.trust import unreviewed_code
from ..guard.changes import Record, blob_sides
from ..guard.rules import Change
from ..hashes import sha256
from ..shape import Invalid
from . import AGAIN, DROP, Add
from . import runparts as parts
from .reclose import Describe, check_closure
from .workspace import Context


def rederive(ctx: Context, c: OpsCommit, prior: Sequence[OpsCommit], add: Add, *,
             runs: Callable[[], streaks.Runs], changes: Sequence[Change],
             records: Sequence[Record] | None, describe: Describe | None) -> None:
    """Every finding about well-formed ops commit ``c`` from its kind: a run's record and
    trailers, a closure's streak and files, and the streak line after either kind that
    writes one (``prior``: the ops commits before it; ``runs``: their `streak.runs_of`)."""
    streak: int | None = None  # what the tracker's streak line says after this commit
    if c.is_run:
        before = runs()
        streak = check_run(ctx, c, add, runs=before, changes=changes, records=records)
        if streak is None:
            return  # (its record is unreadable: that is the finding)
        _inside_closure(ctx, c, prior, before, add)
    elif c.kind == "milestone":
        check_closure(ctx, c, prior, add, describe)
    elif c.kind == "void":
        from .void import after_void

        streak = after_void(ctx, c, prior, parent_backlog(ctx, c, changes)).count
    check_streak_line(ctx, c, prior, changes, streak, add)


def check_run(ctx: Context, c: OpsCommit, add: Add, *, runs: streaks.Runs,
              changes: Sequence[Change] = (),
              records: Sequence[Record] | None = None) -> int | None:
    """Every finding about run commit ``c`` (``runs``: the `streak.runs_of` of the ops
    commits before it; ``changes``: its changes as the scope rules read them, whose old
    backlog is its parent's; ``records``: its raw records against its parent, when
    known). The streak re-derived for it; None when its record cannot be read."""
    t = c.trailers
    path = t.get("Evidence-Record", "")
    want_path = record_path(ctx.cfg, c.run_id)
    if path != want_path:
        add("record-path", f"the record is at {path!r}, not {want_path!r}",
            "a run's record lives at <evidence_dir>/<run-id>.json")
    sides = blob_sides(records, path) if path and records is not None else None
    if sides is None:  # unchanged by the commit (or no records): ask git by path
        data = git.show_bytes(ctx.repo, c.sha, path) if path else None
    else:
        data = git.blob(ctx.repo, sides[1]) if sides[1] else None
    if data is None:
        add("record-missing", f"no record at {path!r}",
            "a run commit adds its own record: record the run with `evidencebot record`")
        return None
    held = sides[0] is not None if sides is not None else \
        bool(c.parents) and git.show_bytes(ctx.repo, c.parents[0], path) is not None
    if held:
        add("record-not-new", "the record existed before this commit",
            "a run's record is added once, by its own commit: " + DROP)
    try:
        record = read_file(EvidenceRecord, data)
    except Invalid as e:
        where = ".".join(str(p) for p in e.loc) or "the record"
        add("record-unreadable", f"record unreadable: {where}: {e.message}",
            "records are written by `evidencebot record`: " + AGAIN)
        return None
    if record.run_id != c.run_id:
        add("record-mismatch", f"the record is run {record.run_id!r}, the trailer says "
            f"{c.run_id!r}", AGAIN)
    _times(ctx, c, record, add)
    parts.attempt(record, add)
    log = parts.kept_log(ctx, c, path, records)
    parts.failure(ctx, record, log, add)
    _verdict(ctx, record, add, _report(ctx, record, add),
             parts.connectivity(ctx, record, log, add))
    _session(record, runs, add)
    backlog = parent_backlog(ctx, c, changes)
    hand = ctx.hand_rows(backlog, runs)
    _hand_row(ctx, record, runs, hand, add)
    streak = streaks.streak_with(
        runs, run_id=record.run_id, started=record.started_at, finished=record.finished_at,
        outcome=record.outcome.value, dirty=record.code.dirty is True, hand_rows=hand)
    said = t.get("Burnin-Streak", "").partition("/")[2]
    needed = recorded_under(ctx, int(said) if said.isdigit() else None, c)
    hand_row = parts.documents(ctx, c, record, want_path, backlog, changes, streak, runs, add,
                               needed=needed)
    parts.trailers(ctx, c, record, data, streak, hand_row, add, needed=needed)
    return streak


def recorded_under(ctx: Context, said: int | None, c: OpsCommit) -> int:
    """The runs a streak needs, as commit ``c`` says them (``said``): the base's
    [milestone] consecutive now, or the one its config said when ``c`` was made (its
    commit date: `Context.base_at`), which ``c``'s documents and trailers then hold to
    (adversary 48: a reviewed 3 -> 4 made every run already recorded a finding). Anything
    else is the base's now (adversary 49: any value the base ever had let a stale
    machine write "1 of 1, streak met" today)."""
    if said is None or said == ctx.consecutive or ctx.base_sha is None:
        return ctx.consecutive
    from .base import consecutive_at

    then = ctx.base_at(git_date(c.date))
    # (and no older than the base ``c`` grew from: a date is the committer's word, and a
    # commit dated before the base it stands on said 3 where that base said 5: adversary 50)
    fork = git.out(ctx.repo, "merge-base", c.sha, ctx.base_sha, ok=(0, 1)).strip()
    return said if then is not None and all(
        said == consecutive_at(ctx.repo, rev, ctx.milestone) for rev in {then, fork} if rev
    ) else ctx.consecutive


def _inside_closure(ctx: Context, c: OpsCommit, prior: Sequence[OpsCommit],
                    runs: streaks.Runs, add: Add) -> None:
    """A run recorded after the milestone closed does not break the streak of the runs the
    closure named while the closure is not merged (`streak.contradicted_closure`)."""
    for mo in ctx.milestones:
        closed = streaks.contradicted_run(streaks.closure_before(prior, runs, mo), runs,
                                          merged=ctx.on_base, run=c)
        if closed is not None:
            add("closure-contradicted", f"run {c.run_id} breaks the streak of the runs "
                f"{mo}'s closure ({closed.sha[:12]}) names: it falls between two of them, "
                "and the closure was made without it",
                "the closure does not hold as it stands: start the ops branch again from "
                f"{ctx.rules.ops.base} and record the reports anew, so that the streak is "
                "what they hold")


def check_streak_line(ctx: Context, c: OpsCommit, prior: Sequence[OpsCommit],
                      changes: Sequence[Change], streak: int | None, add: Add) -> None:
    """The tracker's (first) streak line reads the streak: after a run or a void, exactly
    what `record` or `void` writes there (``streak``: the run's re-derived Burnin-Streak,
    or the streak once the void counts), whether or not the commit changed the line; a
    commit of another kind (None) may change it, to the streak the history and the
    tracker it leaves hold. No commit changes a later streak line. The hook lets the
    lines change (into streak lines only): only the history knows what they must say."""
    path, section = ctx.cfg.docs.backlog, ctx.cfg.docs.tracker_section
    new = next((ch.new.data for ch in changes if ch.new is not None and ch.new.path == path),
               None)
    if new is None and streak is None:
        return
    old = parent_backlog(ctx, c, changes)
    before = streak_lines(old, section) if old else []
    after = streak_lines(new, section) if new is not None else before
    if after[1:] != before[1:]:
        add("streak-line", "a streak line after the tracker's first changed",
            "the tracker holds one streak line, written by evidencebot: " + DROP)
    if not after or (streak is None and after[:1] == before[:1]):
        return
    if streak is not None:
        want = streak_text(streak, recorded_under(ctx, streak_said(after[0])[1], c))
        if after[0].strip() != want:
            add("streak-line", f"the tracker's streak line reads {after[0].strip()!r}, "
                f"not {want!r} (what evidencebot writes there for this commit)",
                "the streak line is written by evidencebot: " + DROP)
        return
    history = [c, *prior]  # (a hand edit: the streak with the rows it leaves)
    held = streaks.streak_of(history, milestone=ctx.milestone, needed=ctx.consecutive,
                             hand_rows=ctx.hand_rows(new, history)).count
    count, needed = streak_said(after[0])
    then = recorded_under(ctx, needed, c)
    if (count, needed) != (held, then):
        add("streak-line", f"the tracker's streak line reads {count} of {needed}; the "
            f"history here holds {held} of {then}",
            "the streak line says what the history holds: " + DROP)


def parent_backlog(ctx: Context, c: OpsCommit, changes: Sequence[Change]) -> bytes | None:
    """The tracker document as ``c``'s parent holds it (`runparts.parent_document`)."""
    return parts.parent_document(ctx, c, changes, ctx.cfg.docs.backlog)


def _times(ctx: Context, c: OpsCommit, record: EvidenceRecord, add: Add) -> None:
    committed = git_date(c.date)
    if record.finished > committed + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS):
        add("record-after-commit", f"the run finished at {record.finished_at}, after its "
            f"commit ({c.date})", "record a run only after it finished")
    if record.finished < record.started:
        add("record-times", "the run finished before it started",
            "a record's times are its report's: " + AGAIN)


def _report(ctx: Context, record: EvidenceRecord, add: Add) -> Metrics | None:
    """The record's metrics are what its own report yields through the base's pointers;
    those metrics (None without a readable report)."""
    if record.report is None:
        if record.outcome.reported:
            add("report-missing", "a completed run's record holds no report",
                "record the run again, with its report")
        return None
    if record.report_sha256 != sha256(canonical(record.report)):
        add("report-sha256", "report_sha256 does not match the report in the record",
            "report_sha256 is the SHA-256 of the record's report: " + AGAIN)
    try:
        m = metrics_from(record.report, ctx.rules.report.fields, source="the record's report")
    except UsageError as e:
        add("report-unreadable", str(e), "the report must read by the base branch's "
            "[report] pointers: record the run again, or mend the pointers on the base")
        return None
    derived = {
        "run_id": m.run_id, "started_at": m.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": m.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "paper_duration_seconds": m.paper_duration_seconds,
        "filled_orders": m.filled_orders,
        "symbol_data_availability_ratio": m.symbol_data_availability_ratio,
        "min_bars_per_symbol": m.min_bars_per_symbol, "runs_completed": m.runs_completed,
        "runs_requested": m.runs_requested}
    top = {"run_id": record.run_id, "started_at": record.started_at,
           "finished_at": record.finished_at}
    for key, value in derived.items():  # (the others: fields of the record's metrics)
        held = top[key] if key in top else getattr(record.metrics, key, None)
        if held != value:
            add("metrics-mismatch", f"{key}: the record says {held!r}, its report "
                f"gives {value!r}", "a record's metrics come from its report; re-record it")
    return m


def _verdict(ctx: Context, record: EvidenceRecord, add: Add,
             reported: Metrics | None, disconnects: int | None) -> None:
    """The outcome follows from the metrics and the trust rules (base config), on the
    report's own times as `record` judged them (the record keeps whole seconds: a run
    ending 0.9 s after the window is outside it on both sides), its code held to what the
    report says of it (`code_facts`), and the disconnections counted again."""
    if record.metrics is None or not record.outcome.reported:
        return
    started, finished = (reported.started_at, reported.finished_at) if reported is not None \
        else (record.started, record.finished)
    m = record.metrics
    v = parts.verdict_for(ctx, _Values(m.paper_duration_seconds, m.filled_orders,
                                       m.symbol_data_availability_ratio, m.min_bars_per_symbol,
                                       m.runs_completed, m.runs_requested),
                          started=started, finished=finished,
                          code=(record.code.commit, record.code.dirty), reported=reported,
                          disconnects=disconnects, exit_code=record.session.exit_code,
                          began=parse_stamp(record.session.began)
                          if record.session.began is not None else None,
                          recorded=record.recorded)
    recorded = record.outcome.value
    if v.outcome == recorded:
        return
    merged_since = recorded == "non-qualifying" and record.verdict is not None and any(
        unreviewed_code(r) for r in record.verdict.reasons)
    if not merged_since:  # (an earlier release judged the code when the run was recorded)
        from ..shape import as_dict

        now = as_dict(ctx.rules.qualify)
        moved = sorted(k for k in now if k in record.thresholds and record.thresholds[k] != now[k])
        add("outcome-mismatch", f"the record says {recorded!r} but its metrics and the rules "
            f"give {v.outcome!r}" + (f" ({'; '.join(v.reasons)})" if v.reasons else "") + (
                f"; the base's [qualify] {', '.join(moved)} changed since it was recorded "
                f"({', '.join(f'{record.thresholds[k]} then, {now[k]} now' for k in moved)})"
                if moved else ""),
            ("the base's rules judge every run of the burn-in: if that change made the "
             "difference, put [qualify] back through review, or start the ops branch again "
             "from the base and record anew; else " + AGAIN if moved else
             "the outcome follows from the metrics and the base's rules: " + AGAIN))


class _Values:
    """The metric values a verdict reads (a record's metrics hold no report flag)."""

    def __init__(self, duration: int, filled: int, ratio: float, bars: int, done: int,
                 requested: int) -> None:
        self.paper_duration_seconds = duration
        self.filled_orders = filled
        self.symbol_data_availability_ratio = ratio
        self.min_bars_per_symbol = bars
        self.runs_completed = done
        self.runs_requested = requested
        self.report_passed: bool | None = None


def _session(record: EvidenceRecord, runs: streaks.Runs, add: Add) -> None:
    """One session, one run; one report, one record (`streak.conflicts`)."""
    for rule, s in streaks.conflicts(runs.sessions, run_id=record.run_id,
                                     started=record.started_at, finished=record.finished_at,
                                     report_sha256=record.report_sha256):
        if rule == "run-recorded-twice":
            add("run-recorded-twice", f"run {record.run_id} is already recorded in "
                f"{s.sha[:12]}", "a run is recorded once: " + DROP)
        elif rule == "report-reused":
            add("report-reused", f"the same report backs run {s.run_id} ({s.sha[:12]})",
                "one report, one record: " + DROP)
        else:
            add("overlapping-session", f"run {record.run_id} overlaps run {s.run_id} "
                f"({s.sha[:12]}): one session is one run",
                DROP + ", or void the run recorded by mistake (`evidencebot void`)")


def _hand_row(ctx: Context, record: EvidenceRecord, runs: streaks.Runs,
              hand: Sequence[rows.HandRow], add: Add) -> None:
    """A run and its hand-written row say the same (`streak.contradicted_row`)."""
    row = streaks.contradicted_row(runs, hand, run_id=record.run_id,
                                   outcome=record.outcome.value,
                                   dirty=record.code.dirty is True)
    if row is not None:
        add("hand-row-contradicted", f"run {record.run_id} "
            f"{'breaks the streak' if row.qualifying else 'counts toward the streak'}, but "
            f"the parent's {ctx.cfg.docs.backlog} holds a hand-written row that says it "
            f"{'qualified' if row.qualifying else 'did not qualify'}",
            "a row written by hand stands: " + DROP + " (or mend the row on the base)")
