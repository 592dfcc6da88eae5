"""Voiding a recorded run: the void record (``reports/evidence/voids/<run-id>.json``), the
rule for which runs may be voided, and the session-log entry and message of the void
commit. Pure.

A void only ever makes the evidence stricter (trust rule 10): the voided run never counts
toward a streak and still breaks one (`streak.commit_effect`), its record stays, and a run
a closure names cannot be voided, so a void can neither shorten a closed streak nor
reopen a milestone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..defaults import VOIDS_DIR
from ..redact import redact
from ..textsafe import line, markdown
from . import trailers
from .history import OpsCommit

if TYPE_CHECKING:  # the model needs pydantic; reading which runs are void does not
    from .record import VoidRecord

MAX_REASON = 500
_RUN_ID = re.compile(trailers.FORMS["Evidence-Run-Id"])


def void_path(run_id: str) -> str:
    return f"{VOIDS_DIR}/{run_id}.json"


def valid_run_id(run_id: str) -> bool:
    return bool(_RUN_ID.fullmatch(run_id))


def clean_reason(text: str) -> str:
    """The reason as one neutral line (controls and format characters gone, account
    numbers redacted); ValueError when nothing is left, it is too long for a trailer, or
    it holds bytes that are no UTF-8 (a terminal in another encoding: Python hands them on
    as lone surrogates, which no document can hold)."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raise ValueError("the reason holds bytes that are not UTF-8 text; type it in a "
                         "UTF-8 terminal")
    reason = redact(line(text)).strip()
    if not reason:
        raise ValueError("the reason is empty; say why the run must not count")
    if len(reason) > MAX_REASON:
        raise ValueError(f"the reason is {len(reason)} characters; keep it to "
                         f"{MAX_REASON} at most (one line: the details belong in the session "
                         "log)")
    return reason


def run_named(commits: Sequence[OpsCommit], run_id: str) -> OpsCommit | None:
    """The well-formed run commit recording ``run_id``."""
    return next((c for c in commits if c.is_run and not c.problems and c.run_id == run_id),
                None)


def void_of(commits: Sequence[OpsCommit], run_id: str) -> OpsCommit | None:
    """The void commit of ``run_id`` (the first one, oldest), if any."""
    found = [c for c in commits if c.kind == "void" and not c.problems and c.run_id == run_id]
    return found[-1] if found else None


def void_reasons(commits: Sequence[OpsCommit]) -> dict[str, str]:
    """Run id -> why it was voided, for every run the history voids."""
    return {c.run_id: c.trailers.get("Void-Reason", "") for c in commits
            if c.kind == "void" and not c.problems and c.run_id}


def closure_using(commits: Sequence[OpsCommit], run_id: str) -> OpsCommit | None:
    """The closure whose streak holds ``run_id``: its Milestone-Evidence names the run, or
    the run falls in time between two of the runs it names (an attempt that left no
    report, neutral there, would break that streak once voided). That run cannot be
    voided."""
    from .streak import falls_among, named_runs, places, runs_of

    when = places(runs_of(commits))
    return next((c for c in commits if c.kind == "milestone" and not c.problems and (
        run_id in named_runs(c) or run_id in when and falls_among(named_runs(c), when,
                                                                 when[run_id]))),
        None)


def void_message(record: VoidRecord, *, outcome: str, milestone: str, version: str,
                 config_sha: str) -> str:
    block = trailers.void_block(run_id=record.run_id, reason=record.reason, version=version,
                                config_sha=config_sha)
    body = (f"Run {record.run_id} ({outcome}, {record.record}) is voided: {record.reason}\n"
            f"A voided run never counts toward {milestone} and still breaks a streak; its "
            "record stays.")
    return redact(trailers.render_message(f"evidence(void): {record.run_id} does not count",
                                          body, block))


def void_entry(record: VoidRecord, *, outcome: str, milestone: str, path: str,
               next_step: str) -> str:
    """The OPS session-log entry of the void (its time: when the void was made)."""
    when = record.voided_at[:16].replace("T", " ")
    return "\n".join([
        f"## {when} UTC — OPS — run {record.run_id} voided",
        "",
        f"- Milestone: {milestone}",
        f"- Run: {record.run_id} ({markdown(outcome)}, {record.record})",
        f"- Reason: {markdown(record.reason)}",
        f"- Result: voided; it never counts toward {milestone} and still breaks a streak",
        f"- Evidence: {path}",
        f"- Next: {next_step}",
    ])
