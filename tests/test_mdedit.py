from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot.md import edit as mdedit
from evidencebot.md import lines as mdlines
from evidencebot.sim.trading_repo import BACKLOG, DESIGN

TRACKER = "Step 1A Burn-In Tracker"


def variant(text: str, *, newline: bytes, bom: bool, final_newline: bool) -> bytes:
    data = text.encode("utf-8").replace(b"\n", newline)
    if not final_newline:
        data = data.rstrip(b"\r\n")
    return (mdedit.BOM if bom else b"") + data


def test_heading_inside_a_code_fence_is_not_a_section() -> None:
    doc = mdedit.parse(DESIGN.encode())
    titles = [s.title for s in mdedit.sections(doc)]
    assert titles.count("9. Operational Milestones Tracker") == 1
    sec = mdedit.find_section(doc, "9. Operational Milestones Tracker")
    assert doc.line_text(sec.start) == "## 9. Operational Milestones Tracker"


def test_section_runs_to_next_heading_of_same_rank_and_includes_subsections() -> None:
    data = b"# T\n\n## A\n\ntext\n\n### A.1\n\nsub\n\n## B\n\nb\n"
    doc = mdedit.parse(data)
    a = mdedit.find_section(doc, "A")
    assert (a.start, a.end) == (2, 10)
    sub = mdedit.find_section(doc, "A.1")
    assert a.start < sub.start < sub.end <= a.end


def test_heading_in_list_or_quote_is_not_a_section() -> None:
    data = b"# T\n\n> ## Quoted\n\n- ## Listed\n\n## Real\n"
    titles = [s.title for s in mdedit.sections(mdedit.parse(data))]
    assert titles == ["T", "Real"]


def test_append_row_adds_exactly_one_line_after_the_last_row() -> None:
    data = BACKLOG.encode()
    out = mdedit.append_row(data, TRACKER, {"#": "2", "Run ID": "R2", "Outcome": "qualifying"})
    old, new = data.splitlines(keepends=True), out.splitlines(keepends=True)
    table = mdedit.first_table(mdedit.parse(data), TRACKER)
    assert new[: table.end] == old[: table.end]
    assert new[table.end + 1:] == old[table.end:]
    assert new[table.end] == b"| 2 |  | R2 |  |  |  |  |  | qualifying |  |\n"


def test_pipe_in_a_value_is_escaped_and_reads_back() -> None:
    out = mdedit.append_row(BACKLOG.encode(), TRACKER, {"Outcome": "a | b"})
    table = mdedit.first_table(mdedit.parse(out), TRACKER)
    assert table.rows[-1][table.column("Outcome")] == "a | b"
    assert len(table.rows[-1]) == len(table.header)


def test_unknown_column_is_an_error_not_a_silent_loss() -> None:
    with pytest.raises(mdedit.MarkdownEditError, match="no column 'Colour'"):
        mdedit.append_row(BACKLOG.encode(), TRACKER, {"Colour": "red"})


def test_set_cell_changes_only_that_cell() -> None:
    data = BACKLOG.encode()
    out = mdedit.set_cell(data, "MO-* Status", "MO-2", "Status", "CLOSED")
    changed = [(a, b) for a, b in zip(data.splitlines(), out.splitlines(), strict=True) if a != b]
    assert changed == [(b"| MO-2 | IN PROGRESS | 2026-11-16 | burn-in started |",
                        b"| MO-2 | CLOSED | 2026-11-16 | burn-in started |")]


def test_row_with_a_code_span_pipe_is_refused() -> None:
    data = b"## S\n\n| ID | Status |\n|----|--------|\n| MO-2 | `a|b` | x |\n"
    with pytest.raises(mdedit.MarkdownEditError, match="refusing to edit"):
        mdedit.set_cell(data, "S", "MO-2", "Status", "CLOSED")


def test_missing_section_is_an_error() -> None:
    with pytest.raises(mdedit.MarkdownEditError, match="no section titled"):
        mdedit.append_row(BACKLOG.encode(), "Nope", {})


def test_replace_line_only_inside_the_section() -> None:
    data = b"## A\n\nCount: 1\n\n## B\n\nCount: 1\n"
    out = mdlines.replace_line(data, "B", re.compile(r"Count: \d"), "Count: 2")
    assert out == b"## A\n\nCount: 1\n\n## B\n\nCount: 2\n"


newlines = st.sampled_from([b"\n", b"\r\n"])
prose = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x0c\x0b\x1c\x1d\x1e"
                                    "\x85\u2028\u2029#|`~>-*+=_[]<"), max_size=30),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(newline=newlines, bom=st.booleans(), final=st.booleans(), before=prose, after=prose,
       value=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                     max_size=20))
