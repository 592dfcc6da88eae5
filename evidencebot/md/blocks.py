"""A Markdown document's top-level blocks (headings, paragraphs, lists, fences ...) with
their 0-based ``[start, end)`` lines, from markdown-it-py's block parse (inline parsing and
tables off: sections and pipe tables need no more).

`derive(old, new)` learns a new version's blocks from the old version's without parsing
the document again where it can: lines rewritten inside a paragraph with lines that can
only continue one (table rows, to a parse without tables; a "runs: 1 of 3" line) only move
block boundaries; any other change is parsed with a block of margin on each side. It is
exact: markdown-it's block tokenizer starts every top-level block afresh, so where both
versions start a block on the same unchanged line after a blank one, everything after it
is the old parse, shifted. When the parsed span ends in a block that could run on (a
list, indented code, an unclosed fence), the whole new version is parsed instead.
tests/test_mdblocks.py checks `derive` against a full parse on generated documents and
edits.
"""

# No `from __future__ import annotations`: see edit.py (NamedTuple fields).

import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

BOM = b"\xef\xbb\xbf"
_KEEP = 16  # documents whose blocks are remembered (a verify walk needs two at a time)
_DIFF_LIMIT = 5000  # lines each side: a larger rewrite is parsed again
_RUNS_ON = frozenset({"bullet_list_open", "ordered_list_open", "code_block"})


class Doc(NamedTuple):
    bom: bool
    lines: tuple[bytes, ...]  # each with its own line ending, if any

    @property
    def newline(self) -> bytes:
        """The file's line ending: CRLF when most of its line feeds follow a CR, else LF (a
        lone CR ends no line for git, and the session-log rules refuse one; a stray
        \\r\\r\\n in an LF file leaves it LF)."""
        data = b"".join(self.lines)
        return b"\r\n" if 2 * data.count(b"\r\n") > data.count(b"\n") else b"\n"

    @property
    def text(self) -> str:
        return b"".join(self.lines).decode("utf-8", "replace")

    def line_text(self, i: int) -> str:
        return self.lines[i].rstrip(b"\r\n").decode("utf-8", "replace")

    def to_bytes(self) -> bytes:
        """The document's bytes; `parse` of them gives this object back (an edit's result
        is read again at once: the streak line after the tracker row)."""
        data = (BOM if self.bom else b"") + b"".join(self.lines)
        _keep_parsed(data, self)
        return data

    def __hash__(self) -> int:
        """By identity: the caches keyed by a document (`blocks`, `edit.sections`,
        `edit.tables`) would otherwise hash every line at every lookup, a pass over a
        1,000-row tracker each time. Equal documents still compare equal (a cache then
        finds one by the other only when it is the same object, as `parse` gives)."""
        return id(self)


def parse(data: bytes) -> Doc:
    """``data`` as lines. The same bytes give the same `Doc` object (the last few read
    are remembered): a verify walk reads each version of a document as one commit's new
    side, the next one's old side and that one's parent for the tracker, and the caches
    keyed by a document then find it by identity instead of comparing every line."""
    found = _parsed.get(data) if type(data) is bytes else None
    if found is not None:
        return found
    bom = data.startswith(BOM)
    body = data[len(BOM):] if bom else data
    doc = Doc(bom, tuple(body.splitlines(keepends=True)))
    if type(data) is bytes:
        _keep_parsed(data, doc)
    return doc


def _keep_parsed(data: bytes, doc: Doc) -> None:
    _parsed[data] = doc
    if len(_parsed) > _KEEP_PARSED:
        del _parsed[next(iter(_parsed))]  # (the oldest)


class Block(NamedTuple):
    kind: str  # markdown-it's token type: heading_open, paragraph_open, fence, hr, ...
    start: int
    end: int  # exclusive
    tag: str  # h1 ... h6 for a heading
    markup: str  # "#" for an ATX heading, "=" or "-" for a setext one
    title: str  # a heading's text


