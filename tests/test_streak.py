"""The streak table: what counts, what resets, what neither counts nor resets."""

from __future__ import annotations

import pytest

from evidencebot.evidence.history import OpsCommit
from evidencebot.evidence.streak import streak_of


def run(outcome: str, i: int, *, dirty: bool = False) -> OpsCommit:
    return OpsCommit(f"{i:040x}", (), "bot", f"2026-11-{i:02d}", "s", {
        "Evidence-Kind": "step1a-burnin", "Evidence-Run-Id": f"R{i}",
        "Evidence-Outcome": outcome, "Code-Dirty": "true" if dirty else "false"})


def other(kind: str, i: int, **t: str) -> OpsCommit:
    return OpsCommit(f"{i:040x}", (), "bot", f"2026-11-{i:02d}", "s", {"Evidence-Kind": kind, **t})


Q, N = "qualifying", "non-qualifying"

# Each row: the history oldest first, and the run ids of the streak.
TABLE = [
    pytest.param([], [], id="empty"),
    pytest.param([Q, Q, Q], ["R0", "R1", "R2"], id="exactly-3"),
    pytest.param([Q, Q, Q, Q, Q], ["R0", "R1", "R2", "R3", "R4"], id="more-than-3"),
    pytest.param([Q, N, Q, Q], ["R2", "R3"], id="reset-by-non-qualifying"),
    pytest.param([Q, Q, "failed-code", Q], ["R3"], id="reset-by-failed-code"),
    pytest.param([Q, "failed-infra", Q, "failed-market-data", Q], ["R0", "R2", "R4"],
                 id="infra-and-market-data-neither-count-nor-reset"),
    pytest.param([Q, Q, "dirty", Q], ["R3"], id="reset-by-dirty-code"),
    pytest.param([N, N], [], id="only-non-qualifying"),
    pytest.param([Q, "check", Q], ["R0", "R2"], id="refused-session-neither-counts-nor-resets"),
]


def build(outcomes: list[str]) -> list[OpsCommit]:
    commits = []
    for i, o in enumerate(outcomes):
        if o == "dirty":
            commits.append(run(Q, i, dirty=True))
        elif o == "check":
            commits.append(other("check", i, **{"Check-Failed": "window"}))
        else:
            commits.append(run(o, i))
    return list(reversed(commits))  # history.read gives newest first


@pytest.mark.parametrize(("outcomes", "streak"), TABLE)
def test_streak_table(outcomes: list[str], streak: list[str]) -> None:
    s = streak_of(build(outcomes), milestone="MO-2", needed=3)
    assert [r.run_id for r in s.runs] == streak
    assert s.met == (len(streak) >= 3)
    assert s.display == f"{len(streak)}/3"
    assert len(s.attempts) == len(outcomes)  # every attempt is shown, failures included


def test_closure_already_done_is_found_and_does_not_reset() -> None:
    commits = build([Q, Q, Q])
    closure = other("milestone", 9, Milestone="MO-2", **{"Milestone-Status": "CLOSED"})
    s = streak_of([run(Q, 10), closure, *commits], milestone="MO-2", needed=3)
    assert s.closed_by is closure
    assert s.count == 4  # 4/3: a closure does not reset the streak
    assert [c.run_id for c in s.attempts] == ["R10"]  # attempts since the last closure


def test_evidence_runs_are_the_last_needed() -> None:
    s = streak_of(build([Q, Q, Q, Q]), milestone="MO-2", needed=3)
    assert [r.run_id for r in s.evidence_runs] == ["R1", "R2", "R3"]
