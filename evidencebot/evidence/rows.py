"""The tracker rows the streak reads: the hand-written ones (`hand_rows`), each breaking
the streak unless it reads qualifying (`row_breaks`). Pure and stdlib-only, like
`streak` (the hook reads them too); the Markdown parser is imported only when a tracker
is read."""

# No `from __future__ import annotations`: see guard/rules.py (NamedTuple fields).

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..defaults import STREAK_LINE
from ..frozen import frozen
from ..textsafe import shown, whole_number
from .trailers import OUTCOMES, RESETS

if TYPE_CHECKING:
    from datetime import datetime

    from .store import Store

_STREAK_LINE = re.compile(STREAK_LINE)
_STAMP = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")


def streak_lines(backlog: bytes, tracker_section: str) -> list[str]:
    """The streak lines of the tracker section, in order, without their line endings: the
    first is the one `record` and `void` rewrite. [] without one tracker section."""
    from ..defaults import STREAK_WORDS
    from ..md import edit as mdedit
    from ..md import lines as mdlines

    try:
        return mdlines.lines_matching(backlog, tracker_section, _STREAK_LINE,
                                     holding=STREAK_WORDS.encode())
    except mdedit.MarkdownEditError:
        return []


@frozen
class HandRow:
    """A tracker row written by hand, which the streak reads (`hand_rows`)."""

    run_id: str
    started: str  # ISO-8601 UTC, "…Z": the latest time it can mean (`placed`)
    qualifying: bool
    earliest: str = ""  # the earliest time it can mean (`placed_earliest`); "": started


def stamp_of(run_id: str) -> str | None:
    """``20261116T081500Z`` (a run id that starts with a UTC stamp of a real time this
    century) as ISO-8601, else None."""
    when = _stamped(run_id)
    return when.strftime(_ISO) if when is not None else None


def _stamped(run_id: str) -> "datetime | None":
    m = _STAMP.match(run_id)
    return _real(*map(int, m.groups())) if m else None


def hand_rows(backlog: bytes, tracker_section: str, written: AbstractSet[str], *,
              store: "Store | None" = None) -> list[HandRow]:
    """The tracker rows the streak reads: every row but those of the run ids in
    ``written``, the rows run commits wrote for their own runs (`streak.written_rows`). A
    hand-written row stays one after a run is recorded under its run id: a report dated
    elsewhere, or one that does not count, never takes the row's break away. Its time:
    `placed`, or `UNPLACED` (a row that cannot be placed fails closed). ``store``: the
    last tracker read, by the backlog's hash (no Markdown parse while it is unchanged)."""
    rows: list[Fields] | None = None
    digest = ""
    if store is not None:
        from ..hashes import sha256
        from .store import typed_rows

        digest = sha256(backlog)
        saved = store.load()
        if isinstance(saved, tuple) and len(saved) == 2 and saved[0] == digest and \
                typed_rows(saved[1], (str, str, str, str)):
            rows = saved[1]
    if rows is None:
        rows = tracker_rows(backlog, tracker_section)
        if store is not None:
            store.save((digest, rows))
    twice = _twice(rows, written)
    return [HandRow(run_id, placed(run_id, date, seconds) or UNPLACED, not row_breaks(outcome),
                    placed_earliest(run_id, date))
            for run_id, date, outcome, seconds in rows
            if not run_id or run_id not in written or run_id in twice]


def _twice(rows: list[tuple[str, str, str, str]], written: AbstractSet[str]) -> AbstractSet[str]:
    """The run ids in ``written`` that more than one row names: a run commit writes one
    row, so the others were written by hand (a failed session's row added on the base
    for a run the ops branch recorded, merged in), and each of them is read as one. The
    run's own row with them changes nothing: a qualifying one neither counts nor breaks,
    and one that does not qualify breaks where the run does."""
    ids = [r[0] for r in rows]
    if len(set(ids)) == len(ids):
        return frozenset()
    from collections import Counter

    return {i for i, n in Counter(ids).items() if n > 1 and i in written}


# Where a row no one can place in time stands: after every run, so that it breaks every
# streak until it is mended (on the base branch; the hook refuses one on an ops branch).
UNPLACED = "9999-12-31T23:59:59Z"
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")  # (ASCII digits only)


