"""A session an earlier run started and never recorded (its note, `wrapper.json`, left
behind): whether a commit records it already, and where in time it is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ..errors import GitError, UsageError
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit, committed_dict
from ..evidence.stamps import parse_stamp, stamp
from ..ledger.workspace import Context


def history(ctx: Context) -> list[OpsCommit]:
    """The ops branch's history ([] without an ops branch)."""
    try:
        return ctx.history()
    except (UsageError, GitError):
        return []


def free_instant(commits: Sequence[OpsCommit], at: datetime) -> datetime:
    """Where a lost session is recorded: at its start (its end is not known: found by an
    adversary, ending it now overlapped a session recorded since, which refused it), past
    the end of any recorded session that holds that time, as one session, one run reads
    it (`streak.conflicts`: found by an adversary, such a session refused it at every later
    run, for good). ``at``: its start, or now when that is later (a clock set back)."""
    sessions = streaks.runs_of(list(commits)).sessions
    while True:  # (each step moves past a recorded session: it ends)
        when = stamp(at)
        over = [s for rule, s in streaks.conflicts(sessions, run_id="", started=when,
                                                   finished=when, report_sha256=None)
                if rule == "overlapping-session"]
        if not over:
            return at
        at = max(parse_stamp(s.finished) for s in over) + timedelta(seconds=1)


def recorded_already(ctx: Context, commits: Sequence[OpsCommit], began: str, *,
                     starts_within: float | None) -> bool:
    """Whether a run commit among ``commits`` records the session that began at ``began``
    (its record's session.began): a run stopped after its commit and before its note went
    (found by an adversary: the session was recorded again, as lost, which broke the
    streak). For a session whose report was refused (``starts_within`` given: the
    wrapper's retries' waits), a report recorded by hand counts when it started within
    the clock skew allowed of ``began``, or that much after it: the session's own report,
    mended (it was recorded twice, the second time as a failed attempt). A session after
    it starts later than that; a session killed, whose report no refusal noted, is not
    swallowed so. Only records committed since then are read."""

    from .. import git
    from ..defaults import MAX_CLOCK_SKEW_SECONDS
    from ..evidence.stamps import git_date

    since = parse_stamp(began)
    earliest = since - timedelta(seconds=MAX_CLOCK_SKEW_SECONDS)
    latest = since + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS + (starts_within or 0))
    for c in commits:
        path = c.trailers.get("Evidence-Record")
        if not path or git_date(c.date) < since:
            continue
        data = git.show_bytes(ctx.repo, c.sha, path)
        try:
            record = committed_dict(data)
            session = record.get("session") or {}
            noted = session.get("began")
            at = parse_stamp(c.started) if c.started else None
        except (ValueError, AttributeError):
            continue
        if noted == began or (starts_within is not None and noted is None and
                              record.get("report") and at is not None and
                              earliest <= at <= latest):
            return True
    return False
