"""The tracker section's own scope rules, beside `documents`' rows-only-added ones: the
streak line changes only into a streak line, nothing added reads like one, and every row
added can be placed in time."""

# No `from __future__ import annotations`: see scope.py.

import re
from collections.abc import Iterable
from typing import Any

from ..defaults import STREAK_LINE, STREAK_WORDS
from ..textsafe import skeleton
from .prose import closed_said
from .rules import Change, Rules, StreakOf, Violation, closed_early

_STREAK_LINE = re.compile(STREAK_LINE)
_WORDS_FOLDED = " ".join(STREAK_WORDS.casefold().rstrip(":").split())


def streak_lines_kept(ch: Change, section: str) -> list[Violation]:
    """A streak line changes only into another streak line: removed or reworded ("3 of
    3 ✅", "**3** of 3", in a comment), it would leave a false one for the eye while
    `record` and verify, which read the pattern, find none."""
    from ..md import edit as mdedit
    from ..md import lines as mdlines

    def count(data: bytes | None) -> int:
        try:
            return len(mdlines.lines_matching(data or b"", section, _STREAK_LINE,
                                             holding=STREAK_WORDS.encode()))
        except mdedit.MarkdownEditError:
            return 0

    assert ch.old is not None and ch.new is not None
    if count(ch.new.data) >= count(ch.old.data):
        return []
    return [Violation(ch.path, "streak-line-kept", "the streak line was removed or "
                      f"reworded: it reads '{STREAK_WORDS} N of M' on a line of its own",
                      "restore it; record and void rewrite it", None, section)]


def streak_line_shown(ch: Change, new: Any, section: str) -> list[Violation]:
    """The streak line `record` and verify read is one a reader sees: a line of a
    paragraph (the table's, or one of its own), not one a link reference definition, a
    code block or HTML swallows, with another line showing in its place."""
    from ..md import edit as mdedit
    from ..md import lines as mdlines
    from ..md.blocks import blocks

    try:
        at = mdlines.first_matching(new, section, _STREAK_LINE, holding=STREAK_WORDS.encode())
    except mdedit.MarkdownEditError:
        return []
    if at is None or any(b.kind == "paragraph_open" and b.start <= at < b.end
                         for b in blocks(new)):
        return []
    return [Violation(ch.path, "streak-line-kept", "the streak line is not shown: it is "
                      "not a line of a paragraph (a link reference, a code block or HTML "
                      "holds it)", "write it as a line of its own after the table",
                      (at + 1, at + 1), section)]


def no_look_alike(ch: Change, new: Any, lines: range, section: str,
                  closures: tuple[Rules, StreakOf] | None = None) -> list[Violation]:
    """An added line that is no table row and mentions the streak's words (case, Markdown
    marks and Unicode compatibility forms aside) is a streak line, or nothing: a note
    reading like one ('**Consecutive qualifying runs: 3 of 3**') would show a streak no
    rule checks. With ``closures`` (the rules and the streaks): an added line (a note, a
    row's cell) saying a milestone closed ("**MO-2 CLOSED**: streak met") is held to
    `closed_early`, as the session log's and the status rows' are."""
    from ..md import edit as mdedit

    out = []
    rows: list[range] | None = None
    for j in lines:
        text = new.line_text(j)
        plain = skeleton(text)
        if closures is not None:
            for mo in closed_said(plain, closures[0]):
                out += closed_early(ch.path, mo, f"an added line says {mo} closed",
                                    (j + 1, j + 1), section, *closures)
        if _STREAK_LINE.search(text) or _WORDS_FOLDED not in plain:
            continue
        if rows is None:  # (a table row quoting the words is a row: GFM's, pipes or not)
            rows = [range(t.start, t.end) for t in
                    mdedit.table_spans(new, mdedit.find_section(new, section))]
        if any(j in r for r in rows):
            continue
        out.append(Violation(ch.path, "streak-line-kept", "a line that reads like the "
                             "streak line but is not one", "remove it: the tracker holds one "
                             "streak line, written by evidencebot", (j + 1, j + 1), section))
    return out


def rows_placed(ch: Change, new: Any, added: Iterable[int], section: str) -> list[Violation]:
    """A row added to the tracker table (the ``added`` lines of the new version ``new``)
    can be placed in time (`rows.placed`: a run id that is a UTC stamp, or a Date (UTC)
    that is a day): the streak puts one it cannot place after every run, so that it
    breaks every streak until it is mended."""
    from ..evidence.rows import placed, row_fields
    from ..md import edit as mdedit

    # (where the table is and its header, and only the added rows split: a hook run
    # reads no more of a 1,000-row tracker than that)
    try:
        spans = mdedit.table_spans(new, mdedit.find_section(new, section))
    except mdedit.MarkdownEditError:
        return []  # (the heading rules say what went)
    if not spans:
        return []  # (no table: the table rules say what went)
    table = spans[0]
    fields = row_fields(table)
    out = []
    for j in added:
        got = fields(tuple(mdedit.split_row(new.line_text(j)))) \
            if table.first_row <= j < table.end else None
        if got is not None and placed(got[0], got[1], got[3]) is None:
            out.append(Violation(ch.path, "tracker-row-placed", f"the tracker row of "
                                 f"{got[0] or 'no run id'!r} gives no time: its Run ID is no "
                                 "UTC stamp (YYYYMMDDTHHMMSSZ) and its Date (UTC) is no day "
                                 "(YYYY-MM-DD)", "give the row its run's stamp or day",
                                 (j + 1, j + 1), section))
    return out

