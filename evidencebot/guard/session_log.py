"""The scope rules for SESSION_LOG.md: append-only, in OPS entries (`## YYYY-MM-DD HH:MM
UTC — OPS — title` and `- Field: value` lines), with nothing hidden in the appended text.
A finding names the line of the new file, as git counts lines (a line ends with LF)."""

# No `from __future__ import annotations`: see scope.py.

import re

from .prose import CLOSED_WORD, milestones_named
from .rules import (
    Change,
    Rules,
    StreakOf,
    Violation,
    closed_early,
    markup_violation,
)

OPS_HEADING = re.compile(r"^## (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC — OPS — \S.*$")
FIELD_LINE = re.compile(r"^- [A-Z][A-Za-z0-9 ()/-]*: .*$")
ANY_ENTRY = re.compile(r"^## .* UTC — [A-Z]+ — ")  # an entry heading of some other type


def judge_log(ch: Change, rules: Rules | None = None,
              streak_of: StreakOf | None = None, *, said_closed: bool = True) -> list[Violation]:
    """The session log is append-only, in OPS entries: what is wrong with ``ch`` (with
    ``rules`` and ``streak_of``, and ``said_closed``: also an appended line saying a
    milestone closed where it may not, `closed_early`)."""
    assert ch.old and ch.new
    old, new = ch.old.data or b"", ch.new.data or b""
    # Lines are what git counts: a line ends with LF (CRLF's LF); a lone CR is inside one.
    if not new.startswith(old):
        a, b = old.split(b"\n"), new.split(b"\n")  # (a changed line ending is a change)
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
        return [Violation(ch.path, "append-only", "existing text was changed or removed",
                          "restore the log and only append a new OPS entry at the end",
                          (first + 1, first + 1))]
    found = _appended(ch.path, new[len(old):], old_ended=old.endswith(b"\n") or not old)
    if rules is not None and streak_of is not None and said_closed and not found:
        found = _closures_said(ch.path, new[len(old):], rules, streak_of)
    if not found:
        return []
    # lines counted from the appended text's first; the log's own are counted only now (a
    # log grows an entry every run: every commit does not pay for reading all of it)
    shift = old.count(b"\n")
    return [v._replace(lines=(v.lines[0] + shift, v.lines[1] + shift)) if v.lines else v
            for v in found]


def _appended(path: str, added: bytes, *, old_ended: bool) -> list[Violation]:
    """What is wrong with ``added``, appended to the log (lines numbered from its first,
    which is the log's last when the log did not end with a line break)."""
    if b"\x00" in added:
        at = added[:added.index(b"\x00")].count(b"\n") + 1
        return [Violation(path, "text-only", "a NUL byte in the appended text",
                          "append UTF-8 text only", (at, at))]
    try:
        text = added.decode("utf-8")
    except UnicodeDecodeError as e:
        at = added[:e.start].count(b"\n") + 1
        return [Violation(path, "text-only", "invalid UTF-8 in the appended text",
                          "append UTF-8 text only", (at, at))]
    return _entries(path, text, old_ended=old_ended)


def _entries(path: str, text: str, *, old_ended: bool) -> list[Violation]:
    """The rules for the appended ``text``, its lines numbered from 1 (the first is the
    rest of the log's last line when the log did not end with a line break)."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = 1
    if not old_ended:
        if lines[0].strip():
            return [Violation(path, "append-only", "text added to the last existing entry",
                              "start a new '## … UTC — OPS — …' entry", (1, 1))]
        lines, first = lines[1:], 2
    out: list[Violation] = []
    seen_heading = False
    from ..textsafe import has_unsafe, markup

    for n, line in enumerate(lines, start=first):
        # a lone CR returns a terminal to the line's start: what follows hides what was before
        found = "U+000D" if "\r" in line else has_unsafe(line)
        if found:
            out.append(Violation(path, "hidden-characters", f"an appended line holds {found} "
                                 "(a control or format character)",
                                 "remove it; write plain text", (n, n)))
            seen_heading = seen_heading or line.startswith("#")  # (refused, but a heading)
            continue
        if not line.strip():
            continue
        if tag := markup(line):
            out.append(markup_violation(path, tag, (n, n)))
            continue
        if line.startswith("#"):
            if OPS_HEADING.match(line):
                seen_heading = True
                continue
            rule = "ops-entry-only" if ANY_ENTRY.match(line) else \
                "session-log-grammar"
            out.append(Violation(path, rule, f"heading {line!r} is not an OPS entry",
                                 "entries appended by an ops session are of type OPS: "
                                 "'## YYYY-MM-DD HH:MM UTC — OPS — title'", (n, n)))
            seen_heading = True
        elif not seen_heading:
            out.append(Violation(path, "append-only", "text added to the last existing entry",
                                 "start a new '## … UTC — OPS — …' entry", (n, n)))
        elif not FIELD_LINE.match(line):
            out.append(Violation(path, "session-log-grammar",
                                 f"line {line[:40]!r} is not '- Field: value'",
                                 "write entry fields as '- Field: value' lines", (n, n)))
    return _joined(out)


# A field that states an entry's outcome, saying "closed" anywhere (`close`'s own: "- Result:
# CLOSED on 3 consecutive qualifying runs"; "- State: ✅ closed"): it says the entry's
# milestone closed.
_OUTCOME_FIELD = re.compile(r"^- (?:result|status|state|outcome)s?: ")


def _closures_said(path: str, added: bytes, rules: Rules,
                   streak_of: StreakOf) -> list[Violation]:
    """An appended line that says a milestone with a rule closed, as a reader takes it:
    one naming it ("## … — OPS — MO-2 closed", "- Result: MO-2 CLOSED"), and in an entry
    whose "- Milestone:" field names it, its heading or outcome saying "closed" ("## … —
    OPS — burn-in closed", "- Result: CLOSED on …", the layout `close` writes). Allowed
    only where the milestone may close or has (`close`'s own entry, a run's after it)."""
    from ..textsafe import skeleton

    lines = [skeleton(x) for x in added.decode("utf-8", "replace").split("\n")]
    out: list[Violation] = []
    start = 0
    while start < len(lines):  # entry by entry: a heading and the lines up to the next
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")),
                   len(lines))
        entry = sorted({m for x in lines[start:end] if x.startswith(("- milestone:",
                                                                      "- milestones:"))
                        for m in milestones_named(x.partition(":")[2], rules)})
        for n in range(start, end):
            if not CLOSED_WORD.search(lines[n]):
                continue
            said = milestones_named(lines[n], rules) or (
                entry if lines[n].startswith("## ") or _OUTCOME_FIELD.match(lines[n]) else [])
            for mo in said:
                out += closed_early(path, mo, f"an appended line says {mo} closed",
                                    (n + 1, n + 1), "", rules, streak_of)
        start = end
    return out


def _joined(found: list[Violation]) -> list[Violation]:
    """Findings the same but for their lines, on lines one after the other, as one finding
    over those lines (a paragraph added to the last entry is one mistake)."""
    out: list[Violation] = []
    for v in found:
        last = out[-1] if out else None
        if last is not None and last.lines and v.lines and last.lines[1] + 1 == v.lines[0] \
                and last._replace(lines=None) == v._replace(lines=None):
            out[-1] = last._replace(lines=(last.lines[0], v.lines[1]))
        else:
            out.append(v)
    return out
