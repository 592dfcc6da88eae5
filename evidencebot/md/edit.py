"""Byte-exact Markdown edits: find sections by heading, edit GFM tables, append entries.

Pure: bytes in, bytes out. Sections come from a real parse (markdown-it-py, whose block
tokens carry 0-based ``[start, end)`` line maps), so a heading inside a code fence, a list
or a quote is not a section. Every byte outside the edited lines stays as it was: the
BOM, the line endings (LF or CRLF), and whether the file ends with a newline.
"""

# No `from __future__ import annotations` here: with it, every NamedTuple field annotation
# is a string that typing compiles at import time, milliseconds on every hook run.

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import repeat
from operator import contains
from typing import TYPE_CHECKING, NamedTuple

from ..errors import MarkdownEditError  # with the other errors: the CLI needs no parser
from .blocks import BOM, Doc, blocks, derive, parse  # noqa: F401 - mdedit's API

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


class Section(NamedTuple):
    title: str
    level: int  # 1 for '#', 2 for '##' ...
    start: int  # the heading's first line (0-based)
    body_start: int  # first line after the heading
    end: int  # exclusive: the next heading of the same or higher rank, or EOF


@lru_cache(maxsize=1)
def _md() -> "MarkdownIt":
    from markdown_it import MarkdownIt

    # Block structure is all we read (headings, fences, tables); inline parsing is skipped.
    return MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


def _tokens(doc: Doc) -> list:  # type: ignore[type-arg]
    return _md().parse(doc.text)


@lru_cache(maxsize=16)
def _sections(doc: Doc) -> tuple[Section, ...]:
    return tuple(_compute_sections(doc))


def sections(doc: Doc) -> list[Section]:
    return list(_sections(doc))


def _compute_sections(doc: Doc) -> list[Section]:
    """Top-level headings as sections, in document order.

    Read from the block parse without the table rule (a fifth of the time on a long
    tracker); where a setext underline follows a pipe row — the one place a table changes
    what is a heading — the document is parsed again with tables."""
    heads: list[tuple[str, int, int, int]] = []
    found = blocks(doc)
    if any(b.kind == "heading_open" and b.markup in ("-", "=")
           and doc.lines[b.start].lstrip().startswith(b"|") for b in found):
        toks = _tokens(doc)
        for i, tok in enumerate(toks):
            if tok.type == "heading_open" and tok.level == 0 and tok.map:
                heads.append((toks[i + 1].content.strip(), int(tok.tag[1:]), tok.map[0],
                              tok.map[1]))
    else:
        heads = [(b.title, int(b.tag[1:]), b.start, b.end) for b in found
                 if b.kind == "heading_open"]
    n = len(doc.lines)
    out: list[Section] = []
    for k, (title, level, start, body_start) in enumerate(heads):
        end = n
        for _t, lvl, s, _b in heads[k + 1:]:
            if lvl <= level:
                end = s
                break
        out.append(Section(title, level, start, body_start, end))
    return out


@lru_cache(maxsize=1024)
def _norm(title: str) -> str:
    # Cached: a walk over 100 versions of a backlog asks for the same few titles and
    # column names thousands of times.
    return " ".join(title.split()).casefold()


def find_section(doc: Doc, title: str) -> Section:
    """The one section titled ``title``; two of them is an error (which would we edit?)."""
    want = _norm(title)
    found = [sec for sec in sections(doc) if _norm(sec.title) == want]
    if len(found) > 1:
        lines = ", ".join(str(s.start + 1) for s in found)
        raise MarkdownEditError(f"{len(found)} sections titled {title!r} (lines {lines}); "
                                "keep one")
    if not found:
        raise MarkdownEditError(f"no section titled {title!r}")
    return found[0]


def section_text(doc: Doc, title: str) -> str:
    sec = find_section(doc, title)
    return b"".join(doc.lines[sec.start:sec.end]).decode("utf-8", "replace")


# --- GFM tables --------------------------------------------------------------------------

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cell_spans(line: str) -> list[tuple[int, int]]:
    """Character spans of each cell's raw content (between pipes) in a table line."""
    stripped_end = len(line.rstrip())
    lead = len(line) - len(line.lstrip())
    pipes = [m.start() for m in _CELL_SPLIT.finditer(line)]
    bounds = [p for p in pipes]
    if not bounds or bounds[0] != lead:
        bounds.insert(0, lead - 1)  # no leading pipe: a virtual one before the text
    if bounds[-1] != stripped_end - 1:
        bounds.append(stripped_end)  # no trailing pipe
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]


@lru_cache(maxsize=8192)
def _cells(raw: bytes) -> tuple[str, ...]:
    # By the line's bytes: a tracker's versions share all their rows but the new one, so
    # a walk over 100 versions splits each row once.
    return tuple(split_row(raw.rstrip(b"\r\n").decode("utf-8", "replace")))


def split_row(line: str) -> list[str]:
    return [line[a:b].strip().replace("\\|", "|") for a, b in _cell_spans(line)]


