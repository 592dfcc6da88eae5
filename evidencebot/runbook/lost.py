"""A session an earlier run started and never recorded (its note, `wrapper.json`, left
behind): whether a commit records it already, and where in time it is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..errors import UsageError
from ..evidence.stamps import parse_stamp
from ..ledger.workspace import Context


def run_commits(ctx: Context) -> list[Any]:
    """The ops branch's commits that hold a run's record ([] without an ops branch)."""
    from ..errors import GitError

    try:
        return [c for c in ctx.history() if c.trailers.get("Evidence-Record")]
    except (UsageError, GitError):
        return []


def free_instant(commits: Sequence[Any], at: datetime) -> datetime:
    """Where a lost session is recorded: at its start (its end is not known: found by an
    adversary, ending it now overlapped a session recorded since, which refused it), not
    after now (a clock set back since would date it after its commit), and past the end of
    any recorded session whose span holds that time (one session is one run: found by an
    adversary, such a span refused it at every later run, for good)."""
    from datetime import timedelta

    spans = sorted((parse_stamp(a), parse_stamp(b)) for c in commits
                   for a, b in [(c.trailers.get("Evidence-Started-At", ""),
                                 c.trailers.get("Evidence-Finished-At", ""))] if a and b)
    for begin, end in spans:  # (in time order: a shift may land in a later span)
        if begin <= at <= end:
            at = end + timedelta(seconds=1)
    return at


def recorded_already(ctx: Context, commits: Sequence[Any], began: str) -> bool:
    """Whether one of the run ``commits`` records the session that began at ``began`` (its
    record's session.began): a run stopped after its commit and before its note went
    (found by an adversary: the session was recorded again, as lost, which broke the
    streak). Only records committed since then are read."""
    import json

    from .. import git
    from ..evidence.stamps import git_date

    since = parse_stamp(began)
    for c in commits:
        path = c.trailers["Evidence-Record"]
        if git_date(c.date) < since:
            continue
        data = git.show_bytes(ctx.repo, c.sha, path)
        try:
            session = json.loads(data or b"{}").get("session") or {}
        except (ValueError, AttributeError):
            continue
        if isinstance(session, dict) and session.get("began") == began:
            return True
    return False