@lru_cache(maxsize=4096)
def placed(run_id: str, date: str, seconds: str = "") -> str | None:
    """Where a tracker row's break falls, as ISO-8601 UTC: the end of its session, its run
    id's stamp (`stamp_of`) plus its Duration (s) (a run starting inside a session the row
    says failed comes before the break), when the stamp falls on the row's Date; else the
    end of its Date's day (a break known only by its day comes after every run of that
    day), or the later of the two when they disagree; None when neither reads as a time
    this century. Every doubt puts the break later: it then breaks more."""
    stamp = _stamped(run_id)
    day = _DAY.fullmatch(date.strip())
    y, mo, d = map(int, day.groups()) if day is not None else (0, 0, 0)
    on = _real(y, mo, d, 23, 59, 59)  # (the end of its day; None without one)
    if stamp is None or (on is not None and stamp.date() != on.date()):
        later = max((w for w in (stamp, on) if w is not None), default=None)
        return later.strftime(_ISO) if later is not None else None
    from datetime import timedelta

    given = whole_number(seconds.strip()) if len(seconds.strip()) <= 6 else None
    span = given if given is not None else 0
    return (stamp + timedelta(seconds=span)).strftime(_ISO)


_ISO = "%Y-%m-%dT%H:%M:%SZ"


def placed_earliest(run_id: str, date: str) -> str:
    """The earliest time a tracker row can mean, where `placed` takes the latest: its run
    id's stamp when it falls on the row's Date (or the row has none), else the earlier of
    that stamp and the start of its Date's day; "" when neither reads as a time. A closure
    is contradicted by a row that may fall among its runs (found by an adversary: a failed
    session's row dated a day off, or known by its day only, was placed after the
    closure's runs and contradicted nothing)."""
    stamp = _stamped(run_id)
    day = _DAY.fullmatch(date.strip())
    on = _real(*map(int, day.groups())) if day is not None else None
    if stamp is not None and (on is None or stamp.date() == on.date()):
        return stamp.strftime(_ISO)
    earlier = min((w for w in (stamp, on) if w is not None), default=None)
    return earlier.strftime(_ISO) if earlier is not None else ""


def _real(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
          second: int = 0) -> "datetime | None":
    """That time, when it is a real one this century."""
    from datetime import datetime

    try:
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return when if 2000 <= year < 2100 else None


# What leaves the streak alone: the cell is `qualifying` and nothing else, or an attempt
# that never produced a report, alone or with its reason after ":", ";", "(" or a dash.
_ATTEMPTS = "|".join(sorted(o for o in OUTCOMES if o not in RESETS and o != "qualifying"))
_LEAVES_ALONE = re.compile(rf"qualifying\.?|(?:{_ATTEMPTS})(?:(?:\s*[:;(\u2014\u2013]|\s+-\s).*)?")


def row_breaks(outcome: str) -> bool:
    """Whether a tracker row's Outcome cell breaks the streak: unless it reads
    ``qualifying`` and nothing else, or an attempt that never produced a report (with its
    reason), it does — non-qualifying, a code bug, "qualifying: no", "✗ qualifying", a
    word no rule knows, nothing at all (Markdown emphasis, case and Unicode compatibility
    forms aside). A cell the rule cannot read fails closed."""
    if not outcome.isascii():
        import unicodedata

        outcome = unicodedata.normalize("NFKC", outcome)
    plain = outcome.casefold().strip().strip("*_`~").strip()
    return _LEAVES_ALONE.fullmatch(plain) is None


Fields = tuple[str, str, str, str]  # run id, date, outcome (lower case), duration (s)


def row_fields(table: Any) -> Callable[[tuple[str, ...]], Fields | None]:
    """(run id, date, outcome in lower case, duration) of a row of the tracker ``table``
    (an `md.edit.Table`); None for a row that holds nothing, and for the streak line
    (right under the table, GFM reads it as a row of one cell)."""
    def col(name: str) -> int:  # (a column the table lacks reads as an empty cell)
        return table.column(name) if table.has_column(name) else len(table.header)

    at = (col("Run ID"), col("Date (UTC)"), col("Outcome"), col("Duration (s)"))

    def fields(r: tuple[str, ...]) -> Fields | None:
        if not any(r) or (len(r) == 1 and _STREAK_LINE.search(r[0])):
            return None
        run_id, date, outcome, seconds = (r[i] if i < len(r) else "" for i in at)
        return run_id, date, outcome.strip().lower(), seconds
    return fields