class Table(NamedTuple):
    header: tuple[str, ...]
    start: int  # header line
    end: int  # exclusive: one past the last row
    rows: tuple[tuple[str, ...], ...]

    @property
    def first_row(self) -> int:
        return self.start + 2

    def has_column(self, name: str) -> bool:
        return _norm(name) in _columns(self.header)

    def column(self, name: str) -> int:
        found = _columns(self.header).get(_norm(name))
        if found is None:
            raise MarkdownEditError(f"table has no column {name!r}")
        return found


@lru_cache(maxsize=64)
def _columns(header: tuple[str, ...]) -> dict[str, int]:
    """Each column's place by its normalised name (the first, where two share one)."""
    out: dict[str, int] = {}
    for i, h in enumerate(header):
        out.setdefault(_norm(h), i)
    return out


_DELIMITER = re.compile(rb"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*\r?\n?$")


@lru_cache(maxsize=16)
def tables(doc: Doc, sec: Section) -> list[Table]:
    """The tables of one section. A pipe table (header, delimiter row, rows) is read from
    the paragraph blocks the parse found — O(rows), not a table parse of a 1,000-row
    tracker; anything else is left to a table parse of the section alone."""
    fast = _pipe_tables(doc, sec)
    return fast if fast is not None else _parsed_tables(doc, sec)


@lru_cache(maxsize=16)
def table_spans(doc: Doc, sec: Section) -> list[Table]:
    """`tables`, with the header but without the rows split into cells (``rows`` empty):
    where each table is, at the speed of comparing lines, not of reading 1,000 rows."""
    fast = _pipe_tables(doc, sec, cells=False)
    return fast if fast is not None else [t._replace(rows=()) for t in tables(doc, sec)]


def _pipe_tables(doc: Doc, sec: Section, *, cells: bool = True) -> list[Table] | None:
    out: list[Table] = []
    for blk in blocks(doc):
        if blk.kind != "paragraph_open":
            continue
        s, e = blk.start, blk.end
        if not sec.body_start <= s < sec.end:
            continue
        for i in range(s, e - 1):
            if b"|" in doc.lines[i] and _DELIMITER.match(doc.lines[i + 1]):
                header = _cells(doc.lines[i])  # (split once by its bytes)
                if len(_cells(doc.lines[i + 1])) != len(header) or i != s:
                    return None  # not the plain shape: let the table parser decide
                rows = _body_rows(doc.lines[i + 2:e], cells)
                if rows is None:
                    return None  # a line without a pipe: the table parser knows its fate
                out.append(Table(header, i, e, rows))
                break
    return out


# The last table body read, with and without its rows split (lines, rows): a walk over an
# ops history reads each version of a growing tracker, and a version that only adds rows
# to the last one read costs only its new rows.
_last_body: dict[bool, tuple[tuple[bytes, ...], tuple[tuple[str, ...], ...]]] = {}


def _body_rows(body: tuple[bytes, ...], cells: bool) -> tuple[tuple[str, ...], ...] | None:
    """A pipe table's rows split into cells (``cells``; else none), or None when a line
    holds no pipe."""
    done, rows = 0, ()  # type: tuple[int, tuple[tuple[str, ...], ...]]
    last = _last_body.get(cells)
    if last is not None and len(body) >= len(last[0]) and body[:len(last[0])] == last[0]:
        done, rows = len(last[0]), last[1]
    if not all(map(contains, body[done:], repeat(b"|"))):
        return None
    if cells:
        rows += tuple(map(_cells, body[done:]))
    _last_body[cells] = (body, rows)
    return rows


def _parsed_tables(doc: Doc, sec: Section) -> list[Table]:
    out: list[Table] = []
    body = b"".join(doc.lines[sec.body_start:sec.end]).decode("utf-8", "replace")
    for tok in _md().parse(body):
        if tok.type == "table_open" and tok.level == 0 and tok.map:
            s, e = tok.map[0] + sec.body_start, tok.map[1] + sec.body_start
            if sec.body_start <= s < sec.end:
                # markdown-it's table map can include a trailing blank line; trim it.
                while e > s and not doc.lines[e - 1].strip():
                    e -= 1
                header = tuple(split_row(doc.line_text(s)))
                rows = tuple(tuple(split_row(doc.line_text(i))) for i in range(s + 2, e))
                out.append(Table(header, s, e, rows))
    return out


def first_table(doc: Doc, section_title: str) -> Table:
    sec = find_section(doc, section_title)
    found = tables(doc, sec)
    if not found:
        raise MarkdownEditError(f"section {section_title!r} has no table")
    return found[0]


def escape_cell(value: str) -> str:
    """A value safe inside a GFM cell: one line, pipes escaped (one escaped already is a
    pipe: "\\|" is written, and read back, as a pipe)."""
    flat = " ".join(str(value).split())
    return flat.replace("\\|", "|").replace("|", "\\|")


def render_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(escape_cell(c) for c in cells) + " |"


def _replace(doc: Doc, start: int, end: int, new: Sequence[bytes]) -> Doc:
    """``doc`` with lines ``[start, end)`` replaced. The result's blocks are learnt from
    ``doc``'s (`derive` parses only around the change), so a further edit of it (the
    streak line after the tracker row) needs no parse of the whole document."""
    out = Doc(doc.bom, doc.lines[:start] + tuple(new) + doc.lines[end:])
    derive(doc, out)
    return out


