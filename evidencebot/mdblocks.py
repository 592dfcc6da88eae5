"""A Markdown document's top-level blocks (headings, paragraphs, lists, fences ...) with
their 0-based ``[start, end)`` lines, from markdown-it-py's block parse (inline parsing and
tables off: sections and pipe tables need no more).

`derive(old, new)` learns a new version's blocks from the old version's without parsing
the document again: rows added to or removed from a paragraph (a pipe table, to a parse
without tables) only move its end; any other change is parsed with a block of margin on
each side. It is exact: markdown-it's block
tokenizer starts every top-level block afresh, so where both versions start a block on
the same unchanged line after a blank one, everything after it is the old parse, shifted.
When the parsed span ends in a block that could run on (a list, indented code, an
unclosed fence), the whole new version is parsed instead. tests/test_mdblocks.py checks
`derive` against a full parse on generated documents and edits.
"""

# No `from __future__ import annotations`: see mdedit.py (NamedTuple fields).

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from markdown_it import MarkdownIt

BOM = b"\xef\xbb\xbf"
_KEEP = 16  # documents whose blocks are remembered (a verify walk needs two at a time)
_RUNS_ON = frozenset({"bullet_list_open", "ordered_list_open", "code_block"})


class Doc(NamedTuple):
    bom: bool
    lines: tuple[bytes, ...]  # each with its own line ending, if any

    @property
    def newline(self) -> bytes:
        """The file's line ending: the first one it uses (LF when it has none)."""
        for line in self.lines:
            if line.endswith(b"\r\n"):
                return b"\r\n"
            if line.endswith(b"\n"):
                return b"\n"
            if line.endswith(b"\r"):
                return b"\r"
        return b"\n"

    @property
    def text(self) -> str:
        return b"".join(self.lines).decode("utf-8", "replace")

    def line_text(self, i: int) -> str:
        return self.lines[i].rstrip(b"\r\n").decode("utf-8", "replace")

    def to_bytes(self) -> bytes:
        return (BOM if self.bom else b"") + b"".join(self.lines)


def parse(data: bytes) -> Doc:
    bom = data.startswith(BOM)
    body = data[len(BOM):] if bom else data
    return Doc(bom, tuple(body.splitlines(keepends=True)))


class Block(NamedTuple):
    kind: str  # markdown-it's token type: heading_open, paragraph_open, fence, hr, ...
    start: int
    end: int  # exclusive
    tag: str  # h1 ... h6 for a heading
    markup: str  # "#" for an ATX heading, "=" or "-" for a setext one
    title: str  # a heading's text


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark").disable(["inline", "text_join"])


_known: "OrderedDict[Doc, tuple[Block, ...]]" = OrderedDict()


def blocks(doc: Doc) -> tuple[Block, ...]:
    """``doc``'s top-level blocks, in order."""
    found = _known.get(doc)
    if found is None:
        found = _remember(doc, tuple(_parse(doc.lines, 0)))
    else:
        _known.move_to_end(doc)
    return found


def _remember(doc: Doc, found: tuple[Block, ...]) -> tuple[Block, ...]:
    _known[doc] = found
    while len(_known) > _KEEP:
        _known.popitem(last=False)
    return found


def _parse(lines: Sequence[bytes], offset: int) -> list[Block]:
    toks = _md().parse(b"".join(lines).decode("utf-8", "replace"))
    out: list[Block] = []
    for i, tok in enumerate(toks):
        if tok.level == 0 and tok.map and tok.nesting >= 0:
            title = toks[i + 1].content.strip() if tok.type == "heading_open" else ""
            out.append(Block(tok.type, tok.map[0] + offset, tok.map[1] + offset, tok.tag,
                             tok.markup, title))
    return out


def derive(old: Doc, new: Doc) -> tuple[Block, ...]:
    """``new``'s blocks, parsing only around what changed since ``old``."""
    if new in _known:
        return blocks(new)
    was = blocks(old)
    a, b = old.lines, new.lines
    n = min(len(a), len(b))
    head = 0
    while head < n and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    starts = [blk.start for blk in was]
    delta = len(b) - len(a)
    within = bisect_left(starts, head) - 1  # the block holding line head - 1
    if within >= 0 and _rows_only(was[within], a[head:len(a) - tail], b[head:len(b) - tail],
                                  len(a) - tail):
        grown = was[within]._replace(end=was[within].end + delta)
        after = [blk._replace(start=blk.start + delta, end=blk.end + delta)
                 for blk in was[within + 1:]]
        return _remember(new, (*was[:within], grown, *after))
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


def _rows_only(para: Block, removed: Sequence[bytes], added: Sequence[bytes],
               unchanged_from: int) -> bool:
    """Whether the change only removes and adds pipe rows after the first line of the
    paragraph ``para``, up to its end: such a line can only continue a paragraph (no
    block starts with "|", and it is no setext underline), so the paragraph just grows or
    shrinks. This is a table row appended to the tracker (without the table rule a table
    is a paragraph)."""
    return (para.kind == "paragraph_open" and unchanged_from <= para.end
            and all(line.lstrip().startswith(b"|") for line in (*removed, *added)))