@lru_cache(maxsize=1)
def _md() -> "MarkdownIt":
    from markdown_it import MarkdownIt  # about 30 ms: only when something must be parsed

    return MarkdownIt("commonmark").disable(["inline", "text_join"])


def code_lines(lines: Sequence[str]) -> frozenset[int]:
    """The lines (0-based) inside a code block of ``lines``, fenced or indented, at any
    depth (in a list, a quote), as CommonMark reads them: a page shows them as written.
    (A document's text is asked twice, for claims and for look-alikes: parsed once.)
    Parsed only when a line could hold code (`_may_hold_code`): markdown-it's import alone
    is 30 ms, and most documents have none."""
    if not any(_may_hold_code(line) for line in lines):
        return frozenset()
    return _code_lines("\n".join(lines))


# The characters a line's containers are made of before its text: indentation, a quote's
# ">", a list item's marker ("-", "+", "*", "1.", "1)").
_CONTAINERS = re.compile(r"[ \t>*+\-.)0-9]*")


def _may_hold_code(line: str) -> bool:
    """Whether ``line`` could be in a code block, as CommonMark reads one: a fence
    anywhere in it, or four columns of indentation (a tab, four spaces) among its
    containers' marks, which every indented code block's line has past its container's
    content column. Never false for a code line; sometimes true for one that is not."""
    if "```" in line or "~~~" in line or "\r" in line:  # (a bare CR ends a line there)
        return True
    lead = _CONTAINERS.match(line)
    return lead is not None and ("\t" in lead.group() or "    " in lead.group())


@lru_cache(maxsize=4)
def _code_lines(text: str) -> frozenset[int]:
    tokens = _md().parse(text)
    return frozenset(k for t in tokens if t.type in ("fence", "code_block") and t.map
                     for k in range(*t.map))


_known: "OrderedDict[Doc, tuple[Block, ...]]" = OrderedDict()
_parsed: dict[bytes, Doc] = {}  # by content, oldest first (`parse`)
_KEEP_PARSED = 4
_adopted: dict[bytes, tuple[tuple[object, ...], ...]] = {}


def blocks(doc: Doc) -> tuple[Block, ...]:
    """``doc``'s top-level blocks, in order."""
    found = _known.get(doc)
    if found is not None:
        _known.move_to_end(doc)
        return found
    return _remember(doc, _from_adopted(doc) or tuple(_parse(doc.lines, 0)))


def forget() -> None:
    """Drop every block this process knows or adopted: `verify` parses for itself."""
    _known.clear()
    _adopted.clear()
    _parsed.clear()
    _last_edits.clear()


def adopt(saved: object) -> None:
    """Blocks an earlier process found (what `found()` gave it), by content digest: the
    hook's shortcut for the version of a document the last commit left."""
    if isinstance(saved, dict):
        _adopted.update(saved)


def found() -> dict[bytes, tuple[tuple[object, ...], ...]]:
    """The blocks this process knows, by content digest, as plain data for `adopt`."""
    return {_digest(doc): tuple(tuple(b) for b in blks) for doc, blks in _known.items()}


def _digest(doc: Doc) -> bytes:
    from ..hashes import blake2b

    return blake2b(b"".join(doc.lines), 16)


def _from_adopted(doc: Doc) -> tuple[Block, ...] | None:
    rows = _adopted.get(_digest(doc)) if _adopted else None
    if not isinstance(rows, tuple):
        return None
    try:
        out = tuple(Block(*r) for r in rows)  # type: ignore[arg-type]
    except TypeError:
        return None
    n = len(doc.lines)
    ok = all(isinstance(b.kind, str) and isinstance(b.start, int) and isinstance(b.end, int)
             and 0 <= b.start < b.end <= n and isinstance(b.title, str) for b in out)
    return out if ok else None


def _remember(doc: Doc, found: tuple[Block, ...]) -> tuple[Block, ...]:
    _known[doc] = found
    while len(_known) > _KEEP:
        _known.popitem(last=False)
    return found


