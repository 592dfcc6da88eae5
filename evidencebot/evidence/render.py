"""Everything rendered from an evidence record: the tracker row, the session-log entry,
the commit message and its trailers.

The record is the source of truth; the row, the entry and the trailers are functions of
it, so `verify` can recompute the trailers and a push that lost a race can re-render the
commit onto a new tip.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

from .. import __version__, defaults
from ..config import Config
from ..frozen import frozen
from ..hashes import sha256
from ..md import edit as mdedit
from ..md import lines as mdlines
from ..redact import redact
from ..templating import fill
from ..textsafe import line, markdown, whole_number
from . import trailers
from .record import EvidenceRecord, Outcome
from .verdict import Verdict, fmt_ratio, outcome_note

STREAK_LINE = re.compile(defaults.STREAK_LINE)


def streak_text(count: int, needed: int) -> str:
    """The tracker's streak line (`defaults.STREAK_LINE`) as `record` and `void` write it."""
    return f"{defaults.STREAK_WORDS} {count} of {needed}"


def with_streak(backlog: bytes, tracker_section: str, count: int, needed: int) -> bytes:
    """The backlog with the tracker's first streak line saying ``count`` of ``needed``
    (unchanged without one). Only lines holding the streak words are looked at."""
    return mdlines.replace_line(backlog, tracker_section, STREAK_LINE,
                                streak_text(count, needed),
                                holding=defaults.STREAK_WORDS.encode())


def streak_said(line: str) -> tuple[int, int]:
    """(count, needed) as a streak line says them."""
    found = STREAK_LINE.search(line)
    assert found is not None, line  # (only ever asked of `streak_lines`' lines)
    return int(found.group(1)), int(found.group(2))


# --- what the trailers say, recomputable from the record ------------------------------

def dirty_text(dirty: bool | None) -> str:
    return "unknown" if dirty is None else "true" if dirty else "false"


def run_trailers(
    record: EvidenceRecord, *, path: str, data: bytes, streak: int, consecutive: int,
    config_sha: str, version: str = __version__, hand_row: bool = False,
) -> list[tuple[str, str]]:
    """The trailer block of a run commit, from its record (``verify`` calls this too);
    ``hand_row``: the run had a hand-written tracker row before it."""
    m = record.metrics
    metrics = None if m is None or not record.outcome.reported else (
        m.paper_duration_seconds, m.filled_orders, fmt_ratio(m.symbol_data_availability_ratio),
        m.min_bars_per_symbol)
    failed = not record.outcome.reported
    return trailers.run_block(
        run_id=record.run_id, outcome=record.outcome.value, record=path,
        record_sha256=sha256(data), started=record.started_at, finished=record.finished_at,
        report_sha256=record.report_sha256, disconnects=record.ibkr.disconnects,
        metrics=metrics, streak=f"{streak}/{consecutive}",
        code_commit=record.code.commit, code_dirty=dirty_text(record.code.dirty),
        client_id=record.ibkr.client_id, codes=record.ibkr.codes if failed else (),
        retry_after=record.session.retry_after, handoff=record.session.handoff,
        version=version, config_sha=config_sha, hand_row=hand_row)


def result_text(record: EvidenceRecord) -> str:
    m, v = record.metrics, record.verdict
    if m and v:
        if v.qualifying:
            return (f"qualifying ({m.filled_orders} filled, data ratio "
                    f"{fmt_ratio(m.symbol_data_availability_ratio)}, "
                    f"min bars {m.min_bars_per_symbol})")
        return f"non-qualifying ({'; '.join(v.reasons)})"
    failure = record.session.failure
    return f"{record.outcome.value} ({line(failure)})" if failure else record.outcome.value


def run_subject(record: EvidenceRecord) -> str:
    return f"evidence(step1a): {record.run_id} {record.outcome.value}"


def run_message(record: EvidenceRecord, block: list[tuple[str, str]], *, streak: int,
                consecutive: int, milestone: str) -> str:
    v = record.verdict
    subject = run_subject(record)
    reasons = [line(r) for r in v.reasons] if v else []
    body = fill("commit_body.txt", run_id=record.run_id, result=line(result_text(record)),
                failed=f"Failed thresholds: {'; '.join(reasons)}.\n" if reasons else "",
                note=f"Note: {line(v.disagreement)}.\n" if v and v.disagreement else "",
                streak=streak, consecutive=consecutive, milestone=milestone)
    return redact(trailers.render_message(subject, body, block))


# --- the documents ---------------------------------------------------------------------

def tracker_values(record: EvidenceRecord, *, number: int, path: str) -> dict[str, str]:
    m, v = record.metrics, record.verdict
    if v:
        outcome = outcome_note(Verdict(v.qualifying, tuple(v.reasons), None, None))
    else:
        outcome = result_text(record)
        if record.session.retry_after:
            outcome += f"; retry scheduled {record.session.retry_after}"
    client = record.ibkr.client_id
    return dict(zip(TRACKER_COLUMNS, (
        str(number), record.started_at[:10], record.run_id,
        str(m.paper_duration_seconds) if m else "—", str(m.filled_orders) if m else "—",
        fmt_ratio(m.symbol_data_availability_ratio) if m else "—",
        str(m.min_bars_per_symbol) if m else "—", "" if client is None else str(client),
        markdown(outcome), path), strict=True))


# The tracker's columns a run's row fills, by their headers (a table holds any of them,
# Run ID among them; another column is left empty in the run's row)
TRACKER_COLUMNS = ("#", "Date (UTC)", "Run ID", "Duration (s)", "Filled", "Data ratio",
                   "Min bars", "Client ID", "Outcome", "Evidence")


