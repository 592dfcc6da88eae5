"""The scope guard's verdict on a change: path rules on every changed path, then the
document rules on every Markdown document whose own change the path rules allow, so one
pass reports every violation. Pure; the hook, `verify` and the ledger all call `judge`."""

# No `from __future__ import annotations`: see rules.py.

from collections.abc import Callable, Collection, Sequence
from functools import partial

from ..defaults import CHECKS_DIR, VOIDS_DIR
from .paths import Names, case_twins, path_rules
from .rules import (
    BY_HAND,
    Change,
    Rules,
    StreakOf,
    Violation,
    closing,
    closure_in,
    run_record_in,
)


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


def judge_code(changes: Sequence[Change], rules: Rules) -> list[Violation]:
    """What a commit that is no ops commit (code, merged into the base by a merge request
    of its own) may not do, whatever its branch is named: write under the evidence
    folders (records, logs, voids, refused checks, closures are the ops commits' alone:
    `evidence-in-code`), or close a milestone with a rule (a status set CLOSED, a line
    saying it closed: only its closure does, `milestone-closed-by-hand`). The rest is
    the code review's."""
    folders = tuple(f.rstrip("/").casefold() + "/" for f in
                    (rules.evidence_dir, rules.milestone_dir, VOIDS_DIR, CHECKS_DIR))
    out: list[Violation] = []
    for ch in changes:
        path = next((side.path for side in (ch.new, ch.old) if side is not None
                     and side.path.casefold().startswith(folders)), None)
        if path is not None:
            out.append(Violation(path, "evidence-in-code", "a commit that is no ops commit "
                                 "writes under the evidence folders", "evidence is written "
                                 "by evidencebot's ops commits (record, void, close) on the "
                                 "ops branch: take it out of this commit (a squashed merge "
                                 "of the ops branch drops their trailers: merge it with a "
                                 "merge commit)"))
    names = (rules.session_log, rules.backlog, rules.design)
    documents = [ch for ch in changes if ch.old is not None and ch.new is not None
                 and ch.path in names]
    if documents:
        from .documents import judge_document

        def by_hand(_mo: str) -> int:
            return BY_HAND

        for ch in documents:
            out += [v for v in _document(judge_document, ch, rules, by_hand)
                    if v.rule == "milestone-closed-by-hand"]
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