def _parse(lines: Sequence[bytes], offset: int) -> list[Block]:
    from .scan import scan

    found = scan(lines, offset)
    return list(map(Block._make, found)) if found is not None else _parse_fully(lines, offset)


def _parse_fully(lines: Sequence[bytes], offset: int) -> list[Block]:
    """markdown-it's blocks for ``lines`` (the first one is line ``offset``)."""
    toks = _md().parse(b"".join(lines).decode("utf-8", "replace"))
    out: list[Block] = []
    for i, tok in enumerate(toks):
        if tok.level == 0 and tok.map and tok.nesting >= 0:
            title = toks[i + 1].content.strip() if tok.type == "heading_open" else ""
            out.append(Block(tok.type, tok.map[0] + offset, tok.map[1] + offset, tok.tag,
                             tok.markup, title))
    return out


def common_head(a: Sequence[bytes], b: Sequence[bytes]) -> int:
    """How many first lines ``a`` and ``b`` share. Compared in slices (C speed): an entry
    appended to a 20,000-line log is one comparison, not 20,000 steps of Python."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo]; the first difference is in [lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[lo:mid + 1] == b[lo:mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def common_tail(a: Sequence[bytes], b: Sequence[bytes], head: int) -> int:
    """How many last lines ``a`` and ``b`` share, among the lines after the first
    ``head`` (those `common_head` found)."""
    la, lb = len(a), len(b)
    n = min(la, lb) - head
    if n <= 0:
        return 0
    if a[la - n:] == b[lb - n:]:
        return n
    lo, hi = 0, n  # the last lo lines are equal; the first difference from the end is in [lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[la - mid - 1:la - lo] == b[lb - mid - 1:lb - lo]:
            lo = mid + 1
        else:
            hi = mid
    return lo


Edit = tuple[str, int, int, int, int]  # difflib's opcode: tag, old [i1, i2), new [j1, j2)
_last_edits: list[tuple[Sequence[bytes], Sequence[bytes], tuple[Edit, ...]]] = []


def edits(a: Sequence[bytes], b: Sequence[bytes]) -> tuple[Edit, ...]:
    """The changed line ranges from ``a`` to ``b`` (difflib's opcodes but "equal", in
    whole-document lines). The common head and tail are cut first, so a row appended to
    a 40,000-row tracker compares two lines, not two documents. The last pair is
    remembered (tuples only: a list could change in place): `derive` and the scope rules
    ask for the same one."""
    if _last_edits and _last_edits[0][0] is a and _last_edits[0][1] is b:
        return _last_edits[0][2]
    import difflib

    head = common_head(a, b)
    tail = common_tail(a, b, head)
    sm = difflib.SequenceMatcher(a=a[head:len(a) - tail], b=b[head:len(b) - tail],
                                 autojunk=False)
    found = tuple((tag, i1 + head, i2 + head, j1 + head, j2 + head)
                  for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")
    if type(a) is tuple and type(b) is tuple:
        _last_edits[:] = [(a, b, found)]
    return found


def derive(old: Doc, new: Doc) -> tuple[Block, ...]:
    """``new``'s blocks, parsing only around what changed since ``old``."""
    if new in _known or (_adopted and _from_adopted(new)):
        return blocks(new)
    was = blocks(old)
    a, b = old.lines, new.lines
    head = common_head(a, b)
    tail = common_tail(a, b, head)
    rows = _row_edits(was, a, b, head, tail)
    if rows is not None:
        return _remember(new, rows)
    starts = [blk.start for blk in was]
    delta = len(b) - len(a)
    k = bisect_left(starts, head) - 2  # the block the change starts in, and one before it
    first = was[k].start if k >= 0 else 0
    unchanged_from = len(a) - tail
    j = bisect_left(starts, unchanged_from) + 1  # a block of margin after the change
    while j < len(was) and (was[j].start - 1 < unchanged_from or a[was[j].start - 1].strip()):
        j += 1  # resume only after a blank line that did not change
    stop = was[j].start + delta if j < len(was) else len(b)
    middle = _parse(b[first:stop], first)
    if j < len(was) and middle and (middle[-1].end >= stop or middle[-1].kind in _RUNS_ON):
        return _remember(new, tuple(_parse(b, 0)))  # it may run on: parse it all
    after = [blk._replace(start=blk.start + delta, end=blk.end + delta) for blk in was[j:]]
    return _remember(new, (*was[:max(k, 0)], *middle, *after))


