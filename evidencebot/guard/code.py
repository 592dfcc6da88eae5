"""A commit that is no ops commit: code, merged into the base by a merge request of its
own, whatever its branch is named. `verify` judges a range that holds no ops commit so
(the CI job runs on every merge request), for what only ops commits may do:

- write under the evidence folders (records, logs, voids, refused checks, closures:
  `evidence-in-code`);
- make the documents say a milestone closed while the history holds no closure of it:
  text it adds that reads so (`closed_claims`: a status cell, a note, a session-log
  entry, however it is spelt, marked up or split over lines), or a status table it
  leaves unreadable for a milestone it could be read for (turned around, moved into
  HTML, its row renamed: `milestone-closed-by-hand`);
- change or remove a tracker row that breaks the streak (one removed, or its outcome
  changed, would take a break out of it: `tracker-append-only`);
- put anything but a regular file where a document is (a symbolic link shows a reader
  another file: `regular-files-only`).

The folders and documents are those the base's config names and, where the commit
changes the config, those it names after it too (a config that moves the documents
would otherwise move them out of sight); the milestones watched are every one with a
rule in either, and the runbook's own (a config that drops MO-2's rule would otherwise
stop watching it). The rest is the code review's."""

# No `from __future__ import annotations`: see rules.py.

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from ..defaults import CHECKS_DIR, MILESTONE, VOIDS_DIR
from .rules import Blob, Change, Rules, Violation, closed_claims

REGULAR = ("100644", "100755")


def documents_of(rules_seen: Iterable[Rules]) -> set[str]:
    """The three documents' names under each of the configs, as paths compare on a disk
    that ignores case."""
    return {name.casefold() for r in rules_seen for name in (r.design, r.backlog,
                                                             r.session_log)}


def watched(rules_seen: Iterable[Rules]) -> frozenset[str]:
    """The milestones whose closure only a closure commit may claim."""
    return frozenset({MILESTONE, *(mo for r in rules_seen for mo in r.milestones)})


def judge_code(changes: Sequence[Change], rules_seen: Sequence[Rules],
               closed: Collection[str]) -> list[Violation]:
    """Every violation of a commit that is no ops commit; ``rules_seen``: the base's rules
    (first) and the commit's own where its config differs; ``closed``: the milestones
    the history closed (a closure merged long ago: text may say so)."""
    folders = tuple({f.rstrip("/").casefold() + "/" for r in rules_seen
                     for f in (r.evidence_dir, r.milestone_dir, VOIDS_DIR, CHECKS_DIR)})
    documents = documents_of(rules_seen)
    open_ones = watched(rules_seen) - set(closed)
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
            if ch.new is not None and ch.new.mode not in REGULAR:
                out.append(Violation(ch.path, "regular-files-only", "a document that is no "
                                     "regular file (a symbolic link shows another file)",
                                     "keep the document a file of its own"))
                continue
            out += _closed_by_hand(ch, rules_seen, open_ones)
            out += _status_kept(ch, rules_seen, open_ones)
            out += _rows_kept(ch, rules_seen)
    return out


def _lines(data: bytes | None) -> list[str]:
    """A document's lines as the Markdown rules number them (`mdblocks.parse`)."""
    body = (data or b"").removeprefix(b"\xef\xbb\xbf")
    return [ln.decode("utf-8", "replace") for ln in body.splitlines()]


def _data(side: Blob | None) -> bytes:
    return (side.data or b"") if side is not None else b""


def claims(data: bytes, rules: Rules, path: str,
           milestones: Collection[str]) -> list[tuple[str, int, int]]:
    """`closed_claims` in a document ``path`` of ``rules`` holds, but those in the
    backlog's tracker: its rows are each a run's, rendered from its record (a run id may
    read "mo-2-closed"; verify holds them to the record), and a row is no status."""
    found = closed_claims(_lines(data), milestones)
    if found and path.casefold() == rules.backlog.casefold():
        from ..md import edit as mdedit  # (a parse only where something reads closed)

        try:
            sec = mdedit.find_section(mdedit.parse(data), rules.tracker_section)
        except (mdedit.MarkdownEditError, ValueError, RecursionError):
            return found
        found = [(mo, a, b) for mo, a, b in found
                 if not sec.body_start <= a <= b < sec.end]
    return found


