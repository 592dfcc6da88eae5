"""markdown-it's top-level blocks without markdown-it, for the documents evidencebot keeps:
`blocks` asks `scan` first and parses with markdown-it only what it leaves.

What `scan` reads: blocks made only of ATX headings, fences opened at the margin,
paragraphs (pipe tables included: the parse has no table rule) and "- " lists whose
items are one paragraph each. A line that could start anything else (an indent, a quote,
HTML, a rule, a setext underline, another list marker, an ordered item), a link
reference ("]:") or a NUL sends the document to markdown-it. tests/test_mdblocks.py
holds `scan` equal to markdown-it on generated documents.
"""

from __future__ import annotations

from collections.abc import Sequence

Row = tuple[str, int, int, str, str, str]  # an `mdblocks.Block`'s fields

_BLANK = frozenset(b" \t")
_OTHER_BLOCK = frozenset(b" \t>*+_=<")  # first bytes of lines `scan` leaves to markdown-it
_ITEM_TEXT_NOT = frozenset(b"#>`~*+-_=<0123456789 \t")  # an item starting a block of its own
_DIGITS = frozenset(b"0123456789")
_TEXT, _HEADING, _FENCE, _ITEM = range(4)


def scan(lines: Sequence[bytes], offset: int) -> list[Row] | None:
    """markdown-it's top-level blocks of ``lines`` (the first is line ``offset``), or None
    for a document it leaves to markdown-it (whose import alone takes about 20 ms)."""
    data = b"".join(lines)
    if b"]:" in data or b"\0" in data:
        return None
    texts = [line.rstrip(b"\r\n") for line in lines]
    n = len(texts)
    if n and texts[-1] == lines[-1] and not texts[-1].strip(b" \t"):
        n -= 1  # a last line of only spaces, unended, is no line to markdown-it
    out: list[Row] = []
    i = 0
    while i < n:
        t = texts[i]
        if not t.strip(b" \t"):
            i += 1
            continue
        kind, arg, title = _kind(t)
        if kind < 0:
            return None
        start = i
        if kind == _HEADING:
            out.append(("heading_open", start + offset, start + offset + 1, f"h{arg}",
                        "#" * arg, title))
            i += 1
            continue
        if kind == _FENCE:
            mark, i = t[:arg], i + 1
            while i < n and not _closes(texts[i], mark):
                i += 1
            i = min(i + 1, n)
            out.append(("fence", start + offset, i + offset, "code", mark.decode(), ""))
            continue
        i += 1
        if kind == _TEXT:  # a paragraph: up to a blank line or a block that interrupts it
            while i < n and texts[i].strip(b" \t"):
                k = _kind(texts[i])[0]
                if k < 0:
                    return None
                if k != _TEXT:
                    break
                i += 1
            out.append(("paragraph_open", start + offset, i + offset, "p", "", ""))
            continue
        blank = False  # a "- " list: items, lazy lines, and the blank lines between them
        while i < n:
            t = texts[i]
            if not t.strip(b" \t"):
                blank = True
                i += 1
                continue
            k = _kind(t)[0]
            if k < 0:
                return None
            if k != _ITEM and (blank or k != _TEXT):
                break
            blank = False
            i += 1
        out.append(("bullet_list_open", start + offset, i + offset, "ul", "-", ""))
    return out


def _kind(t: bytes) -> tuple[int, int, str]:
    """(kind, heading level or fence length, heading title) of a line that is not blank;
    kind -1: a line `scan` leaves to markdown-it."""
    c = t[0]
    if c in _OTHER_BLOCK:
        return -1, 0, ""
    if c == 0x23:  # "#": an ATX heading, as markdown-it reads one (else text)
        level = len(t) - len(t.lstrip(b"#"))
        if level > 6 or (level < len(t) and t[level] not in _BLANK):
            return _TEXT, 0, ""
        end = len(t.rstrip(b" \t"))
        end = max(end, level)
        hashes = end - len(t[:end].rstrip(b"#"))
        if hashes and end - hashes > level and t[end - hashes - 1] in _BLANK:
            end -= hashes
        return _HEADING, level, t[level:end].decode("utf-8", "replace").strip()
    if c in b"`~":
        run = len(t) - len(t.lstrip(t[:1]))
        if run < 3:
            return _TEXT, 0, ""
        if c == 0x60 and b"`" in t[run:]:
            return -1, 0, ""
        return _FENCE, run, ""
    if c == 0x2D:  # "-": a list item starting a paragraph, or left to markdown-it
        if len(t) > 2 and t[1] == 0x20 and t[2] not in _ITEM_TEXT_NOT:
            return _ITEM, 0, ""
        return -1, 0, ""
    if c in _DIGITS:
        digits = len(t) - len(t.lstrip(b"0123456789"))
        if t[digits:digits + 1] in (b".", b")"):
            return -1, 0, ""
    return _TEXT, 0, ""


def _closes(t: bytes, mark: bytes) -> bool:
    """Whether ``t`` closes a fence opened with ``mark``: up to three spaces, at least as
    many of its character, then only spaces and tabs."""
    body = t.lstrip(b" ")
    if len(t) - len(body) > 3:
        return False
    run = len(body) - len(body.lstrip(mark[:1]))
    return run >= len(mark) and not body[run:].strip(b" \t")


