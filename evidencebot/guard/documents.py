"""The scope rules for the three Markdown documents (imported only when one changed).

IMPLEMENTATION_BACKLOG.md: anything inside the tracker section, and existing MO-* rows of
"MO-* Status" (not their ID). PROJECT_DESIGN.md: the Status and Evidence cells of existing
MO-* rows in §9. Headings never change. SESSION_LOG.md: see `session_log`.
"""

# No `from __future__ import annotations`: see scope.py.

import re
from typing import Any

from ..defaults import STREAK_LINE
from ..textsafe import named_key
from . import tracker
from .prose import says_closed
from .rules import (
    BY_HAND,
    Change,
    Rules,
    StreakOf,
    Violation,
    by_hand,
    closed_early,
    hidden_violation,
    markup_violation,
)

MO_ID = re.compile(r"^MO-\d+$")


def judge_document(ch: Change, rules: Rules, streak_of: StreakOf, *,
                   rendered: bool = False) -> list[Violation]:
    """The document rules on one change. ``rendered``: the change adds a run's record
    (`run_record_in`), so its entry and row are evidencebot's rendering of that record,
    which verify re-derives line for line: the free-text closure rules are not asked of
    them (a failure's own words, "market closed", or a run id, would make the session's
    evidence impossible to commit)."""
    if ch.path == rules.session_log:
        from .session_log import judge_log

        return judge_log(ch, rules, streak_of, said_closed=not rendered)
    if ch.path == rules.backlog:
        return _table_document(ch, rules, streak_of, status_section=rules.status_section,
                               fixed_cols=None, free_section=rules.tracker_section,
                               said_closed=not rendered)
    return _design(ch, rules, streak_of)


def _text(ch: Change) -> tuple[Any, Any] | Violation:
    """Parsed old and new documents, or the violation that stops us reading them."""
    from ..md import edit as mdedit

    assert ch.old and ch.new
    new = ch.new.data or b""
    if b"\x00" in new:
        return Violation(ch.path, "text-only", "a NUL byte (binary content)",
                         "write the document as UTF-8 text")
    try:
        new.decode("utf-8")
    except UnicodeDecodeError as e:
        return Violation(ch.path, "text-only", f"invalid UTF-8 at byte {e.start}",
                         "write the document as UTF-8 text")
    before, after = mdedit.parse(ch.old.data or b""), mdedit.parse(new)
    mdedit.derive(before, after)  # the new version's blocks, parsing only the change
    return before, after


def _ops(old: Any, new: Any) -> list[tuple[str, int, int, int, int]]:
    """The changed line ranges (`blocks.edits`: what `derive` found for the same two
    versions, the common head and tail cut first)."""
    from ..md.blocks import edits

    return list(edits(old.lines, new.lines))


def _span(j1: int, j2: int, i1: int) -> tuple[int, int]:
    return (j1 + 1, max(j1 + 1, j2)) if j2 > j1 else (i1 + 1, i1 + 1)


def _headings(doc: Any) -> list[tuple[str, int]]:
    from ..md import edit as mdedit

    return [(s.title, s.level) for s in mdedit.sections(doc)]


def _section_at(doc: Any, line: int) -> str:
    from ..md import edit as mdedit

    inner = ""
    for s in mdedit.sections(doc):
        if s.start <= line < s.end:
            inner = s.title
    return inner


def _headings_kept(ch: Change, old: Any, new: Any) -> list[Violation]:
    if _headings(old) == _headings(new):
        return []
    before, after = _headings(old), _headings(new)
    changed = [h for h in before if h not in after] + [h for h in after if h not in before]
    names = ", ".join(sorted({t for t, _ in changed})) or "order"
    return [Violation(ch.path, "section-heading-changed",
                      f"headings added, removed, renamed or re-levelled: {names}",
                      "restore the document's headings exactly", section=names)]


def _region(doc: Any, title: str) -> tuple[int, int] | None:
    from ..md import edit as mdedit

    try:
        s = mdedit.find_section(doc, title)
    except mdedit.MarkdownEditError:
        return None
    return s.body_start, s.end


