"""The streak rules: what counts toward a milestone. Pure and stdlib-only (the hook uses
them to decide whether a milestone may become CLOSED); `record`, `run`, `close`,
`status`, `history`, the description and `verify` all call these same functions.

Runs are ordered by their report's start time, never by recording order, and the streak
is the unbroken run of qualifying runs at the END of that order. A run that completed
but did not qualify, a code bug, dirty code or a voided run breaks it; attempts that
never produced a report (failed-infra, failed-market-data) neither count nor break. A
hand-written tracker row that does not read qualifying (or an attempt that produced no
report) breaks the streak where it falls in time, whatever is recorded later under its
run id; a hand-written qualifying row neither counts nor breaks.
"""

# No `from __future__ import annotations`: see guard/rules.py (NamedTuple fields).

from bisect import insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import partial
from itertools import repeat
from operator import and_, gt, itemgetter, lt
from typing import Any, NamedTuple

from ..frozen import frozen
from .history import OpsCommit
from .rows import UNPLACED, HandRow
from .store import typed_columns
from .trailers import HAND_WRITTEN_ROW, RESETS

COUNTS, NEUTRAL, RESETS_STREAK = 1, 0, -1


def effect(outcome: str, *, dirty: bool) -> int:
    """What a run does to the streak: COUNTS (qualifying, clean code), RESETS_STREAK (a
    completed run that does not qualify, a code bug, dirty code) or NEUTRAL (attempts that
    never produced a report: failed-infra, failed-market-data)."""
    if outcome == "qualifying":
        return RESETS_STREAK if dirty else COUNTS
    return RESETS_STREAK if outcome in RESETS else NEUTRAL


class Fact(NamedTuple):
    """One event on the run timeline (a tuple: 10,000 of them are made per streak)."""

    started: str
    finished: str
    order: int  # recording order, for ties
    effect: int
    run_id: str
    commit: OpsCommit | None  # None: a hand-written row, or a run about to be recorded


def voided(commits: Iterable[OpsCommit]) -> set[str]:
    return {c.run_id for c in commits if c.kind == "void" and not c.problems and c.run_id}


def commit_effect(c: OpsCommit, voids: AbstractSet[str] = frozenset()) -> int:
    """A commit's effect; checks, closures and malformed commits are neutral."""
    if not c.is_run or c.problems:
        return NEUTRAL
    if c.run_id in voids:
        return RESETS_STREAK  # voiding only ever makes the evidence stricter
    return effect(c.outcome, dirty=c.trailers.get("Code-Dirty") == "true")


class Session(NamedTuple):
    """A recorded run as the one-session rule reads it."""

    run_id: str
    started: str  # "" for runs recorded before the time trailers
    finished: str
    report_sha256: str
    sha: str


class Runs(NamedTuple):
    """What the streak and session rules read from a history, in plain values (so that a
    shortcut file can hold it: `Context.runs`)."""

    facts: list[Fact]  # the run commits' facts, sorted by time
    commits: int  # ops commits in the history: the next is commits + 1 in recording order
    voids: frozenset[str]
    written: frozenset[str]  # run ids whose tracker row a run commit wrote (`written_rows`)
    sessions: list[Session]
    closed: frozenset[str]  # the milestones a closure commit names

    def plain(self) -> tuple[object, ...]:
        """The value as strings and numbers: facts and sessions column by column, and of
        the run ids whose row was written only those no fact names, and of the facts'
        those whose row was not (`from_plain` reads it back: 10,000 runs load, are
        checked and rebuilt in a few milliseconds)."""
        facts = _columns(self.facts, len(_FACT))
        return (facts, self.commits, sorted(self.voids),
                sorted(self.written.difference(facts[_RUN_ID])),
                sorted(set(facts[_RUN_ID]).difference(self.written)),
                _columns(self.sessions, len(_SESSION)), sorted(self.closed))

    @classmethod
    def from_plain(cls, value: Any) -> "Runs":
        """Runs from `plain`'s value; TypeError or ValueError when it is not one (each
        value of the type it must have: another layout is refused, never a crash later)."""
        facts, commits, voids, unnamed, unwritten, sessions, closed = value
        if type(commits) is not int or not typed_columns(facts, _FACT) or \
                not typed_columns(sessions, _SESSION) or \
                not all(type(ids) is list and set(map(type, ids)) <= {str}
                        for ids in (voids, unnamed, unwritten, closed)):
            raise TypeError("not the runs of a history")
        return cls(list(map(_fact_of, zip(*facts, repeat(None)))), commits, frozenset(voids),
                   frozenset(facts[_RUN_ID]).difference(unwritten).union(unnamed),
                   list(map(_session_of, zip(*sessions, strict=True))), frozenset(closed))


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """The first ``width`` fields of ``rows``, as one tuple per field."""
    return [tuple(map(itemgetter(i), rows)) for i in range(width)]


