"""`mdblocks.derive` (parse only around a change) gives exactly a full parse's blocks."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from evidencebot.md import blocks as mdblocks
from evidencebot.md import scan as mdscan
from evidencebot.md.blocks import Doc, derive

# Lines that open, continue, close or interrupt every kind of block CommonMark has.
LINES = [
    "", "", "", "# Title", "## Step 1A Burn-In Tracker", "### Sub", "Some text", "more text",
    "===", "---", "***", "| Date | Run ID | Outcome |", "|---|---|---|",
    "| 2026-11-25 | 20261125T090000Z | qualifying |", "| x | y | z |", "- item", "* item",
    "1. first", "2) second", "    indented code", "  two-space continuation", "```",
    "```python", "~~~", "> quoted", ">", "<div>", "</div>", "<!-- note", "-->",
    "[ref]: /url", "\ttabbed", "| no closing pipe", "+ plus item", "#not a heading",
    "[ref]:", "/url", "[x]: /u 't", "more'", "'title'",
]

line = st.sampled_from(LINES)
doc_lines = st.lists(line, max_size=40)


def as_doc(lines: list[str], ending: str) -> Doc:
    return Doc(False, tuple((text + ending).encode() for text in lines))


def full(doc: Doc) -> tuple[mdblocks.Block, ...]:
    return tuple(mdblocks._parse_fully(doc.lines, 0))


@settings(max_examples=400, deadline=None)
@given(before=doc_lines, at=st.integers(min_value=0, max_value=40),
       cut=st.integers(min_value=0, max_value=5), insert=st.lists(line, max_size=6),
       ending=st.sampled_from(["\n", "\r\n"]))
def test_derive_equals_a_full_parse(before: list[str], at: int, cut: int, insert: list[str],
                                    ending: str) -> None:
    at = min(at, len(before))
    after = before[:at] + insert + before[at + cut:]
    old, new = as_doc(before, ending), as_doc(after, ending)
    mdblocks._known.clear()
    assert derive(old, new) == full(new)


ROWS = ["| a | b |", "| 1 | 2 |", "|---|---|", "  | indented row |", "| x", "", "Runs: 1 of 3",
        "Runs: 2 of 3", "plain words", "(note)", "[ref]: x", "=", "2. two", "/url", "more'"]


@settings(max_examples=300, deadline=None)
@given(before=st.lists(st.sampled_from(LINES + ROWS * 3), max_size=40),
       edits=st.lists(st.tuples(st.integers(min_value=0, max_value=40),
                                st.integers(min_value=0, max_value=2),
                                st.lists(st.sampled_from(ROWS + LINES), max_size=3)), max_size=3))
@example(before=["2. two", "", "| x"], edits=[(2, 0, ["| a | b |"])])  # a list's map ends
@example(before=["[ref]:", "x"], edits=[(1, 1, ["/url"])])  # completes a link definition
@example(before=["Intro", "", "[ref]:", "", "## Next"], edits=[(3, 0, ["/url"])])
def test_several_row_edits_equal_a_full_parse(before: list[str],
                                              edits: list[tuple[int, int, list[str]]]) -> None:
    after = list(before)
    for at, cut, insert in sorted(edits, reverse=True):  # from the end: positions hold
        at = min(at, len(after))
        after[at:at + cut] = insert
    old, new = as_doc(before, "\n"), as_doc(after, "\n")
    mdblocks._known.clear()
    assert derive(old, new) == full(new)


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(min_value=0, max_value=60), tail=st.lists(line, max_size=10))
def test_a_row_appended_to_a_long_tracker(rows: int, tail: list[str]) -> None:
    head = ["# Backlog", "", "## Step 1A Burn-In Tracker", "", "| Date | Run ID |", "|---|---|"]
    body = [f"| 2026-11-{n % 28 + 1:02d} | run{n} |" for n in range(rows)]
    old = as_doc(head + body + ["", *tail], "\n")
    new = as_doc(head + body + ["| 2026-11-30 | new |", "", *tail], "\n")
    mdblocks._known.clear()
    assert derive(old, new) == full(new)


def test_rows_edited_and_appended_in_a_2000_row_table_parse_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows = [f"| 2026-11-25 | run{n} |" for n in range(2000)]
    old = as_doc(["# B", "", "| Date | Run |", "|---|---|", *rows, "", "## After", "", "text"], "\n")
    new = as_doc(["# B", "", "| Date | Run |", "|---|---|", *rows, "| 2026-11-26 | new |", "",
                  "## After", "", "text"], "\n")
    new = new._replace(lines=(*new.lines[:10], b"| 2026-11-25 | edited |\n", *new.lines[11:]))
    mdblocks._known.clear()
    mdblocks.blocks(old)
    parsed: list[int] = []
    real = mdblocks._parse_fully
    monkeypatch.setattr(mdblocks, "_parse", lambda lines, offset: parsed.append(len(lines))
                        or real(lines, offset))
    derived = derive(old, new)
    assert parsed == []  # a row edited, a row added: nothing was parsed
    assert derived == tuple(real(new.lines, 0))


def _loops(a: tuple[bytes, ...], b: tuple[bytes, ...]) -> tuple[int, int]:
    n = min(len(a), len(b))
    head = 0
    while head < n and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


@settings(max_examples=500, deadline=None)
@given(a=st.lists(st.sampled_from([b"x\n", b"y\n", b"z\n", b"x"]), max_size=30),
       b=st.lists(st.sampled_from([b"x\n", b"y\n", b"z\n", b"x"]), max_size=30))
def test_common_head_and_tail_are_the_line_by_line_ones(a: list[bytes], b: list[bytes]) -> None:
    """Compared in slices, the shared first and last lines are what a line-by-line walk
    finds (repeated lines, one a prefix of the other, nothing shared, empty)."""
    ta, tb = tuple(a), tuple(b)
    head = mdblocks.common_head(ta, tb)
    assert (head, mdblocks.common_tail(ta, tb, head)) == _loops(ta, tb)


# Lines `scan` must read exactly as markdown-it does, or leave to it: what evidencebot's
# documents hold, and every near miss of a block it does not read.
SCAN_LINES = [
    "", "", " ", "\t", "# Title", "## Step 1A Burn-In Tracker", "###### six", "####### seven",
    "#", "##", "# #", "# a #", "# a#", "#  spaced  ##  ", "#\ttab", "#not a heading",
    "## x ###", "Some text", "| a | b |", "|---|---|", "- item", "- [ ] task", "- [x] done",
    "- Code-Dirty: no", "-", "- ", "-  two spaces", "- - -", "---", "--", "-x", "- # h",
    "- 1. one", "- ```", "- > q", "* star", "+ plus", "1. one", "2) two", "100 runs",
    "2026-11-25 run", "```", "```python", "``` a`b", "````", "~~~", "~~~~ x", "``", "`x`",
    "   ```", "    ```", " ```", "\t```", "===", "=", "> quote", "<div>", "[ref]: /url",
    "[link] text", "  indented", "    code", "lazy words", "\x0cfeed", "caf\u00e9 \u00a0",
    "# caf\u00e9 #", "_under_", "\\# escaped", "x\x00y",
]


def _scanned(lines: list[str], ending: str) -> tuple[Doc, list[mdblocks.Block] | None]:
    doc = as_doc(lines, ending)
    rows = mdscan.scan(doc.lines, 3)
    return doc, None if rows is None else list(map(mdblocks.Block._make, rows))


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(st.sampled_from(SCAN_LINES), max_size=30),
       ending=st.sampled_from(["\n", "\r\n", "\r"]))
@example(lines=["- a", "- b", "", "", "Text"], ending="\n")  # a list keeps its blank lines
@example(lines=["- a", "lazy", "- b", "", "- c", "", "## H"], ending="\n")
@example(lines=["```", "- a", "   ```", "x"], ending="\n")  # closed by an indented fence
@example(lines=["```", "x"], ending="\n")  # an unclosed fence runs to the end
def test_scan_is_markdown_it_or_nothing(lines: list[str], ending: str) -> None:
    doc, scanned = _scanned(lines, ending)
    if scanned is not None:
        assert scanned == [b._replace(start=b.start + 3, end=b.end + 3) for b in full(doc)]


# The near misses `scan` reads itself (a fence's inside may hold anything).
READ_LINES = [
    "", "", " ", "\t", "# Title", "###### six", "####### seven", "#", "##", "# #", "# a #",
    "# a#", "#  spaced  ##  ", "#\ttab", "#not a heading", "## x ###", "# caf\u00e9 #", "text",
    "| a | b |", "- item", "- [ ] task", "100 runs", "```", "```python", "````", "~~~",
    "~~~~ x", "``", "`x`", "\x0cfeed", "caf\u00e9 \u00a0", "\\# escaped", "[link] text",
]
FENCED_ONLY = ["   ```", "    ```", " ```", "\t```", "  ~~~~", "> in a fence", "    code"]


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(st.sampled_from(READ_LINES * 3 + FENCED_ONLY), max_size=40),
       ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_scan_reads_near_misses_as_markdown_it_does(lines: list[str], ending: str) -> None:
    doc, scanned = _scanned(lines, ending)
    if any(line in FENCED_ONLY for line in lines) and scanned is None:
        return  # (outside a fence these are left to markdown-it)
    assert scanned is not None
    assert scanned == [b._replace(start=b.start + 3, end=b.end + 3) for b in full(doc)]


KEPT_LINES = ["", "# Session log", "## 2026-11-25 run 20261125T090000Z", "Words of a paragraph",
              "| Date | Run ID | Outcome |", "|---|---|---|", "| 2026-11-25 | r1 | qualifying |",
              "- Outcome: qualifying", "- [ ] a task", "- Code-Dirty: no", "```", "```text",
              "~~~", "#hashtag is text", "Runs: 1 of 3"]


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(st.sampled_from(KEPT_LINES), max_size=40))
def test_scan_reads_the_documents_evidencebot_keeps(lines: list[str]) -> None:
    doc, scanned = _scanned(lines, "\n")
    assert scanned is not None  # markdown-it is not needed for them
    assert scanned == [b._replace(start=b.start + 3, end=b.end + 3) for b in full(doc)]


def test_scan_leaves_other_blocks_to_markdown_it() -> None:
    for lines in (["text", "==="], ["> quote"], ["    code"], ["[a]: /u"], ["1. one"],
                  ["- - -"], ["x\x00"], ["``` a`b"], ["- # heading in an item"]):
        assert _scanned(lines, "\n")[1] is None, lines


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(st.one_of(st.sampled_from(READ_LINES + KEPT_LINES),
                                st.text(alphabet="#-`~ \t|[]x1.)*>=_<:", max_size=6)),
                      max_size=25),
       unended=st.booleans())
def test_scan_is_markdown_it_or_nothing_on_any_bytes(lines: list[str], unended: bool) -> None:
    data = "\n".join(lines).encode() + (b"" if unended else b"\n")
    doc = mdblocks.parse(data)
    scanned = mdscan.scan(doc.lines, 0)
    if scanned is not None:
        assert scanned == [tuple(b) for b in mdblocks._parse_fully(doc.lines, 0)]


def test_scan_drops_an_unended_last_line_of_spaces_as_markdown_it_does() -> None:
    for data in (b"```\nx\n\t", b"- a\n\n ", b"```\nx\nabc", b"p\n\n ", b"```\nx\n"):
        doc = mdblocks.parse(data)
        scanned = mdscan.scan(doc.lines, 0)
        assert scanned == [tuple(b) for b in mdblocks._parse_fully(doc.lines, 0)], data


@settings(max_examples=200, deadline=None)
@given(doc_lines, doc_lines)
def test_edits_turn_the_old_version_into_the_new(a: list[str], b: list[str]) -> None:
    """`edits` (the common head and tail cut first, the last pair remembered): replacing
    each changed range of the old lines with the new lines it names gives the new
    version, and only changed ranges are named; another pair (the same old version with
    another new one) is never answered from memory."""
    old, new = as_doc(a, "\n"), as_doc(b, "\n")
    other = as_doc([*b, "tail line"], "\n")
    for x, y in ((old, new), (old, other), (old, new)):
        found = mdblocks.edits(x.lines, y.lines)
        rebuilt: list[bytes] = []
        at = 0
        for tag, i1, i2, j1, j2 in found:
            assert tag != "equal" and at <= i1 <= i2 and (i2 > i1 or j2 > j1)
            rebuilt += [*x.lines[at:i1], *y.lines[j1:j2]]
            at = i2
        assert [*rebuilt, *x.lines[at:]] == list(y.lines)


def test_edits_of_lists_changed_in_place_are_worked_out_again() -> None:
    """Only tuples (a `Doc`'s lines) are remembered: the same list, edited, is another
    pair of versions."""
    a, b = [b"x\n", b"y\n"], [b"x\n", b"y\n"]
    assert mdblocks.edits(a, b) == ()
    b.append(b"z\n")
    assert mdblocks.edits(a, b) == (("insert", 2, 2, 2, 3),)


# Lines a code block may hide among, at any depth: `code_lines` skips markdown-it when no
# line could be code, and must then say what markdown-it says (nothing).
CODE_PARTS = ["", " ", "  ", "   ", "    ", "\t", " \t", ">", "> ", ">>", "-", "- ", "* ",
              "+ ", "1.", "1. ", "10) ", "2)", "```", "~~~", "``", "~~", "`", "\u00a0",
              "\x0c", "\x0b", "text", "| a |", "#", "<div>", "a  b", "- [ ]", "0.", "."]


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(st.lists(st.sampled_from(CODE_PARTS), max_size=6).map("".join),
                      max_size=12))
@example(lines=["- a", "", "      code"])  # a list item's indented code
@example(lines=["-     code"])  # an item that opens with indented code
@example(lines=[">     code"])  # a quote's indented code
@example(lines=["1.  a", "", "        code"])
def test_code_lines_is_markdown_it_s_reading(lines: list[str]) -> None:
    assert mdblocks.code_lines(lines) == mdblocks._code_lines("\n".join(lines))