def test_append_row_is_byte_exact_outside_the_new_row(
    newline: bytes, bom: bool, final: bool, before: list[str], after: list[str], value: str
) -> None:
    text = "\n".join(["# Doc", "", *before, "", "## Step 1A Burn-In Tracker", "",
                      "| # | Outcome |", "|---|---------|", "| 1 | ok |", "", *after])
    data = variant(text.rstrip("\n") + "\n", newline=newline, bom=bom, final_newline=final)
    out = mdedit.append_row(data, TRACKER, {"#": "2", "Outcome": value})
    assert out.startswith(mdedit.BOM) == bom
    assert out.endswith(newline) == final
    old, new = mdedit.parse(data).lines, mdedit.parse(out).lines
    table = mdedit.first_table(mdedit.parse(data), TRACKER)
    i = table.end
    # untouched lines identical; the old last row gains a line ending only if it had none
    assert new[: i - 1] == old[: i - 1] and new[i + 1:] == old[i:]
    assert new[i - 1].rstrip(b"\r\n") == old[i - 1].rstrip(b"\r\n")
    assert all(line.endswith(newline) or line is new[-1] for line in new)
    row = mdedit.first_table(mdedit.parse(out), TRACKER).rows[-1]
    assert row == ("2", " ".join(value.split()))


@settings(max_examples=60, deadline=None)
@given(newline=newlines, bom=st.booleans(), final=st.booleans(), before=prose,
       fields=st.lists(st.text(alphabet="abcdefghij XYZ:.0123", min_size=1, max_size=15),
                       min_size=1, max_size=4))
def test_append_entry_keeps_every_existing_byte(
    newline: bytes, bom: bool, final: bool, before: list[str], fields: list[str]
) -> None:
    text = "\n".join(["# Session Log", "", *before, "", "## old entry", "", "- A: b"])
    data = variant(text + "\n", newline=newline, bom=bom, final_newline=final)
    entry = "## new entry\n\n" + "\n".join(f"- F: {f}" for f in fields)
    out = mdedit.append_entry(data, entry)
    prefix = data if final else data + newline
    assert out.startswith(prefix)
    assert out.endswith(newline) == final
    added = out[len(prefix):].decode("utf-8")
    assert added.replace("\r\n", "\n").strip("\n").split("\n")[0] == "## new entry"
    assert (b"\r\n" in out[len(prefix):]) == (newline == b"\r\n")
    assert mdedit.sections(mdedit.parse(out))[-1].title == "new entry"


@settings(max_examples=60, deadline=None)
@given(newline=newlines, bom=st.booleans(), value=st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20))
def test_set_cell_round_trips_and_keeps_other_lines(newline: bytes, bom: bool, value: str) -> None:
    data = variant(BACKLOG, newline=newline, bom=bom, final_newline=True)
    out = mdedit.set_cell(data, "MO-* Status", "MO-3", "Note", value)
    old, new = data.splitlines(keepends=True), out.splitlines(keepends=True)
    assert len(old) == len(new)
    assert sum(a != b for a, b in zip(old, new, strict=True)) <= 1
    # (a pipe escaped or not is a pipe: "\\|" in the value is read back as "|")
    assert mdedit.get_cell(out, "MO-* Status", "MO-3", "Note") == \
        " ".join(value.split()).replace("\\|", "|")


def test_an_edited_document_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """`record` appends the row, then rewrites the streak line of the result: the result's
    blocks are derived from the original's, so only the original is parsed, and the
    derived blocks are those a full parse gives."""
    from evidencebot.md import blocks as mdblocks

    mdblocks.forget()
    parsed: list[int] = []
    real = mdblocks._parse
    monkeypatch.setattr(mdblocks, "_parse", lambda lines, offset: parsed.append(len(lines))
                        or real(lines, offset))
    data = BACKLOG.encode()
    row = mdedit.append_row(data, TRACKER, {"Run ID": "20261125T090000Z"})
    done = mdlines.replace_line(row, TRACKER, re.compile(r"Consecutive qualifying runs"),
                               "Consecutive qualifying runs: 2 of 3")
    assert done != row != data
    assert parsed == [len(mdedit.parse(data).lines)]  # the original, once
    result = mdedit.parse(done)
    assert mdblocks.blocks(result) == tuple(real(result.lines, 0))


_TABLE_LINES = ["| a | b |", "|---|---|", "| 1 | 2 |", "| 3 |", "x | y", "--|--", "", "text",
                "| c | d | e |", "|:-|-:|", "  | indented |", "```", "- item", "# H"]


@settings(max_examples=300, deadline=None)
@given(body=st.lists(st.sampled_from(_TABLE_LINES), max_size=14))
def test_table_spans_are_where_tables_finds_the_tables(body: list[str]) -> None:
    """`table_spans` (the scope rule that keeps the tracker whole reads it) finds the same
    tables as `tables` (the streak's hand-written rows come from it), without the cells."""
    doc = mdedit.parse(("# Doc\n\n## T\n\n" + "\n".join(body) + "\n\n## After\n").encode())
    sec = mdedit.find_section(doc, "T")
    spans = [(t.header, t.start, t.end) for t in mdedit.table_spans(doc, sec)]
    assert spans == [(t.header, t.start, t.end) for t in mdedit.tables(doc, sec)]


