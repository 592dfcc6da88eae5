"""A commit that is no ops commit: code, merged into the base by a merge request of its
own, whatever its branch is named. `verify` judges a range that holds no ops commit so
(the CI job runs on every merge request), for what only ops commits may do:

- write under the evidence folders (records, logs, voids, refused checks, closures:
  `evidence-in-code`);
- add a line to the documents that says a milestone with a rule closed, while the
  history holds no closure of it (a status cell, a note, a session-log entry, however
  it is spelt or dressed: `milestone-closed-by-hand`);
- change or remove a tracker row (the streak reads hand-written rows: one removed, or
  its outcome changed, would take a break out of it: `tracker-append-only`).

The folders and documents are those the base's config names and, where the commit
changes the config, those it names after it too (a config that moves the documents
would otherwise move them out of sight). The rest is the code review's."""

# No `from __future__ import annotations`: see rules.py.

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from ..defaults import CHECKS_DIR, VOIDS_DIR
from .rules import Change, Rules, Violation, closed_said


def documents_of(rules_seen: Iterable[Rules]) -> set[str]:
    """The three documents' names under each of the configs, as paths compare on a disk
    that ignores case."""
    return {name.casefold() for r in rules_seen for name in (r.design, r.backlog,
                                                             r.session_log)}


def judge_code(changes: Sequence[Change], rules_seen: Sequence[Rules],
               closed: Collection[str]) -> list[Violation]:
    """Every violation of a commit that is no ops commit; ``rules_seen``: the base's rules
    (first) and the commit's own where its config differs; ``closed``: the milestones
    the history closed (a closure merged long ago: text may say so)."""
    folders = tuple({f.rstrip("/").casefold() + "/" for r in rules_seen
                     for f in (r.evidence_dir, r.milestone_dir, VOIDS_DIR, CHECKS_DIR)})
    documents = documents_of(rules_seen)
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
        elif ch.path.casefold() in documents:
            out += _closed_by_hand(ch, rules_seen, closed)
            out += _rows_kept(ch, rules_seen)
    return out


def _lines(side: object) -> list[str]:
    data = getattr(side, "data", None) or b""
    return data.decode("utf-8", "replace").splitlines()


def _closed_by_hand(ch: Change, rules_seen: Sequence[Rules],
                    closed: Collection[str]) -> list[Violation]:
    """The milestones a line the change adds says closed (`closed_said`, as a reader
    takes it), the history not having closed them."""
    from ..textsafe import skeleton

    added = Counter(_lines(ch.new)) - Counter(_lines(ch.old))
    said = {mo for text in added for r in rules_seen
            for mo in closed_said(skeleton(text), r)} - set(closed)
    return [Violation(ch.path, "milestone-closed-by-hand", f"a line added here says {mo} "
                      "closed, in a commit that is not its closure: only `evidencebot "
                      "close` closes a milestone (its closure names the runs)", "leave it; "
                      f"once the streak holds, `evidencebot close {mo}` writes it")
            for mo in sorted(said)]


def _rows_kept(ch: Change, rules_seen: Sequence[Rules]) -> list[Violation]:
    """Every tracker row the backlog had, it still has (rows may be added)."""
    from ..evidence.rows import tracker_rows

    for r in rules_seen:
        if ch.path.casefold() != r.backlog.casefold():
            continue
        old, new = ((side.data or b"") if side is not None else b""
                    for side in (ch.old, ch.new))
        try:
            gone = sum((Counter(tracker_rows(old, r.tracker_section)) -
                        Counter(tracker_rows(new, r.tracker_section))).values())
        except (ValueError, RecursionError, IndexError):
            gone = 1  # (a tracker the rules cannot read: as none kept)
        if gone:
            return [Violation(ch.path, "tracker-append-only", f"{gone} "
                              "tracker row(s) changed or removed by a commit that is no ops "
                              "commit: the streak reads every row", "restore them; a "
                              "recorded run is put right with `evidencebot void`", None,
                              r.tracker_section)]
    return []
