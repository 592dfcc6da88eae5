"""The streak rules: what a run does to the streak toward a milestone. Pure and stdlib-only
(the hook uses it to decide whether a milestone may become CLOSED)."""

from __future__ import annotations

from collections.abc import Sequence

from .history import OpsCommit
from .trailers import RESETS


def runs(commits: Sequence[OpsCommit]) -> list[OpsCommit]:
    return [c for c in commits if c.is_run and not c.problems]


COUNTS, NEUTRAL, RESETS_STREAK = 1, 0, -1


def effect(outcome: str, *, dirty: bool) -> int:
    """What a run does to the streak: COUNTS (qualifying, clean code), RESETS_STREAK (a
    completed run that does not qualify, a code bug, dirty code) or NEUTRAL (attempts that
    never produced a report: failed-infra, failed-market-data)."""
    if outcome == "qualifying":
        return RESETS_STREAK if dirty else COUNTS
    return RESETS_STREAK if outcome in RESETS else NEUTRAL


def next_streak(prior: int, outcome: str, *, dirty: bool) -> int:
    e = effect(outcome, dirty=dirty)
    return prior + 1 if e == COUNTS else 0 if e == RESETS_STREAK else prior


def commit_effect(c: OpsCommit) -> int:
    """A commit's effect; checks, closures and malformed commits are neutral."""
    if not c.is_run or c.problems:
        return NEUTRAL
    return effect(c.outcome, dirty=c.trailers.get("Code-Dirty") == "true")


def streak_runs(commits: Sequence[OpsCommit]) -> list[OpsCommit]:
    """The qualifying runs of the current streak, newest first (a closure does not reset)."""
    runs: list[OpsCommit] = []
    for c in commits:
        e = commit_effect(c)
        if e == RESETS_STREAK:
            break
        if e == COUNTS:
            runs.append(c)
    return runs


def streak(commits: Sequence[OpsCommit]) -> int:
    """Consecutive qualifying runs, most recent first (see ``effect``)."""
    return len(streak_runs(commits))