@settings(max_examples=100, deadline=None)
@given(versions=st.lists(st.lists(st.sampled_from(_TABLE_LINES + ["| 5 | 6 |", "| 7 |"]),
                                  max_size=8), min_size=1, max_size=6),
       grow=st.lists(st.booleans(), min_size=6, max_size=6))
def test_a_table_read_after_a_shorter_version_of_it_reads_as_when_read_alone(
        versions: list[list[str]], grow: list[bool]) -> None:
    """Each table body read is remembered, and a later body that starts with it has only
    its new lines read: for versions that add lines (rows, or a line without a pipe that
    makes the table not a plain one), and versions that do not, the tables found are the
    ones a first read finds."""
    body: list[str] = ["| a | b |", "|---|---|"]
    for version, grows in zip(versions, grow, strict=False):
        body = (body if grows else body[:2]) + version
        doc = mdedit.parse(("# Doc\n\n## T\n\n" + "\n".join(body) + "\n\n## After\n").encode())
        sec = mdedit.find_section(doc, "T")
        after_others = [mdedit._pipe_tables(doc, sec, cells=c) for c in (True, False)]
        remembered = dict(mdedit._last_body)
        mdedit._last_body.clear()
        assert after_others == [mdedit._pipe_tables(doc, sec, cells=c) for c in (True, False)]
        mdedit._last_body.update(remembered)


_PIECES = ["Consecutive qualifying runs: 1 of 3", "  Consecutive qualifying runs:2 of 3 ",
           "x Consecutive qualifying runs: 1 of 3", "| Consecutive qualifying runs: 1 of 3 |",
           "Consecutive qualifying runs:", "Consecutive qualifying runs: 1 of 3 and more",
           "plain text", "", "| a | b |", "|---|---|", "## Tracker", "## Later", "é"]


@settings(max_examples=300, deadline=None)
@given(body=st.lists(st.sampled_from(_PIECES), max_size=12),
       later=st.lists(st.sampled_from(_PIECES), max_size=4),
       ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=3),
       bom=st.booleans(), title=st.sampled_from(["Tracker", "Later"]))
def test_lines_matching_finds_what_a_line_by_line_search_finds(
        body: list[str], later: list[str], ends: list[str], bom: bool, title: str) -> None:
    """The lines of a section holding some bytes and matching a pattern, found in the
    section's text at once (and remembered), are the lines a search of each line finds:
    LF, CRLF and lone CR endings, a BOM, the bytes at a line's start or end."""
    from evidencebot.defaults import STREAK_LINE, STREAK_WORDS
    from evidencebot.evidence.render import with_streak

    lines = ["# Top", "", "## Tracker", "", *body, "", "## Later", *later]
    data = (b"\xef\xbb\xbf" if bom else b"") + "".join(
        ln + ends[i % len(ends)] for i, ln in enumerate(lines)).encode()
    pattern = re.compile(STREAK_LINE)
    try:
        doc = mdedit.parse(data)
        sec = mdedit.find_section(doc, title)
    except mdedit.MarkdownEditError:
        return  # ("## Tracker" twice in the body: no one section to read)
    want = [doc.line_text(i) for i in range(sec.body_start, sec.end)
            if pattern.search(doc.line_text(i))]
    got = mdlines.lines_matching(data, title, pattern, holding=STREAK_WORDS.encode())
    assert got == want
    assert mdlines.lines_matching(data, title, pattern, holding=STREAK_WORDS.encode()) == want
    # the streak line `record` and `void` rewrite is the first of them, by either search
    assert with_streak(data, title, 2, 3) == mdlines.replace_line(
        data, title, pattern, "Consecutive qualifying runs: 2 of 3")


def _append_entry_by_lines(data: bytes, entry: str) -> bytes:
    """`append_entry` as the document's lines read it (what the tail-only version must
    give): the file split into lines, the entry appended as lines."""
    doc = mdedit.parse(data)
    nl = doc.newline
    lines = list(doc.lines)
    had_final = bool(lines) and lines[-1].endswith((b"\n", b"\r"))
    if lines and not had_final:
        lines[-1] = lines[-1] + nl
    if lines and lines[-1].strip():
        lines.append(nl)
    new = [line.rstrip().encode() + nl for line in entry.strip("\n").split("\n")]
    if lines and not had_final:
        new[-1] = new[-1][: -len(nl)]
    return mdedit.Doc(doc.bom, tuple(lines + new)).to_bytes()


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b" ", b"\n", b"\r", b"\r\n", b"## x", b"\t",
                                      b"\xef\xbb\xbf"]), max_size=12).map(b"".join),
       bom=st.booleans(),
       entry=st.text(alphabet="ab \n-#:", min_size=1, max_size=20).filter(str.strip))
def test_append_entry_reads_the_last_line_as_the_lines_do(data: bytes, bom: bool,
                                                           entry: str) -> None:
    data = (mdedit.BOM if bom else b"") + data
    assert mdedit.append_entry(data, entry) == _append_entry_by_lines(data, entry)