@frozen
class Rendered:
    backlog: bytes  # with the run's row (none when a hand-written one exists) and streak
    session_log: bytes
    row_number: int | None  # None: the run already had a (hand-written) row


def tracker_table(cfg: Config, backlog: bytes) -> Any:
    """The table of the backlog's tracker section a run's row goes in: its first, with a
    Run ID column (MarkdownEditError: none)."""
    tracker = cfg.docs.tracker_section
    table = mdedit.first_table(mdedit.parse(backlog), tracker)
    if not table.has_column("Run ID"):  # (a row with no run id breaks every streak)
        raise mdedit.MarkdownEditError(f"the first table in {tracker!r} has no 'Run ID' "
                                       "column (the tracker is the section's first table: "
                                       "move any other table below it)")
    return table


def render_documents(
    record: EvidenceRecord, *, cfg: Config, backlog: bytes, session_log: bytes,
    path: str, streak: int, milestone: str, consecutive: int, checks_default: str,
    closed: bool,
) -> Rendered:
    """The backlog with the run's row (and streak line), the log with the run's entry."""
    tracker = cfg.docs.tracker_section
    table = tracker_table(cfg, backlog)
    row = tracker_row(record, table, path=path)
    new_backlog = backlog
    number: int | None = None
    if row is not None:
        number, values = row
        new_backlog = mdedit.append_row(backlog, tracker, values)
    # (also beside a hand-written row: the line says the streak after every run commit)
    new_backlog = with_streak(new_backlog, tracker, streak, consecutive)
    s = record.session
    entry = fill(
        "session_entry.md",
        when=record.recorded_at[:16].replace("T", " "),
        title=f"Step 1A burn-in {record.run_id}",
        milestone=milestone,
        checks=markdown(s.checks or checks_default),
        command=f"`{line(_join(s.command))}`" if s.command else "none (report recorded by hand)",
        client_id=record.ibkr.client_id or "unknown",
        code_commit=record.code.commit[:12],
        code_state={True: "dirty", False: "clean", None: "code state unknown"}[
            record.code.dirty],
        result=markdown(result_text(record)),
        evidence=path + (f"; {tracker} row {number}" if number else "")
        + (f"; handoff {s.handoff}" if s.handoff else ""),
        next=_next_step(record, streak, milestone, consecutive, closed=closed),
    )
    return Rendered(new_backlog, mdedit.append_entry(session_log, redact(entry)), number)


def redact_bytes(data: bytes) -> bytes:
    # Only the text is redacted; a file that is not UTF-8 is left for the scope rules.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    red = redact(text)
    return data if red == text else red.encode("utf-8")


def tracker_row(record: EvidenceRecord, table: mdedit.Table, *,
                path: str) -> tuple[int, dict[str, str]] | None:
    """(its number, its cells by column) of the row `record` adds to the tracker ``table``
    for the run; None when the table has a row for it already (hand-written). What is
    added is redacted; what the documents held stays byte for byte (the scope rules
    refuse any other change)."""
    run_col = _col(table, "Run ID")
    ids, top = _row_index(table.rows, run_col)
    if record.run_id in ids:
        return None
    number = (top if top is not None else len(table.rows)) + 1
    values = tracker_values(record, number=number, path=path)
    return number, {k: redact(str(v)) for k, v in values.items() if table.has_column(k)}


def _col(table: mdedit.Table, name: str) -> int | None:
    try:
        return table.column(name)
    except mdedit.MarkdownEditError:
        return None


# The last rows indexed, with their index: a walk over an ops history asks about each
# version of a growing tracker, which holds the last one's rows and one more.
_last_index: list[tuple[tuple[tuple[str, ...], ...], int | None, frozenset[str], int | None]] = []


def _row_index(rows: tuple[tuple[str, ...], ...],
               run_col: int | None) -> tuple[frozenset[str], int | None]:
    """(the run ids in column ``run_col``, the highest row number in the first column
    (ASCII digits), None when no row has one) of a table's ``rows``."""
    done, ids, top = 0, frozenset[str](), None  # type: int, frozenset[str], int | None
    for seen, col, seen_ids, seen_top in _last_index:
        if col == run_col and len(rows) >= len(seen) and rows[:len(seen)] == seen:
            done, ids, top = len(seen), seen_ids, seen_top
    new = rows[done:]
    if run_col is not None:
        ids = ids.union([r[run_col] for r in new if run_col < len(r)])
    nums = [n for n in (whole_number(r[0]) for r in new if r) if n is not None]
    if nums:
        top = max(nums) if top is None else max(top, *nums)
    _last_index[:] = [(rows, run_col, ids, top)]
    return ids, top


def _join(argv: Sequence[str]) -> str:
    """The command line as the operator would type it (POSIX quoting)."""
    return shlex.join(argv)


def _next_step(record: EvidenceRecord, streak: int, milestone: str, need: int, *,
               closed: bool) -> str:
    outcome = record.outcome
    retry = record.session.retry_after
    if outcome == Outcome.FAILED_CODE:
        return "DEBUG session: see the handoff packet"
    if retry:
        return f"retry in the next window ({retry})"
    if outcome == Outcome.FAILED_INFRA:
        return "fix the gateway, then retry in the next window"
    if closed:
        return f"{milestone} is closed; this run is recorded as evidence only"
    if streak >= need:
        return f"{milestone} streak met ({streak}/{need}): close {milestone}"
    return f"run {streak + 1} of {need} in the next window"