def _other_runs(table: Any) -> list[Fields]:
    """The rows of another table in the tracker's section, when it is a table of runs: a
    run id column and an outcome column, their headers read leniently (case, spacing,
    punctuation, emphasis, Unicode compatibility forms and invisible characters aside,
    words around them too: `**Run-ID**`, `run_id`, `Run`, `Outcome (desk)`,
    `Ｏｕｔｃｏｍｅ`). Each row is read as the tracker's are (its run cell as `shown`: a
    link's text, code, full-width digits), but a row that names no run, no day and no
    outcome (a template row `| <run id> | <outcome> |`, `| | n/a |`): a row of a session
    known by words ("manual 2026-11-24") breaks as the tracker's would (found by an
    adversary: only rows whose run cell was a bare run id were read, and a failed session
    written as a link broke nothing). A legend of outcomes or a table of notes is no table
    of runs."""
    keys = [_header_key(h) for h in table.header]

    def first(test: Callable[[str], bool]) -> int | None:
        return next((i for i, k in enumerate(keys) if test(k)), None)

    # (every run and outcome column: found by an adversary, `| Run # | Run ID | Wrapper
    # outcome | Desk outcome |` read its first two, placeholders, and skipped the row)
    runs = [i for i, k in enumerate(keys) if "runid" in k] + \
        [i for i, k in enumerate(keys) if k == "run"]
    outcomes = [i for i, k in enumerate(keys) if "outcome" in k]
    if not runs or not outcomes:
        return []
    date = first(lambda k: k.startswith("date"))
    seconds = first(lambda k: k.startswith("duration"))

    def cell(r: tuple[str, ...], i: int | None) -> str:
        return r[i] if i is not None and i < len(r) else ""

    def said(r: tuple[str, ...], cols: list[int]) -> list[str]:  # (placeholders aside)
        return [c for c in (cell(r, i) for i in cols) if not _placeholder(c)]

    out: list[Fields] = []
    for r in table.rows:
        named, verdicts = said(r, runs), [v.strip().lower() for v in said(r, outcomes)]
        if named or verdicts or _DAY.search(shown(cell(r, date))):
            outcome = next((v for v in verdicts if row_breaks(v)), verdicts[0] if verdicts
                           else cell(r, outcomes[0]).strip().lower())  # (the worst said)
            out.append((shown(named[0] if named else cell(r, runs[0])), cell(r, date),
                        outcome, cell(r, seconds)))
    return out


def _placeholder(cell: str) -> bool:
    """Whether a cell says nothing: empty, a template's ``<…>``, a dash, n/a."""
    plain = shown(cell).strip("*_` ").casefold()
    return not plain or _TEMPLATE.fullmatch(plain) is not None


_TEMPLATE = re.compile(r"<[^<>]*>|[-\u2013\u2014.\u2026]+|n/?a|tbd|none")


def _header_key(cell: str) -> str:
    """A header cell as `_other_runs` compares it: letters and digits, case-folded."""
    import unicodedata

    plain = unicodedata.normalize("NFKC", cell).casefold()
    return "".join(c for c in plain if c.isalnum())


# The last two trackers read: (header, rows, their facts). A walk over an ops history reads
# each version of a growing tracker, and a commit's old side after its new one; a version
# that only adds rows to one of them costs only its new rows.
_last_read: list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...],
                       tuple[Fields, ...]]] = []


def tracker_rows(backlog: bytes, tracker_section: str) -> list[Fields]:
    """`row_fields` of each row of the tracker's table that holds anything (a row without
    a run id, or a table without the Run ID column, gives "": such a row names no run the
    history could have written), then the rows of any other table of runs in its section
    (`_other_runs`)."""
    from ..md import edit as mdedit  # Markdown: only when someone asks about hand-written rows

    doc = mdedit.parse(backlog)
    try:
        table, *more = mdedit.tables(doc, mdedit.find_section(doc, tracker_section))
    except (mdedit.MarkdownEditError, ValueError):  # (no such section, no table in it)
        return []
    extra = [f for t in more for f in _other_runs(t)]
    rows, done = table.rows, 0
    out: list[Fields] = []
    for header, seen, facts in sorted(_last_read, key=lambda x: -len(x[1])):
        if header == table.header and rows[:len(seen)] == seen:  # (the longer first)
            done, out = len(seen), list(facts)
            break
    fields = row_fields(table)
    out.extend(filter(None, map(fields, rows[done:])))
    _last_read[:] = [(table.header, rows, tuple(out)),
                     *(x for x in _last_read if x[1] is not rows)][:2]  # (the latest two)
    return out + extra