def _row_edits(was: tuple[Block, ...], a: Sequence[bytes], b: Sequence[bytes], head: int,
               tail: int) -> tuple[Block, ...] | None:
    """The new blocks when every edit only rewrites lines of paragraphs with lines that
    can only continue one (a table row appended to the tracker, a status cell or a
    "runs: 1 of 3" line changed: without the table rule a table is a paragraph). The
    paragraph grows or shrinks and the blocks after it move. None otherwise."""
    if len(a) - tail - head > _DIFF_LIMIT or len(b) - tail - head > _DIFF_LIMIT:
        return None
    starts = [blk.start for blk in was]
    # (old line where the edit starts, lines it adds, whether it starts its paragraph)
    moves: list[tuple[int, int, bool]] = []
    for _tag, i1, i2, j1, j2 in edits(a, b):
        if not _in_paragraph(was, starts, a, b, i1, i2, j1, j2):
            return None
        moves.append((i1, (j2 - j1) - (i2 - i1), i1 in starts))

    def shift(line: int) -> int:
        """A block boundary at old ``line``, in the new version: an edit at a line moves
        it, unless the edit opens the paragraph starting there (then the boundary is the
        paragraph's start, and the end of whatever came before)."""
        moved = line
        for at, d, first in moves:  # (in line order)
            if at > line:
                break
            if at < line or not first:
                moved += d
        return moved

    # The blocks ending before the first edit stay as they are (most of a document that
    # grows at its end): only those from there on are shifted.
    first_at = moves[0][0] if moves else len(a)
    return tuple(blk if blk.end < first_at else
                 blk._replace(start=shift(blk.start), end=shift(blk.end)) for blk in was)


def _in_paragraph(was: tuple[Block, ...], starts: list[int], a: Sequence[bytes],
                  b: Sequence[bytes], i1: int, i2: int, j1: int, j2: int) -> bool:
    """Whether old lines [i1, i2) -> new lines [j1, j2) stays inside one paragraph.

    Every new line must continue a paragraph whatever precedes it: not blank, and not a
    line that starts a block able to interrupt one (heading, quote, fence, list, rule,
    HTML, setext underline). An edit at the paragraph's first line (after a blank one)
    also needs a new first line that starts nothing but a paragraph (no indent, no link
    reference), and an old first line it keeps must become a plain continuation."""
    k = bisect_right(starts, i1) - 1  # the last block starting at or before line i1
    if k < 0:
        return False
    para = was[k]
    if para.kind != "paragraph_open" or i2 > para.end:
        return False
    # A link reference definition makes no block, and a line below can complete one
    # ("[a]:" then "/url") or continue its title: only paragraphs after a blank line,
    # not opening with "[", are safe.
    if (para.start and a[para.start - 1].strip()) or a[para.start].lstrip()[:1] == b"[":
        return False
    if para.start == i1:
        if j2 == j1:
            return False
        if b[j1][:1].isspace() or b[j1][:1] == b"[":
            return False
        if i2 == i1 and not _continues(a[i1]):
            return False
    elif i1 > para.end:  # between blocks
        return False
    return all(_continues(line) for line in b[j1:j2])


_INTERRUPTS = b"#>`~*+-_=<0123456789"


def _continues(line: bytes) -> bool:
    text = line.strip()
    return bool(text) and text[:1] not in _INTERRUPTS
