"""What `record` refuses before it writes (exit 2, nothing committed): the rules `verify`
applies to a run commit, said to the operator before there is one."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..errors import UsageError
from ..evidence import rows
from ..evidence import streak as streaks
from ..evidence.record import EvidenceRecord
from ..guard.folders import existing_names
from ..guard.paths import fold
from ..guard.rules import REGULAR, Blob, Change
from .workspace import Context


def refuse_case_twin(ctx: Context, rev: str, path: str) -> None:
    """A record named like another but for case is the same file on Windows and macOS."""
    name = path.rsplit("/", 1)[-1]
    # The names the scope rules' case-twin check reads, asked as it asks them.
    taken = existing_names(ctx.repo, rev, [Change(None, Blob(path, REGULAR, None))])
    twin = taken.twin(fold(path))
    if twin is not None and twin != path and not taken.has(path):
        raise UsageError(f"run {name[:-len('.json')]} differs only in case from the recorded "
                         f"{twin.rsplit('/', 1)[-1][:-len('.json')]} ({twin}): the same file on "
                         "Windows and macOS")


def refuse_second_session(record: EvidenceRecord, runs: streaks.Runs) -> None:
    """One session, one run: a run overlapping a recorded one, or a report already behind
    another record, is refused (exit 2; `streak.conflicts`, the rule verify applies)."""
    for rule, s in streaks.conflicts(runs.sessions, run_id=record.run_id,
                                     started=record.started_at, finished=record.finished_at,
                                     report_sha256=record.report_sha256):
        if rule == "run-recorded-twice":
            raise UsageError(f"run {record.run_id} is already recorded in {s.sha[:12]}; a "
                             "session is recorded once", fix="record the next session's "
                             "report (`evidencebot history` lists what is recorded)")
        if rule == "report-reused":
            raise UsageError(f"this report is already recorded as run {s.run_id} "
                             f"({s.sha[:12]}); one report backs one record")
        if rule == "overlapping-session":
            raise UsageError(
                f"run {record.run_id} ({record.started_at} to {record.finished_at}) overlaps "
                f"run {s.run_id} ({s.started} to {s.finished}, {s.sha[:12]}): one session is "
                "one run", fix=f"a run starts after the last one ended ({s.finished}); a "
                "session is recorded once (a void keeps its time taken): record the next "
                "session's report")


def refuse_contradicted_row(record: EvidenceRecord, runs: streaks.Runs,
                            hand: Sequence[rows.HandRow], *, backlog: str) -> None:
    """A run whose hand-written tracker row says otherwise is not recorded (exit 2;
    `streak.contradicted_row`, the rule verify applies)."""
    row = streaks.contradicted_row(runs, hand, run_id=record.run_id,
                                   outcome=record.outcome.value,
                                   dirty=record.code.dirty is True)
    if row is not None and not row.qualifying:
        raise UsageError(f"run {record.run_id} has a hand-written row in {backlog} that says "
                         "it did not qualify; a record cannot make it a qualifying run")
    if row is not None:
        raise UsageError(f"run {record.run_id} does not qualify, and a hand-written row in "
                         f"{backlog} says it did: the row would show it as qualifying",
                         fix="mend the row on the base branch (it says what the run's "
                         "report does not), then record the run")


def same_or_refuse(record: EvidenceRecord, existing: bytes, path: str) -> None:
    try:
        old = json.loads(existing.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        old = None  # (a file made by hand: not this record)
    said = old.get("report_sha256") if isinstance(old, dict) else None
    if record.report_sha256 is None or said != record.report_sha256:
        raise UsageError(
            f"run {record.run_id} is already recorded ({path}) with different content; "
            "a record is never rewritten"
        )