def _table_document(ch: Change, rules: Rules, streak_of: StreakOf, *, status_section: str,
                    fixed_cols: tuple[str, ...] | None, free_section: str | None = None,
                    said_closed: bool = True) -> list[Violation]:
    """A document where only MO-* rows of ``status_section`` (and, if given, anything
    inside ``free_section``) may change, under unchanged headings (``said_closed``: an
    added line there saying a milestone closed is judged, `tracker.no_look_alike`)."""
    parsed = _text(ch)
    if isinstance(parsed, Violation):
        return [parsed]
    old, new = parsed
    out = _headings_kept(ch, old, new)
    if out:
        return out
    if old.bom != new.bom:  # a byte-order mark added or removed: line 1 changed
        out.append(Violation(ch.path, "outside-allowed-section",
                             "a byte-order mark added or removed",
                             "keep the document's encoding as it was", (1, 1), ""))
    free_old = _region(old, free_section) if free_section else None
    free_new = _region(new, free_section) if free_section else None
    in_free, added = False, list[int]()  # (the tracker's added lines)
    for op in _ops(old, new):
        _tag, i1, i2, j1, j2 = op
        bad = _unsafe_lines(ch, new, range(j1, j2))
        if bad:
            out += bad
            continue
        if free_old and free_new and free_old[0] <= i1 and i2 <= free_old[1] and \
                free_new[0] <= j1 and j2 <= free_new[1]:
            in_free = True
            added += range(j1, j2)
            out += _rows_kept(ch, old, new, op, free_section or "")
            out += tracker.no_look_alike(ch, new, range(j1, j2), free_section or "",
                                         (rules, streak_of) if said_closed else None)
            continue
        out += _mo_rows(ch, old, new, op, status_section, fixed_cols=fixed_cols,
                        streak_of=streak_of, rules=rules)
    if in_free and free_section:
        out += _tracker_whole(ch, old, new, free_section)
        out += tracker.streak_lines_kept(ch, free_section)
        out += tracker.streak_line_shown(ch, new, free_section)
        out += tracker.rows_placed(ch, new, added, free_section)
    return out




def _tracker_whole(ch: Change, old: Any, new: Any, section: str) -> list[Violation]:
    """The tracker table stays the section's first table, with its header and every row
    it had, in order: the streak reads hand-written rows from that table, so a table
    added above it, or a line that splits it, would hide rows (a non-qualifying one that
    breaks the streak, say). Rows may be added anywhere in it. Compared line by line: a
    row appended to a 1,000-row tracker costs two slice comparisons."""
    from ..md import edit as mdedit

    try:
        was = mdedit.table_spans(old, mdedit.find_section(old, section))
        now = mdedit.table_spans(new, mdedit.find_section(new, section))
    except mdedit.MarkdownEditError:
        return []  # the section itself went: the heading rules say so
    if not was:
        return []  # no table yet: nothing to keep
    kept = old.lines[was[0].start:was[0].end]
    if now and _kept_in(kept, new.lines[now[0].start:now[0].end]):
        return []
    lines = (now[0].start + 1, now[0].end) if now else None
    return [Violation(ch.path, "tracker-table-kept",
                      "the tracker table is no longer the section's first table with every "
                      "row it had (a table added above it, or a line that splits it)",
                      "add rows inside the tracker table; put notes after it", lines,
                      section)]


def _kept_in(table: Any, within: Any) -> bool:
    """Whether ``within`` starts with ``table``'s header and delimiter lines and holds its
    rows in order (others may come between). The streak line is no row: written right
    under the table, a table parse counts it as one, and it is the one line that
    changes."""
    if within[:2] != table[:2]:
        return False
    if within[:len(table)] == table:  # (rows added at the end, or none)
        return True
    rest = iter(x for x in within[2:] if not _is_streak_line(x))
    return all(any(r == x for x in rest) for r in table[2:] if not _is_streak_line(r))


def _is_streak_line(line: bytes) -> bool:
    return _STREAK_LINE.search(line.rstrip(b"\r\n").decode("utf-8", "replace")) is not None


def _design(ch: Change, rules: Rules, streak_of: StreakOf) -> list[Violation]:
    return _table_document(ch, rules, streak_of, status_section=rules.milestones_section,
                           fixed_cols=("Status", "Evidence"))


# long: one edit checked against the table, row by row and cell by cell: split, it reads worse
def _mo_rows(ch: Change, old: Any, new: Any, op: tuple[str, int, int, int, int], section: str,
             *, fixed_cols: tuple[str, ...] | None, streak_of: StreakOf,
             rules: Rules) -> list[Violation]:
    """An edit allowed only inside existing MO-* rows of ``section``'s table.

    ``fixed_cols`` None: any cell but the ID may change; else only those columns."""
    from ..md import edit as mdedit

    tag, i1, i2, j1, j2 = op
    span = _span(j1, j2, i1)
    where = _section_at(new, j1 if j2 > j1 else max(0, min(j1, len(new.lines) - 1)))
    allowed_what = ("the Status and Evidence cells of existing MO-* rows" if fixed_cols
                    else "existing MO-* rows (not their ID)")
    outside = Violation(ch.path, "outside-allowed-section",
                        f"change outside {rules.tracker_section!r} and {allowed_what} of "
                        f"{section!r}" if ch.path == rules.backlog else
                        f"change outside {allowed_what} of {section!r}",
                        "undo this change; ops sessions make no design or backlog edits",
                        span, where)
    if tag != "replace" or (i2 - i1) != (j2 - j1):
        if _in_table(old, section, i1):
            return [Violation(ch.path, "rows-added-or-removed", "a row added or removed",
                              "MO-* rows are edited in place; never add or remove one",
                              span, where)]
        return [outside]
    try:
        t_old = mdedit.first_table(old, section)
        t_new = mdedit.first_table(new, section)
    except mdedit.MarkdownEditError:
        return [outside]
    if not (t_old.first_row <= i1 and i2 <= t_old.end and t_new.first_row <= j1
            and j2 <= t_new.end):
        return [outside]
    out: list[Violation] = []
    for k in range(i2 - i1):
        a = t_old.rows[i1 + k - t_old.first_row]
        b = t_new.rows[j1 + k - t_new.first_row]
        line = (j1 + k + 1, j1 + k + 1)
        mo = named_key(a[0]) if a else ""  # (`**MO-2**` is MO-2's row, as close finds it)
        if not MO_ID.match(mo):
            out.append(Violation(ch.path, "outside-allowed-section",
                                 "a row that is not an MO-* row", outside.fix, line, section))
            continue
        if len(b) != len(t_new.header) or len(a) != len(t_old.header):
            out.append(Violation(ch.path, "table-shape", "the row's cell count changed",
                                 "keep one cell per column; escape '|' as '\\|'", line,
                                 section))
            continue
        if b[0] != a[0]:
            out.append(Violation(ch.path, "mo-id-changed", f"ID {a[0]} changed to {b[0]}",
                                 "never change an MO-* ID", line, section))
            continue
        for col, (x, y) in enumerate(zip(a, b, strict=True)):
            name = t_old.header[col]
            if x == y or col == 0:
                continue
            if fixed_cols and name not in fixed_cols:
                out.append(Violation(ch.path, "cell-not-allowed",
                                     f"{a[0]} {name!r} changed",
                                     f"only {' and '.join(fixed_cols)} may change here",
                                     line, section))
            elif name.lower() == "status":
                out += _status_change(ch, mo, x, y, line, section, rules, streak_of)
            elif says_closed(y) and not says_closed(x):
                out += closed_early(ch.path, mo, f"{mo} {name!r} says it closed", line,
                                    section, rules, streak_of)
    return out