# A row of checked columns as the named tuple, without the per-row call of `_make`.
_fact_of: Callable[[Iterable[Any]], Fact] = partial(tuple.__new__, Fact)  # type: ignore[assignment]
_session_of: Callable[[Iterable[Any]], Session] = partial(tuple.__new__, Session)  # type: ignore[assignment]
_FACT = (str, str, int, int, str)  # a Fact's plain form: without its commit
_RUN_ID = 4  # the run id's place in a Fact
_SESSION = (str, str, str, str, str)


def runs_of(commits: Sequence[OpsCommit], *, on: Runs | None = None) -> Runs:
    """The runs of ``commits`` (newest first, as `history.read` gives them); ``on``: the
    runs of the history they were committed on top of (the result is then that history's
    with these commits added)."""
    on = on or Runs([], 0, frozenset(), frozenset(), [], frozenset())
    new_voids = voided(commits)
    voids = on.voids | new_voids
    older = [f._replace(effect=RESETS_STREAK) if f.run_id in new_voids else f
             for f in on.facts] if new_voids else on.facts
    facts = _facts_of(commits, voids, first=on.commits + 1)
    return Runs(_merged(older, facts),
                on.commits + len(commits), voids,
                on.written | written_rows(commits),
                [Session(f.run_id, f.commit.started, f.commit.finished,
                         f.commit.trailers.get("Evidence-Report-Sha256", ""), f.commit.sha)
                 for f in facts if f.commit is not None] + on.sessions,  # newest first
                on.closed | {c.trailers.get("Milestone", "") for c in commits
                             if c.kind == "milestone" and not c.problems})


def written_rows(commits: Iterable[OpsCommit]) -> set[str]:
    """The run ids whose tracker row their run commit wrote: every run commit's (malformed
    ones included) but those that found a hand-written row for their run and say so
    (`trailers.HAND_WRITTEN_ROW`): that row stays one the streak reads (`rows.hand_rows`)."""
    key, value = HAND_WRITTEN_ROW
    return {c.run_id for c in commits if c.is_run and c.trailers.get(key) != value}


def _merged(older: list[Fact], facts: list[Fact]) -> list[Fact]:
    """``older`` (in time order) with ``facts`` put in their places: each is inserted where
    it falls, so a history extended by a run or two is not sorted again."""
    if not facts:
        return older
    if len(facts) > 64:
        return sorted(older + facts, key=_WHEN)
    out = list(older)
    for f in facts:
        insort(out, f, key=_WHEN)
    return out


def _facts_of(commits: Sequence[OpsCommit], voids: AbstractSet[str], *,
              first: int = 1) -> list[Fact]:
    """The facts of the run commits among ``commits`` (newest first), in that order; the
    oldest is number ``first`` in recording order."""
    n = first - 1 + len(commits)
    return [Fact(c.started or c.date, c.finished or c.started or c.date, n - i,
                 commit_effect(c, voids), c.run_id, c)
            for i, c in enumerate(commits) if c.is_run and not c.problems]


def facts(commits: Sequence[OpsCommit] | Runs, hand_rows: Iterable[HandRow] = (),
          extra: Iterable[Fact] = ()) -> list[Fact]:
    """The run timeline of ``commits`` (newest first, as `history.read` gives them, or
    their `runs_of`), the hand-written rows and ``extra`` facts, sorted by start time."""
    base = commits.facts if isinstance(commits, Runs) else \
        sorted(_facts_of(commits, voided(commits)), key=_WHEN)
    # (a row after every run that starts when it does: its break comes last)
    more = [Fact(row.started, "~", -1, NEUTRAL if row.qualifying else RESETS_STREAK,
                 row.run_id, None) for row in hand_rows]
    more.extend(extra)
    # Stable: what ties keeps the order commits, then hand rows, then extra facts.
    return _merged(base, more)


def conflicts(sessions: Sequence[Session], *, run_id: str, started: str, finished: str,
              report_sha256: str | None) -> Iterator[tuple[str, Session]]:
    """One session, one run; one report, one record: (rule, the recorded run) for each
    recorded run that is the same run, has the same report or overlaps in time."""
    # Each rule first over whole columns, in C: in a history that keeps the rules (every
    # one verify walks) nothing is found, and no session is looked at one by one.
    if run_id not in map(_S_RUN_ID, sessions) and not (
            report_sha256 and report_sha256 in map(_S_REPORT, sessions)) and \
            not any(map(and_, map(lt, map(_S_STARTED, sessions), repeat(finished)),
                        map(gt, map(_S_FINISHED, sessions), repeat(started)))):
        return
    for s in sessions:
        if s.run_id == run_id:
            yield "run-recorded-twice", s
        elif report_sha256 and s.report_sha256 == report_sha256:
            yield "report-reused", s
        elif s.started and s.finished and s.started < finished and started < s.finished:
            yield "overlapping-session", s


