"""Where the session-log rules point: each finding names the line of the new file that
holds the offending text, as git counts lines (a line ends with LF; CRLF's CR is part of
its ending; a lone CR is inside a line), whether the log ended with a line break or not."""

from __future__ import annotations

import pytest

from evidencebot.guard.documents import judge_document
from evidencebot.guard.rules import Blob, Change, Rules

LOG = "# Session log\n\n## 2026-11-19 08:30 UTC — OPS — first\n- Outcome: qualifying\n"
ENTRY = "## 2026-11-20 08:30 UTC — OPS — burn-in run\n- Outcome: qualifying\n"


def _findings(old: bytes, new: bytes) -> list[tuple[str, tuple[int, int] | None]]:
    rules = Rules()
    change = Change(Blob(rules.session_log, "100644", old), Blob(rules.session_log, "100644", new))
    return [(v.rule, v.lines) for v in judge_document(change, rules, lambda _mo: 0)]


def _line_of(new: bytes, text: bytes) -> int:
    """The 1-based line of ``new`` (split at LF, as git and `cat -n` count) holding
    ``text``."""
    return next(i for i, line in enumerate(new.split(b"\n"), start=1) if text in line)


def _logs(eol: str, ended: bool, appended: str | bytes) -> tuple[bytes, bytes]:
    """(old, new): the log with ``eol`` line endings, ending with one or not, and the
    new version with ``appended`` (its "\\n" written as ``eol``) after a line break."""
    old = LOG.replace("\n", eol).encode()
    if not ended:
        old = old[:-len(eol)]
    tail = appended.replace(b"\n", eol.encode()) if isinstance(appended, bytes) else \
        appended.replace("\n", eol).encode()
    return old, old + (b"" if ended else eol.encode()) + tail


EOLS = pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
ENDED = pytest.mark.parametrize("ended", [True, False], ids=["ended", "no-final-break"])


@EOLS
@ENDED
@pytest.mark.parametrize(("appended", "rule", "marker"), [
    (f"{ENTRY}## stray heading\n", "session-log-grammar", b"stray heading"),
    (f"{ENTRY}- Note: a \u202e reversed cell\n", "hidden-characters", "\u202e".encode()),
    (f"{ENTRY}- Note: a \u2028 separated cell\n", "hidden-characters", "\u2028".encode()),
    (f"{ENTRY}- Result: FAILED\r- Result: PASSED\n", "hidden-characters", b"FAILED"),
    (f"{ENTRY}free text here\n", "session-log-grammar", b"free text here"),
    (ENTRY.encode() + b"- Note: a \x00 byte\n", "text-only", b"\x00"),
    (ENTRY.encode() + b"- Note: \xff\xfe not UTF-8\n", "text-only", b"\xff\xfe"),
], ids=["heading", "bidi-override", "line-separator", "lone-cr", "free-text", "nul",
        "invalid-utf8"])
def test_a_finding_names_the_line_that_holds_it(eol: str, ended: bool, appended: str | bytes,
                                                rule: str, marker: bytes) -> None:
    old, new = _logs(eol, ended, appended)
    where = _line_of(new, marker)
    assert (rule, (where, where)) in _findings(old, new)


@EOLS
def test_text_added_to_the_last_entry_names_its_line(eol: str) -> None:
    old, new = _logs(eol, True, "- Extra: field\n")
    assert _findings(old, new) == [("append-only", (_line_of(new, b"Extra"),) * 2)]


def test_a_hidden_character_in_a_heading_is_the_one_finding_for_its_entry() -> None:
    """A heading refused for what it hides still opens its entry: its fields are not
    'text added to the last entry'."""
    old, new = _logs("\n", True, "## 2026-11-20 08:30 UTC — OPS — run \u200b\n- Outcome: x\n")
    assert [r for r, _ in _findings(old, new)] == ["hidden-characters"]


@pytest.mark.parametrize(("before", "after"), [(b"\n", b"\r\n"), (b"qualifying", b"qualified")],
                         ids=["line-ending-only", "text"])
def test_a_change_to_an_existing_line_names_that_line(before: bytes, after: bytes) -> None:
    old = (LOG + ENTRY).encode()
    at = old.index(b"- Outcome: qualifying\n")  # line 4
    new = old[:at] + old[at:].replace(before, after, 1) + b"## tail\n"
    assert _findings(old, new) == [("append-only", (4, 4))]


def test_a_paragraph_added_to_the_last_entry_is_one_finding_over_its_lines() -> None:
    old, new = _logs("\n", True, "free words\nmore free words\n\n- Note: x\n")
    first = _line_of(new, b"free words")
    assert _findings(old, new) == [("append-only", (first, first + 1)),
                                   ("append-only", (first + 3, first + 3))]
