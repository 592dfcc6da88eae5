"""The scope guard's verdict on a change: path rules first, then (only when a Markdown
document changed, and only if every path may change at all) the document rules. Pure; the
hook, `verify` and the ledger all call `judge`."""

# No `from __future__ import annotations`: see rules.py.

from collections.abc import Collection, Sequence

from .paths import case_twins, path_rules
from .rules import Change, Rules, StreakOf, Violation


def judge(changes: Sequence[Change], rules: Rules, *, streak_of: StreakOf,
          existing: Collection[str] = ()) -> list[Violation]:
    """Every violation in a change set (empty when the ops commit is within scope).

    ``existing``: the casefolded paths already in the folders new files go to."""
    out: list[Violation] = []
    for ch in changes:
        out += path_rules(ch, rules)
    out += case_twins(changes, existing)
    if out:
        return out  # content rules only make sense for paths that may change at all
    documents = [ch for ch in changes if ch.old is not None and ch.new is not None
                 and ch.path in (rules.session_log, rules.backlog, rules.design)]
    if documents:
        from .documents import judge_document  # Markdown rules: only when a document changed

        for ch in documents:
            out += judge_document(ch, rules, streak_of)
    return out