_WHEN = itemgetter(0, 1, 2)  # started, finished, order
_S_RUN_ID, _S_STARTED, _S_FINISHED, _S_REPORT = (  # a Session's fields, by name
    itemgetter(Session._fields.index(name))
    for name in ("run_id", "started", "finished", "report_sha256"))


def current(timeline: Sequence[Fact]) -> list[Fact]:
    """The qualifying facts of the streak at the end of ``timeline``, newest first."""
    found: list[Fact] = []
    for f in reversed(timeline):
        if f.effect == RESETS_STREAK:
            break
        if f.effect == COUNTS:
            found.append(f)
    return found


def streak_runs(commits: Sequence[OpsCommit],
                hand_rows: Iterable[HandRow] = ()) -> list[OpsCommit]:
    """The qualifying runs of the current streak, newest first (a closure does not reset)."""
    return [f.commit for f in current(facts(commits, hand_rows)) if f.commit is not None]


def streak(commits: Sequence[OpsCommit], hand_rows: Iterable[HandRow] = ()) -> int:
    return len(current(facts(commits, hand_rows)))


def streak_with(runs: Runs, *, run_id: str, started: str, finished: str,
                outcome: str, dirty: bool, hand_rows: Iterable[HandRow] = ()) -> int:
    """The streak once a run not yet committed joins the history of ``runs`` (its
    Burnin-Streak)."""
    e = new_effect(runs, run_id=run_id, outcome=outcome, dirty=dirty)
    new = Fact(started, finished, runs.commits + 1, e, run_id, None)
    return len(current(facts(runs, hand_rows, [new])))


def new_effect(runs: Runs, *, run_id: str, outcome: str, dirty: bool) -> int:
    """What a run not yet committed does to the streak of ``runs`` (a voided run id
    resets it, whatever its record says)."""
    return effect(outcome, dirty=dirty) if run_id not in runs.voids else RESETS_STREAK


def contradicted_row(runs: Runs, hand_rows: Iterable[HandRow], *, run_id: str,
                     outcome: str, dirty: bool) -> HandRow | None:
    """The hand-written tracker row for run ``run_id`` that says otherwise than the run
    about to be recorded under that id: that it did not qualify, when the run would
    count (a record never turns a row's non-qualifying run into a qualifying one; the row
    keeps breaking the streak where it falls, `written_rows`), or that it qualified, when
    the run breaks the streak (the row, standing for the run in the tracker, would show a
    failed run as qualifying: `record` adds no row beside it). An attempt with no report
    is recorded beside either. ``runs``: the history before the run. `record` refuses and
    `verify` blames this."""
    effect = new_effect(runs, run_id=run_id, outcome=outcome, dirty=dirty)
    if effect == NEUTRAL:
        return None
    says_qualified = effect != COUNTS  # (what a row contradicting this run says)
    return next((row for row in hand_rows if row.run_id == run_id and
                 row.qualifying == says_qualified), None)


@frozen
class Streak:
    milestone: str
    needed: int
    runs: tuple[OpsCommit, ...]  # the qualifying runs of the streak, oldest first
    attempts: tuple[OpsCommit, ...]  # every ops commit since the last closure, oldest first
    closed_by: OpsCommit | None

    @property
    def count(self) -> int:
        return len(self.runs)

    @property
    def met(self) -> bool:
        return self.count >= self.needed

    @property
    def display(self) -> str:
        return f"{self.count}/{self.needed}"

    @property
    def headline(self) -> str:
        """"MO-2: 2/3", or "MO-2: CLOSED on 2026-11-25 (runs a, b, c)" once it closed."""
        if self.closed_by is None:
            return f"{self.milestone}: {self.display}"
        runs = self.closed_by.trailers.get("Milestone-Evidence", "")
        return f"{self.milestone}: CLOSED on {self.closed_by.date[:10]} (runs {runs})"

    @property
    def evidence_runs(self) -> tuple[OpsCommit, ...]:
        """The runs a closure names: the last ``needed`` of the streak."""
        return self.runs[-self.needed:]


def named_runs(closure: OpsCommit) -> tuple[str, ...]:
    """The run ids a closure's Milestone-Evidence names, in order."""
    said = closure.trailers.get("Milestone-Evidence", "")
    return tuple(r for r in (x.strip() for x in said.split(",")) if r)


