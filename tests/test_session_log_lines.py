"""Where the session-log rules point: each finding names the line of the new file that
holds the offending text, whatever the log's line endings and whether it ended with one."""

from __future__ import annotations

import pytest

from evidencebot.guard.documents import judge_document
from evidencebot.guard.rules import Blob, Change, Rules

ENTRY = "## 2026-11-20 08:30 UTC — OPS — burn-in run\n- Outcome: qualifying\n"
BAD = "## stray heading"


def _findings(old: bytes, new: bytes) -> list[tuple[str, tuple[int, int] | None]]:
    rules = Rules()
    change = Change(Blob(rules.session_log, "100644", old), Blob(rules.session_log, "100644", new))
    return [(v.rule, v.lines) for v in judge_document(change, rules, lambda _mo: 0)]


def _line_of(new: bytes, text: bytes) -> int:
    """The 1-based line of ``new`` holding ``text`` (line breaks LF, CRLF or CR)."""
    lines = new.splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("ended", [True, False], ids=["ended", "no-final-break"])
@pytest.mark.parametrize(("appended", "rule", "marker"), [
    (f"{ENTRY}{BAD}\n", "session-log-grammar", BAD.encode()),
    (f"{ENTRY}- Note: a \u202e reversed cell\n", "hidden-characters", "\u202e".encode()),
    (f"{ENTRY}free text here\n", None, None),
], ids=["heading", "hidden-character", "free-text"])
def test_a_finding_names_the_line_that_holds_it(eol: str, ended: bool, appended: str,
                                                rule: str | None, marker: bytes | None) -> None:
    log = "# Session log\n\n## 2026-11-19 08:30 UTC — OPS — first\n- Outcome: qualifying\n"
    old = log.replace("\n", eol).encode()
    if not ended:
        old = old[:-len(eol)]
    new = old + (("" if ended else eol) + appended).replace("\n", eol).encode()
    found = _findings(old, new)
    if rule is None:  # free text after an entry's fields: the grammar says so
        assert [r for r, _ in found] == ["session-log-grammar"]
        where = _line_of(new, b"free text here")
        assert found[0][1] == (where, where)
        return
    assert marker is not None
    where = _line_of(new, marker)
    assert (rule, (where, where)) in found, found


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_text_added_to_the_last_entry_names_its_line(eol: str) -> None:
    old = f"# Session log\n\n{ENTRY}".replace("\n", eol).encode()
    new = old + f"- Extra: field{eol}".encode()
    assert _findings(old, new) == [("append-only", (_line_of(new, b"Extra"),) * 2)]
