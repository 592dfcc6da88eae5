"""The tracker rows the streak reads: the hand-written ones (`hand_rows`), each breaking
the streak unless it reads qualifying (`row_breaks`). Pure and stdlib-only, like
`streak` (the hook reads them too); the Markdown parser is imported only when a tracker
is read."""

# No `from __future__ import annotations`: see guard/rules.py (NamedTuple fields).

import re
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from ..frozen import frozen
from .trailers import OUTCOMES, RESETS

if TYPE_CHECKING:
    from .store import Store

_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


@frozen
class HandRow:
    """A tracker row written by hand, which the streak reads (`hand_rows`)."""

    run_id: str
    started: str  # ISO-8601 UTC, "…Z"
    qualifying: bool


def stamp_of(run_id: str) -> str | None:
    """``20261116T081500Z`` (a run id that is a UTC stamp) as ISO-8601, else None."""
    m = _STAMP.match(run_id)
    if not m:
        return None
    y, mo, d, h, mi, s = m.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"


def hand_rows(backlog: bytes, tracker_section: str, written: AbstractSet[str], *,
              store: "Store | None" = None) -> list[HandRow]:
    """The tracker rows the streak reads: every row but those of the run ids in
    ``written``, the rows run commits wrote for their own runs (`streak.written_rows`). A
    hand-written row stays one after a run is recorded under its run id: a report dated
    elsewhere, or one that does not count, never takes the row's break away. Its time:
    the run id when it is a UTC stamp, else the row's date at midnight. ``store``: the
    last tracker read, by the backlog's hash (no Markdown parse while it is unchanged)."""
    rows: list[tuple[str, str, str]] | None = None
    digest = ""
    if store is not None:
        from ..hashes import sha256

        digest = sha256(backlog)
        saved = store.load()
        if isinstance(saved, tuple) and len(saved) == 2 and saved[0] == digest:
            rows = saved[1]
    if rows is None:
        rows = tracker_rows(backlog, tracker_section)
        if store is not None:
            store.save((digest, rows))
    out: list[HandRow] = []
    for run_id, date, outcome in rows:
        if run_id in written:
            continue
        started = stamp_of(run_id) or (f"{date[:10]}T00:00:00Z" if date else "")
        if started:
            out.append(HandRow(run_id, started, not row_breaks(outcome)))
    return out


_FIRST_WORD = re.compile(r"[a-z][a-z-]*")
_LEAVES_ALONE = frozenset(o for o in OUTCOMES if o not in RESETS)  # qualifying, failed-*


def row_breaks(outcome: str) -> bool:
    """Whether a tracker row's Outcome cell breaks the streak: unless its first word
    (Markdown marks, case and Unicode compatibility forms aside) is ``qualifying`` or an
    attempt that never produced a report, it does — non-qualifying, a code bug, a word no
    rule knows, nothing at all. A cell the rule cannot read fails closed."""
    if not outcome.isascii():
        import unicodedata

        outcome = unicodedata.normalize("NFKC", outcome)
    word = _FIRST_WORD.search(outcome.casefold())
    return word is None or word.group() not in _LEAVES_ALONE


# The last tracker read: (header, rows, their facts). A walk over an ops history reads
# each version of a growing tracker; a version that only adds rows to the last one read
# costs only its new rows.
_last_read: list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...],
                       tuple[tuple[str, str, str], ...]]] = []


def tracker_rows(backlog: bytes, tracker_section: str) -> list[tuple[str, str, str]]:
    """(run id, date, outcome in lower case) of each tracker row that names a run."""
    from ..md import edit as mdedit  # Markdown: only when someone asks about hand-written rows

    try:
        table = mdedit.first_table(mdedit.parse(backlog), tracker_section)
        col_id = table.column("Run ID")
    except mdedit.MarkdownEditError:
        return []
    col_date = table.column("Date (UTC)") if table.has_column("Date (UTC)") else None
    col_out = table.column("Outcome") if table.has_column("Outcome") else None
    rows, done = table.rows, 0
    out: list[tuple[str, str, str]] = []
    if _last_read:
        header, seen, facts = _last_read[0]
        if header == table.header and rows[:len(seen)] == seen:
            done, out = len(seen), list(facts)
    for r in rows[done:]:
        if col_id >= len(r) or not r[col_id]:
            continue
        date = r[col_date] if col_date is not None and col_date < len(r) else ""
        outcome = r[col_out].strip().lower() if col_out is not None and col_out < len(r) else ""
        out.append((r[col_id], date, outcome))
    _last_read[:] = [(table.header, rows, tuple(out))]
    return out