def closure(commits: Iterable[OpsCommit], milestone: str) -> OpsCommit | None:
    """The (newest) well-formed closure of ``milestone`` among ``commits``."""
    return next((c for c in commits if c.kind == "milestone" and not c.problems
                 and c.trailers.get("Milestone") == milestone), None)


def closure_before(commits: Sequence[OpsCommit], runs: Runs,
                   milestone: str) -> OpsCommit | None:
    """`closure` of the history before a run (``runs``: its `runs_of`, whose set of closed
    milestones answers first: no history is read before a milestone closed)."""
    return closure(commits, milestone) if milestone in runs.closed else None


def contradicted_closure(closed: OpsCommit | None, runs: Runs, *,
                         merged: Callable[[str], bool], run_id: str, started: str,
                         finished: str, outcome: str, dirty: bool) -> OpsCommit | None:
    """``closed`` (`closure_before` a run; ``runs``: that history's `runs_of`) when the run
    resets a streak and falls between two of the runs the closure named (a session
    recorded late, the closure made without it); None otherwise, or once ``merged``: a
    merged closure is never reopened. `verify` blames the run (`closure-contradicted`)."""
    if closed is None or new_effect(runs, run_id=run_id, outcome=outcome,
                                    dirty=dirty) != RESETS_STREAK:
        return None
    inside = falls_among(named_runs(closed), places(runs),
                         (started, finished, runs.commits + 1))
    return closed if inside and not merged(closed.sha) else None


def row_against(named: Sequence[str], runs: Runs,
                hand_rows: Iterable[HandRow]) -> HandRow | None:
    """The hand-written row that breaks the streak and may fall, at any time it can mean
    (`rows.placed_earliest` to `placed`), between two of the runs ``named`` (a closure's;
    ``runs``: `runs_of`): a failed session written on the base after the closure."""
    keys = [w for n, w in places(runs).items() if n in named] or [("", "", 0)]
    return next((r for r in hand_rows if not r.qualifying and (r.started == UNPLACED or (
        (r.earliest or r.started, "~", -1) < max(keys) and (r.started, "~", -1) > min(keys)))),
        None)


def places(runs: Runs) -> dict[str, tuple[str, str, int]]:
    """Each run's place in time as the timeline sorts it (started, finished, order)."""
    return {f.run_id: _WHEN(f) for f in runs.facts}


def falls_among(named: Sequence[str], when: Mapping[str, tuple[Any, ...]],
                at: tuple[Any, ...]) -> bool:
    """Whether a run at ``at`` falls in time between two of the runs ``named`` (a
    closure's, `named_runs`; ``when``: each run id's place in time, in the same form as
    ``at``): inside the streak the closure stands on, where a break would contradict it
    (`contradicted_closure`, and `void.closure_using`: such a run cannot be voided)."""
    keys = [when[r] for r in named if r in when]
    return bool(keys) and min(keys) < at < max(keys)


def contradicting(commits: Sequence[OpsCommit], milestone: str, *,
                  merged: Callable[[str], bool]) -> tuple[OpsCommit, OpsCommit] | None:
    """(closure, run) when a run committed after the closure of ``milestone`` among
    ``commits`` (newest first) contradicts it (`contradicted_closure`, each run judged on
    the history before it, as `verify` judges it); None otherwise."""
    closed = closure(commits, milestone)
    if closed is None:
        return None
    k = commits.index(closed)
    runs = runs_of(commits[k:])
    for i in range(k - 1, -1, -1):  # oldest first, each on the runs before it
        c = commits[i]
        if c.is_run and not c.problems and contradicted_run(
                closed, runs, merged=merged, run=c) is not None:
            return closed, c
        runs = runs_of([c], on=runs)
    return None


def contradicted_run(closed: OpsCommit | None, runs: Runs, *,
                     merged: Callable[[str], bool], run: OpsCommit) -> OpsCommit | None:
    """`contradicted_closure` for the run commit ``run``."""
    return contradicted_closure(
        closed, runs, merged=merged, run_id=run.run_id,
        started=run.started or run.date, finished=run.finished or run.started or run.date,
        outcome=run.outcome, dirty=run.trailers.get("Code-Dirty") == "true")


def streak_of(commits: Sequence[OpsCommit], *, milestone: str, needed: int,
              hand_rows: Iterable[HandRow] = ()) -> Streak:
    """The streak in ``commits`` (newest first, as `history.read` returns them)."""
    closed_by = closure(commits, milestone)
    attempts = list(commits[:commits.index(closed_by)] if closed_by else commits)
    runs = streak_runs(commits, hand_rows)
    return Streak(milestone, needed, tuple(reversed(runs)), tuple(reversed(attempts)),
                  closed_by)
