"""Single lines of a Markdown section: found by a pattern (`lines_matching`), and the first
of them rewritten (`replace_line`: the tracker's streak line)."""

# No `from __future__ import annotations` here: see edit.py.

import re
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from .edit import Doc, _ending, _replace, _with_ending, find_section, parse


def replace_line(data: bytes, section_title: str, pattern: re.Pattern[str], new: str, *,
                 holding: bytes = b"") -> bytes:
    """Replace the first line of a section matching ``pattern`` (unchanged when none does).
    ``holding``: as for `lines_matching`."""
    doc = parse(data)
    for i in _matching(doc, section_title, pattern, holding):
        return _replace(doc, i, i + 1, [_with_ending(new, _ending(doc.lines[i]))]).to_bytes()
    return data


def lines_matching(data: bytes, section_title: str, pattern: re.Pattern[str], *,
                   holding: bytes = b"") -> list[str]:
    """The lines of a section matching ``pattern``, in order, without their endings: the
    first is the one `replace_line` rewrites. ``holding``: bytes every such line holds,
    with no line ending in them (found in the section's text at once; no other line is
    looked at). The last few answers are remembered: a verify walk asks of each version
    of the tracker several times (the scope rules and the streak line's rule, as one
    commit's new side and the next one's old side)."""
    doc = parse(data)
    key = (section_title, pattern.pattern, pattern.flags, holding)
    for seen, asked, found in _last_matching:
        if seen is doc and asked == key:
            return list(found)
    lines = [doc.line_text(i) for i in _matching(doc, section_title, pattern, holding)]
    _last_matching.insert(0, (doc, key, tuple(lines)))
    del _last_matching[_KEEP:]
    return lines


_KEEP = 4  # answers remembered: two documents' (old and new side), asked by two rules
_last_matching: list[tuple[Doc, tuple[Any, ...], tuple[str, ...]]] = []


def first_matching(doc: Doc, section_title: str, pattern: re.Pattern[str], *,
                   holding: bytes = b"") -> int | None:
    """The index of the first line of a section matching ``pattern`` (`lines_matching`'s
    first), None when none does."""
    return next(_matching(doc, section_title, pattern, holding), None)


def _matching(doc: Doc, section_title: str, pattern: re.Pattern[str],
              holding: bytes = b"") -> Iterator[int]:
    sec = find_section(doc, section_title)
    lines = doc.lines[sec.body_start:sec.end]
    if not holding:
        yield from (i for i in range(sec.body_start, sec.end)
                    if pattern.search(doc.line_text(i)))
        return
    text, ends = b"".join(lines), list(accumulate(map(len, lines)))
    at = text.find(holding)
    while at >= 0:  # (line k holds the bytes up to ends[k])
        k = bisect_right(ends, at)
        if pattern.search(doc.line_text(sec.body_start + k)):
            yield sec.body_start + k
        at = text.find(holding, ends[k])


def forget() -> None:
    """The remembered answer dropped (`edit.forget`)."""
    _last_matching.clear()
