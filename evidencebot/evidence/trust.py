"""The trust rules a run must meet besides the thresholds, decided from what the evidence
says (its times, its code, its IBKR messages) and the base branch's config; `record`,
`run` and `verify` call the same `run_reasons`.

- Inside the window: the run starts and ends inside the session window (days, hours,
  bank holidays, blackouts), however it was recorded.
- As long as it says: finish − start is at least the claimed paper duration − 60 s.
- Reviewed code: the code commit was on the base branch when the run started
  (`Context.base_at`), and clean; the record's code is
  held to what the report says of its own code (`code_facts`).
- Connectivity: at most `[qualify] max_disconnects` disconnections, when that is set.
- Its own session: a run `run` made started no earlier than `run` started it and
  finished no later than `run` recorded it (a minute allowed: one machine's clock): a
  wrapper that hands back a report of a half hour already gone, or still to come, ran
  no session (on a real clock; a pinned one is the operator's word); nor does it claim
  more paper trading than the time between the two, that minute aside (adversary 48: the
  three allowances added up to three minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..config import Qualify
from ..frozen import frozen
from .window import Window, interval_problem

DURATION_SLACK_SECONDS = 60
# `run` and the wrapper it starts read one machine's clock: a report's session may start
# this much before `run` started it (whole seconds, a wrapper's own rounding), no more
ONE_CLOCK_SECONDS = 60


@frozen
class RunFacts:
    started: datetime
    finished: datetime
    claimed_seconds: int | None  # the paper duration the report claims (None: no report)
    code_commit: str
    code_on_base: bool
    disconnects: int | None = None
    exit_code: int | None = None  # the burn-in command's (None: recorded by hand)
    began: datetime | None = None  # when `run` started the session (None: not known)
    recorded: datetime | None = None  # when `run` recorded it (with ``began``)


def code_facts(commit: str, dirty: bool | None, reported: Any,
               on_base: Callable[[str], bool]) -> tuple[str, bool, bool]:
    """(the commit the reasons name, whether the base holds the code, whether it was
    dirty) of a run whose record says ``commit`` and ``dirty``, held to what its report
    says of its own code (``reported``: its metrics, whose `code_commit` and `code_dirty`
    come through `[report.fields]`; None without a report). A report naming a commit the
    base does not hold, or dirty code, makes the run so whatever the record says."""
    said_commit = getattr(reported, "code_commit", None)
    said_dirty = getattr(reported, "code_dirty", None)
    held = on_base(commit)
    if held and said_commit is not None and said_commit != commit and not on_base(said_commit):
        return said_commit, False, dirty is True or said_dirty is True
    return commit, held, dirty is True or said_dirty is True


def unreviewed_code(reason: str) -> bool:
    """Whether ``reason`` is `run_reasons`' for code the base did not hold (in this
    release's words or the earlier "code X is not on B")."""
    return reason.startswith("code ") and (" was not on " in reason or " is not on " in reason)


def run_reasons(f: RunFacts, *, window: Window, qualify: Qualify, base: str) -> list[str]:
    """Why a run does not qualify under the trust rules (empty when it may)."""
    reasons: list[str] = []
    outside = interval_problem(f.started, f.finished, window)
    if outside:
        reasons.append(f"outside the session window: {outside}")
    span = int((f.finished - f.started).total_seconds())
    if f.claimed_seconds is not None and span < f.claimed_seconds - DURATION_SLACK_SECONDS:
        reasons.append(f"the report claims {f.claimed_seconds} s of paper trading but spans "
                       f"{span} s from start to finish")
    if not f.code_on_base:
        reasons.append(f"code {f.code_commit[:7]} was not on {base} when the run started"
                       if f.code_commit != "none" else
                       f"{base} had no commit yet when the run started")
    limit = qualify.max_disconnects
    if limit is not None and f.disconnects is not None and f.disconnects > limit:
        reasons.append(f"{f.disconnects} IBKR disconnection(s) > {limit}")
    if f.exit_code not in (None, 0):  # (its report was written: the session ran)
        reasons.append(f"the burn-in command exited {f.exit_code}, not 0")
    slack = timedelta(seconds=ONE_CLOCK_SECONDS)
    if f.began is not None and f.started < f.began - slack:
        reasons.append(f"the report's session started at {f.started:%Y-%m-%dT%H:%M:%SZ}, "
                       f"before `run` started it at {f.began:%Y-%m-%dT%H:%M:%SZ}: a report "
                       "of another session")
    if f.began is not None and f.recorded is not None and f.finished > f.recorded + slack:
        reasons.append(f"the report's session finished at {f.finished:%Y-%m-%dT%H:%M:%SZ}, "
                       f"after `run` recorded it at {f.recorded:%Y-%m-%dT%H:%M:%SZ}: a report "
                       "of another session")
    ran = int((f.recorded - f.began).total_seconds()) if f.began and f.recorded else None
    if ran is not None and f.claimed_seconds is not None and \
            f.claimed_seconds > ran + ONE_CLOCK_SECONDS:  # (the slacks above add up: 180 s)
        reasons.append(f"the report claims {f.claimed_seconds} s of paper trading, but `run` "
                       f"ran the session for {ran} s")
    return reasons