def _closed_by_hand(ch: Change, rules_seen: Sequence[Rules],
                    open_ones: Collection[str]) -> list[Violation]:
    """The milestones text the change adds says closed (`claims`: each claim that holds a
    line the old side does not)."""
    new = _lines(_data(ch.new))
    left = Counter(_lines(_data(ch.old)))
    added = set()
    for i, text in enumerate(new):
        if left[text] > 0:
            left[text] -= 1
        else:
            added.add(i)
    said = {(mo, a, b) for r in rules_seen
            for mo, a, b in claims(_data(ch.new), r, ch.path, open_ones)
            if any(i in added for i in range(a, b + 1))}
    return [Violation(ch.path, "milestone-closed-by-hand", f"text added here says {mo} "
                      "closed, in a commit that is not its closure: only `evidencebot "
                      "close` closes a milestone (its closure names the runs)", "reword it "
                      f"so it does not read as closed; once the streak holds, `evidencebot "
                      f"close {mo}` closes it", (a + 1, b + 1))
            for mo, a, b in sorted(said)]


def status_rows(data: bytes, section: str, milestones: Collection[str]) -> set[str]:
    """The milestones whose row the first table of ``section`` holds under a Status
    column (read as `close` reads it to set the status)."""
    from ..md import edit as mdedit
    from ..textsafe import skeleton
    from .rules import MO_NAMED

    try:
        table = mdedit.first_table(mdedit.parse(data), section)
        col = table.column("Status")
    except (mdedit.MarkdownEditError, ValueError, RecursionError):
        return set()
    return {f"MO-{n}" for row in table.rows if row and col < len(row)
            for n in MO_NAMED.findall(skeleton(row[0]))} & set(milestones)


def _status_kept(ch: Change, rules_seen: Sequence[Rules],
                 open_ones: Collection[str]) -> list[Violation]:
    """A milestone whose status the table could be read for still can be: a table turned
    around, put in HTML or a row renamed would say "closed" where no line does."""
    out: list[Violation] = []
    for r in rules_seen:
        for name, section in ((r.design, r.milestones_section), (r.backlog, r.status_section)):
            if ch.path.casefold() != name.casefold():
                continue
            old, new = _data(ch.old), _data(ch.new)
            lost = status_rows(old, section, open_ones) - status_rows(new, section, open_ones)
            out += [Violation(ch.path, "milestone-closed-by-hand", f"{mo}'s row in the table "
                              f"of {section!r} no longer reads (a Status column, a row "
                              "named by its id): its status would be read from no row",
                              "keep the table as it was: ID first, a Status column",
                              None, section) for mo in sorted(lost)]
    return out


def _rows_kept(ch: Change, rules_seen: Sequence[Rules]) -> list[Violation]:
    """Every tracker row the backlog had that breaks the streak, it still has (rows may
    be added; a qualifying hand-written row neither counts nor breaks)."""
    from ..evidence.rows import row_breaks, tracker_rows

    for r in rules_seen:
        if ch.path.casefold() != r.backlog.casefold():
            continue
        old, new = _data(ch.old), _data(ch.new)
        try:
            breaking = [Counter(row for row in tracker_rows(data, r.tracker_section)
                                if row_breaks(row[2])) for data in (old, new)]
            gone = sum((breaking[0] - breaking[1]).values())
        except (ValueError, RecursionError, IndexError):
            gone = 1  # (a tracker the rules cannot read: as none kept)
        if gone:
            return [Violation(ch.path, "tracker-append-only", f"{gone} tracker row(s) that "
                              "break the streak changed or removed by a commit that is no "
                              "ops commit: the streak reads every row", "restore them; a "
                              "recorded run is put right with `evidencebot void`", None,
                              r.tracker_section)]
    return []
