"""The scope guard's verdict on a change: path rules on every changed path, then the
document rules on every Markdown document whose own change the path rules allow, so one
pass reports every violation. Pure; the hook, `verify` and the ledger all call `judge`."""

# No `from __future__ import annotations`: see rules.py.

from collections.abc import Callable, Collection, Sequence
from functools import partial

from .paths import Names, case_twins, path_rules
from .rules import Change, Rules, StreakOf, Violation, closing, closure_in, run_record_in


def judge(changes: Sequence[Change], rules: Rules, *, streak_of: StreakOf,
          existing: Names | Collection[str] = ()) -> list[Violation]:
    """Every violation in a change set (empty when the ops commit is within scope).

    ``existing``: the paths already in the folders new files go to."""
    out: list[Violation] = []
    documents: list[Change] = []
    names = (rules.session_log, rules.backlog, rules.design)
    for ch in changes:
        found = path_rules(ch, rules)
        out += found
        # A document's text is judged when its own path may change that way (a symlink
        # or a mode change has no text to judge), whatever else the change breaks.
        if not found and ch.old is not None and ch.new is not None and ch.path in names:
            documents.append(ch)
    out += case_twins(changes, existing if isinstance(existing, Names) else
                      Names.of(existing))
    if documents:
        from .documents import judge_document  # Markdown rules: only when a document changed

        closes = closing(streak_of, closure_in(changes, rules), rules)  # (only a closure closes)
        rule = partial(judge_document, rendered=run_record_in(changes, rules))
        for ch in documents:
            out += _document(rule, ch, rules, closes)
    return out


def _document(rule: Callable[[Change, Rules, StreakOf], list[Violation]], ch: Change,
              rules: Rules, streak_of: StreakOf) -> list[Violation]:
    """The document rules on one change; a document they cannot read is a violation, never
    a crash of the hook."""
    try:
        return list(rule(ch, rules, streak_of))
    except (ValueError, RecursionError, IndexError) as e:
        return [Violation(ch.path, "unreadable-document",
                          f"the document rules could not read it ({type(e).__name__})",
                          "write the document as plain UTF-8 Markdown")]