_STREAK_LINE = re.compile(STREAK_LINE)


def _rows_kept(ch: Change, old: Any, new: Any, op: tuple[str, int, int, int, int],
               section: str) -> list[Violation]:
    """In the tracker, rows are only ever added: a row changed or removed (a hand-written
    non-qualifying row flipped, say) would rewrite the burn-in's history. The streak line
    is the one line that changes."""
    _tag, i1, i2, j1, j2 = op
    gone = [old.line_text(i) for i in range(i1, i2)]
    rows = [x for x in gone if x.lstrip().startswith("|")]
    others = [x for x in gone if x.strip() and not x.lstrip().startswith("|")
              and not _STREAK_LINE.search(x)]
    if not rows and not others:
        return []
    return [Violation(ch.path, "tracker-append-only",
                      f"{len(rows)} existing tracker row(s) changed or removed" if rows else
                      "existing tracker text changed or removed",
                      "tracker rows are only added, one per recorded run; restore them",
                      _span(j1, j2, i1), section)]


def _unsafe_lines(ch: Change, doc: Any, lines: Any) -> list[Violation]:
    """Changed lines must not hide characters: controls (but tab) or format characters
    (zero-width, bidi overrides) make a cell read differently from what it holds; nor
    hold raw HTML or character references, which make the page show what the text does
    not say (`textsafe.markup`)."""
    from ..textsafe import has_unsafe, markup

    out = []
    for i in lines:
        text = doc.line_text(i)
        found = has_unsafe(text)
        if found:
            out.append(hidden_violation(ch.path, found, i, _section_at(doc, i)))
        elif tag := markup(text):
            out.append(markup_violation(ch.path, tag, (i + 1, i + 1), _section_at(doc, i)))
    return out


def _in_table(doc: Any, section: str, line: int) -> bool:
    from ..md import edit as mdedit

    try:
        t = mdedit.first_table(doc, section)
    except mdedit.MarkdownEditError:
        return False
    return t.start <= line <= t.end


def _status_change(ch: Change, mo: str, old: str, new: str, line: tuple[int, int],
                   section: str, rules: Rules, streak_of: StreakOf) -> list[Violation]:
    """A status cell changes only from its old value to exactly CLOSED, for a milestone
    with a rule whose streak the history holds; a CLOSED one never changes again."""
    if old.strip().upper() == "CLOSED":
        return [Violation(ch.path, "milestone-reopened", f"{mo} reopened ({old} → {new})",
                          "an ops commit never reopens a milestone", line, section)]
    if new != "CLOSED":
        return [Violation(ch.path, "status-not-closed",
                          f"{mo} status changed to {new!r}; an ops commit may only set it to "
                          "exactly CLOSED", "leave the status, or let `evidencebot close` "
                          "set it", line, section)]
    if mo not in rules.milestones:
        return [Violation(ch.path, "milestone-without-rule",
                          f"{mo} set to CLOSED but the config has no [milestone.{mo}] rule",
                          "only milestones with a rule in the base branch's config close",
                          line, section)]
    need, have = rules.milestones[mo], streak_of(mo)
    if have == BY_HAND:
        return [by_hand(ch.path, mo, f"{mo} set to CLOSED", line, section)]
    if have < need:
        return [Violation(ch.path, "milestone-closed-early",
                          f"{mo} set to CLOSED with a streak of {have}/{need} in the history",
                          f"record {need - have} more qualifying run(s) first "
                          "(evidencebot close checks this)", line, section)]
    return []