def _with_ending(text: str, ending: bytes) -> bytes:
    return text.encode("utf-8") + ending


def _ending(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return b"\r\n"
    if line.endswith((b"\n", b"\r")):
        return line[-1:]
    return b""


def table_row(table: "Table", values: Mapping[str, str], section_title: str = "") -> str:
    """The row line `append_row` adds to ``table`` for ``values`` (column name -> text)."""
    index = _columns(table.header)
    cells = [""] * len(table.header)
    for name, value in values.items():
        if _norm(name) not in index:
            raise MarkdownEditError(f"table in {section_title!r} has no column {name!r}")
        cells[index[_norm(name)]] = value
    return render_row(cells)


def append_row(data: bytes, section_title: str, values: Mapping[str, str]) -> bytes:
    """Append a row to the first table of a section; ``values`` maps column names to text.

    Columns the mapping does not name are left empty; a name that is not a column is an
    error (it would be silently lost otherwise).
    """
    doc = parse(data)
    table = first_table(doc, section_title)
    last = doc.lines[table.end - 1]
    nl = _ending(last) or doc.newline
    row_line = table_row(table, values, section_title)
    if _ending(last):
        new = [last, _with_ending(row_line, nl)]
    else:  # the table ends the file with no final newline: keep it that way
        new = [last + nl, row_line.encode("utf-8")]
    return _replace(doc, table.end - 1, table.end, new).to_bytes()


def _keyed(row: Sequence[str], key: str) -> bool:
    """Whether ``row``'s first cell is ``key`` as a reader sees it (`textsafe.named_key`:
    `**MO-2**` is MO-2; found by a newcomer, the documents check said no row while the
    scope guard read it as MO-2's)."""
    if not row:
        return False
    from ..textsafe import named_key

    return row[0] == key or named_key(row[0]) == key


def set_cell(data: bytes, section_title: str, row_key: str, column: str, value: str) -> bytes:
    """Set one cell of the row whose first cell is ``row_key``; only that cell's bytes
    change. Two such rows are refused: the table would say two things of one key."""
    doc = parse(data)
    table = first_table(doc, section_title)
    col = table.column(column)
    if sum(1 for row in table.rows if _keyed(row, row_key)) > 1:
        raise MarkdownEditError(f"two rows {row_key!r} in the table of {section_title!r}: "
                                "refusing to edit one and leave the other")
    for offset, row in enumerate(table.rows):
        if _keyed(row, row_key):
            i = table.first_row + offset
            if len(row) != len(table.header):
                raise MarkdownEditError(
                    f"row {row_key!r} has {len(row)} cells but the header has "
                    f"{len(table.header)}; refusing to edit it"
                )
            raw = doc.lines[i]
            text = raw[: len(raw) - len(_ending(raw))].decode("utf-8")
            a, b = _cell_spans(text)[col]
            new_text = f"{text[:a]} {escape_cell(value)} {text[b:]}"
            return _replace(doc, i, i + 1, [_with_ending(new_text, _ending(raw))]).to_bytes()
    raise MarkdownEditError(f"no row {row_key!r} in the table of {section_title!r}")


def get_cell(data: bytes, section_title: str, row_key: str, column: str) -> str | None:
    doc = parse(data)
    table = first_table(doc, section_title)
    col = table.column(column)
    for row in table.rows:
        if _keyed(row, row_key) and col < len(row):
            return row[col]
    return None


def forget() -> None:
    """`blocks.forget`, and every answer this module worked out from the blocks it was
    given (sections, tables, rows): `verify` parses for itself (with `lines.forget`)."""
    from . import blocks as mdblocks

    mdblocks.forget()
    for cached in (_sections, tables):
        cached.cache_clear()
    _last_body.clear()


def append_entry(data: bytes, entry: str) -> bytes:
    """Append an entry (LF-separated text) at the end, after one blank line.

    The entry takes the file's line endings; the file keeps its final-newline state.
    Only the file's last line is looked at (and its line endings counted, in C): a log
    that grows an entry every run is not split into lines for each new one.
    """
    start = len(BOM) if data.startswith(BOM) else 0
    crlf = data.count(b"\r\n", start) if b"\r" in data else 0  # (memchr first: most are LF)
    nl = b"\r\n" if crlf and 2 * crlf > data.count(b"\n", start) else b"\n"  # (`Doc.newline`)
    new = [_with_ending(line.rstrip(), nl) for line in entry.strip("\n").split("\n")]
    if len(data) == start:
        return data + b"".join(new)
    had_final = data.endswith((b"\n", b"\r"))
    end = len(data) - len(_ending(data[-2:]))  # (the last line's text ends here)
    last = data[max(data.rfind(b"\n", start, end), data.rfind(b"\r", start, end),
                    start - 1) + 1:end]
    out = [data]
    if not had_final:
        out.append(nl)
    if last.strip():
        out.append(nl)  # the blank line between entries
    if not had_final:
        new[-1] = new[-1][: -len(nl)]
    return b"".join(out + new)
