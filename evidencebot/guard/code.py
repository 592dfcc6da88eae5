"""A code change: a range that holds no ops commit, merged into the base by a merge
request of its own, whatever its branch is named (the CI job runs on every merge
request). It is judged by what its merge does to the base (the base's tip against the
tree git's merge writes: `ledger.codechange`), for what only ops commits may do:

- write under the evidence folders (records, logs, voids, refused checks, closures:
  `evidence-in-code`);
- make a document say a milestone closed while the history holds no closure of it
  (`closed_claims`: a status cell, a note, a session-log entry, however it is spelt or
  split over lines: `milestone-closed-by-hand`), or set a milestone's status cell to a
  word other than one of work not done, or leave it unreadable (a table turned around,
  put in HTML, a row renamed: `status-kept`), or write a word of work done (or a count
  that meets its streak, "3/3") in any cell of a row that names it, in any table of the
  status sections (`status-kept`);
- take a tracker row that breaks the streak away, or change it (`breaking-row-kept`), or
  change the tracker's streak line (`streak-line-kept`: only the history says it);
- add raw HTML or character references to a document (`html-in-document`: a page would
  show what the text does not say), or make one anything but a regular file (a symbolic
  link shows another file: `regular-files-only`).

The folders and documents are those the base's config names and those the tip's config
names (a config that points a document at another file is judged by that file against
the base's); the milestones watched are the runbook's own and every one with a rule in
either. The rest is the code review's."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

from ..defaults import CHECKS_DIR, MILESTONE, VOIDS_DIR
from .prose import (
    CLOSED_WORD,
    MO_NAMED,
    READ_AS_OPEN,
    closed_claims,
    milestones_named,
    mixed_words,
)
from .rules import EVIDENCE_ROOT, Rules, Violation, hidden_violation

REGULAR = ("100644", "100755")
ROLES = ("design", "backlog", "session_log")


class Document(NamedTuple):
    """One of the three documents, as the change leaves it: ``old``, the base's (its name
    under the base's config, at the base's tip); ``new`` and ``mode`` in the merge's tree,
    under ``path`` ("" mode: no file there)."""

    role: str
    path: str
    old: bytes
    new: bytes
    mode: str


def watched(rules_seen: Iterable[Rules]) -> frozenset[str]:
    """The milestones whose closure only a closure commit may claim."""
    return frozenset({MILESTONE, *(mo for r in rules_seen for mo in r.milestones)})


def evidence_folders(rules_seen: Iterable[Rules]) -> tuple[str, ...]:
    """The folders only ops commits write, as paths compare on a disk that ignores case:
    reports/evidence/ whole (a closure's description copied beside its folder reads as
    one), and the folders the configs put elsewhere."""
    return tuple(sorted({f.rstrip("/").casefold() + "/" for r in rules_seen
                         for f in (EVIDENCE_ROOT, r.evidence_dir, r.milestone_dir, VOIDS_DIR,
                                   CHECKS_DIR)}))


def judge_code(paths: Iterable[str], documents: Sequence[Document], rules_seen: Sequence[Rules],
               closed: Collection[str]) -> list[Violation]:
    """Every violation of a code change: ``paths``, what it changed; ``documents``, the
    three documents' before and after; ``rules_seen``, the base's rules and the tip's;
    ``closed``, the milestones the history closed (text may say so)."""
    from ..textsafe import skeleton  # (a path as a reader takes it: reports/evіdence/,
    #                                     a Cyrillic і, is the evidence folder)
    folders = evidence_folders(rules_seen)
    out = [Violation(p, "evidence-in-code", "a change that is no ops commit writes under "
                     "the evidence folders", "evidence is written by evidencebot's ops "
                     "commits (record, void, close) on the ops branch: take it out of this "
                     "change (a squashed merge of the ops branch drops their trailers: "
                     "merge it with a merge commit)")
           for p in sorted(set(paths)) if p.casefold().startswith(folders)
           or (not p.isascii() and skeleton(p).startswith(tuple(map(skeleton, folders))))]
    open_ones = watched(rules_seen) - set(closed)
    for doc in documents:
        if doc.old == doc.new:
            continue
        if doc.mode not in ("", *REGULAR):
            out.append(Violation(doc.path, "regular-files-only", "a document that is no "
                                 "regular file (a symbolic link shows another file)",
                                 "keep the document a file of its own"))
            continue
        out += _markup(doc)
        out += _hidden(doc)
        out += _look_alikes(doc)
        out += _claims(doc, rules_seen, open_ones)
        out += _status_kept(doc, rules_seen, open_ones)
        out += _rows_kept(doc, rules_seen)
        out += _streak_line_kept(doc, rules_seen)
    return out


def lines_of(data: bytes) -> list[str]:
    """A document's lines as the Markdown rules number them (`mdblocks.parse`)."""
    from ..md.blocks import parse

    doc = parse(data)
    return [doc.line_text(i) for i in range(len(doc.lines))]


def _new_of(old: Iterable[str], new: Sequence[str]) -> list[int]:
    """The indices of ``new`` that ``old`` does not hold (as many times)."""
    left = Counter(old)
    out = []
    for i, text in enumerate(new):
        if left[text] > 0:
            left[text] -= 1
        else:
            out.append(i)
    return out


def _markup(doc: Document) -> list[Violation]:
    from ..textsafe import markup
    from .rules import markup_violation

    new = lines_of(doc.new)
    marked = [markup(t) for t in new]
    if any(marked):  # (in a fenced or indented code block HTML shows as written: "<run-id>")
        from ..md import blocks as mdblocks

        code = {i for b in mdblocks.blocks(mdblocks.parse(doc.new))
                if b.kind in ("fence", "code_block") for i in range(b.start, b.end)}
        marked = [None if i in code else m for i, m in enumerate(marked)]
    found = _new_of((t for t in lines_of(doc.old) if markup(t)),
                    [t if m else "" for t, m in zip(new, marked, strict=True)])
    return [markup_violation(doc.path, tag, (i + 1, i + 1))
            for i in found if (tag := marked[i])][:1]


def _hidden(doc: Document) -> list[Violation]:
    """The first new line with a character no reader sees (a bidi override shows "DESOLC"
    as CLOSED: an adversary's, in a code change), as the ops commits' rule says it."""
    from ..textsafe import has_unsafe

    new = lines_of(doc.new)
    return [hidden_violation(doc.path, bad, i) for i in _new_of(lines_of(doc.old), new)
            if (bad := has_unsafe(new[i]))][:1]


def _look_alikes(doc: Document) -> list[Violation]:
    """New text that names a milestone, or says closed or work done, with a word mixing
    Latin letters and other scripts' letters or symbols (`prose.mixed_words`): the first."""
    def says(plain: str) -> bool:
        return CLOSED_WORD.search(plain) is not None or MO_NAMED.search(plain) is not None \
            or says_done(plain, _DONE_ANYWHERE)

    before = {w for w, _a, _b in mixed_words(lines_of(doc.old), says)}
    return [Violation(doc.path, "look-alike-characters", f"the word {word!r}, in text that "
                      "names a milestone or says closed or work done, mixes Latin letters "
                      "with another script's letters or symbols: a reader may take it for a "
                      "milestone's name or a word of work done", "write it in plain "
                      "letters (or put a space between a symbol and a word)", (a + 1, b + 1))
            for word, a, b in mixed_words(lines_of(doc.new), says) if word not in before][:1]


def claims(data: bytes, role: str, rules: Rules,
           milestones: Collection[str]) -> list[tuple[str, int, int]]:
    """`closed_claims` of a document but those in the rows of the backlog's tracker
    table: each is a run's, rendered from its record (a run id may read "mo-2-closed",
    verify holds it to the record), and a row is no status."""
    found = closed_claims(lines_of(data), milestones)
    if found and role == "backlog":
        from ..md import edit as mdedit  # (a parse only where something reads closed)

        try:
            doc = mdedit.parse(data)
            table = mdedit.tables(doc, mdedit.find_section(doc, rules.tracker_section))[0]
        except (mdedit.MarkdownEditError, ValueError, RecursionError, IndexError):
            return found
        rows = range(table.first_row, table.end)
        found = [(mo, a, b) for mo, a, b in found if not (a == b and a in rows)]
    return found


def _claims(doc: Document, rules_seen: Sequence[Rules],
            open_ones: Collection[str]) -> list[Violation]:
    """The claims the new side makes that the old side does not (compared as text a
    reader takes, so that lines moved or joined are no way round)."""
    from ..textsafe import skeleton

    def keyed(data: bytes, r: Rules) -> dict[tuple[str, str], tuple[int, int]]:
        lines = lines_of(data)
        return {(mo, skeleton(" ".join(lines[a:b + 1]))): (a, b)
                for mo, a, b in claims(data, doc.role, r, open_ones)}

    out: dict[tuple[str, str], Violation] = {}
    for r in rules_seen:
        before, after = keyed(doc.old, r), keyed(doc.new, r)
        for (mo, said), (a, b) in after.items():
            if (mo, said) not in before and (mo, said) not in out:
                out[(mo, said)] = Violation(
                    doc.path, "milestone-closed-by-hand", f"it says {mo} closed, in a change "
                    "that is not its closure: only `evidencebot close` closes a milestone "
                    "(its closure names the runs)", "reword it so it does not read as "
                    f"closed ({READ_AS_OPEN}); once the streak holds, `evidencebot close "
                    f"{mo}` closes it",
                    (a + 1, b + 1))
    return list(out.values())


def _tables(data: bytes, section: str) -> list[Any]:
    """Every table of ``section`` (`status_cells` and `done_cells` read them); none where
    the section cannot be read (`status_cells` then finds the row gone)."""
    from ..md import edit as mdedit

    doc = mdedit.parse(data)
    try:
        return list(mdedit.tables(doc, mdedit.find_section(doc, section)))
    except (mdedit.MarkdownEditError, ValueError, RecursionError):
        return []


def status_cells(data: bytes, section: str, milestones: Collection[str]) -> dict[str, str]:
    """Each milestone's status as the tables of ``section`` say it (rows named by its id,
    under a Status column; every table, so that a decoy put first hides no other), read
    through `textsafe.skeleton`."""
    from ..md import edit as mdedit
    from ..textsafe import skeleton

    found: dict[str, list[str]] = {}
    for table in _tables(data, section):
        try:
            col = table.column("Status")
        except mdedit.MarkdownEditError:
            continue
        for row in table.rows:
            for mo in milestones_named(skeleton(row[0]), milestones) if row else ():
                found.setdefault(mo, []).append(skeleton(row[col]) if col < len(row) else "")
    return {mo: " | ".join(cells) for mo, cells in found.items()}


# The statuses a code change may give an open milestone (each of its status cells, as
# `textsafe.skeleton` reads them, "-" and "_" as spaces): a word of work not done first,
# then any detail that holds no word of work done ("IN PROGRESS (2/3)", "BLOCKED: IB
# gateway"). "DONE ✅", "complete", "met" are the closure's to write.
_NOT_DONE = (r"(?:open|in ?progress|not (?:yet )?(?:started|done)|started|planned|blocked|"
             r"on hold|paused|pending|to ?do|wip|active|ongoing|at risk|re ?opened|"
             r"in review|under review|doing|underway|running|on track|delayed|deferred|"
             r"waiting|scheduled|proposed|stalled|new|backlog|incomplete|failing)")
_TICKS = "\u2705\u2714\u2611\u2713"
# (words, from their start: "already" is not "ready", nor "password" "pass")
_DONE = re.compile(r"\b(?:clos|done|complet|met\b|pass(?:ed|es)?\b|finish|achiev|deliver|"
                   rf"resolv|ready\b|live\b)|[{_TICKS}]")
# what says work done in any cell of an open milestone's row (`done_cells`): the plain
# words only ("live order", "resolved" of another item's state are no status)
_DONE_ANYWHERE = re.compile(r"\b(?:closed|done|complete[ds]?|met|finished|achieved|"
                            rf"signed off)\b|[{_TICKS}]|\[x\]")
_NUMBER = r"[0-9]{1,9}|one|two|three|four|five|six|seven|eight|nine|ten"
_COUNT = re.compile(rf"(?<![0-9.])\b({_NUMBER})[ -]?(?:/|of|out of)[ -]?({_NUMBER})\b"
                    r"(?![.,][0-9])")  # ("3-of-3": round 42)
_WORDS = {w: n for n, w in enumerate(_NUMBER.split("|")[1:], start=1)}
STILL_OPEN = re.compile(rf"{_NOT_DONE}\b(?P<detail>.*)")


def says_done(text: str, words: re.Pattern[str] = _DONE) -> bool:
    """Whether ``text`` (as `textsafe.skeleton` gives it) holds a word of work done
    (``words``), or a count that is all of what it counts toward, as a streak's is ("3/3
    qualifying runs", "three of three"; a day and a month, "27/11", "1/1", or "0.80 of 1"
    are no streak: found by an adversary as honest notes refused)."""
    def number(said: str) -> int:
        return _WORDS.get(said) or int(said)

    return words.search(text) is not None or any(
        number(a) == number(b) and 2 <= number(b) <= 9 for a, b in _COUNT.findall(text))


def still_open(status: str) -> bool:
    """Whether each status cell of ``status`` (`status_cells`' reading, cells joined by
    " | ") reads as work not done."""
    for cell in status.split(" | "):
        said = STILL_OPEN.fullmatch(" ".join(cell.replace("_", " ").replace("-", " ")
                                             .strip(" *`").split()))
        if said is None or says_done(said.group("detail")):
            return False
    return True


def done_cells(data: bytes, section: str,
               milestones: Collection[str]) -> Counter[tuple[str, str]]:
    """The cells that say work done (`says_done`) in the rows that name a milestone of
    ``milestones`` in any cell, in every table of ``section``, whatever its columns are
    called ("**Status**", "State", a "#" column first), as `textsafe.skeleton` reads them
    (as (milestone, cell) pairs). A table of ``section`` that cannot be read gives none:
    `status_cells` finds the row gone."""
    from ..textsafe import skeleton

    out: Counter[tuple[str, str]] = Counter()
    for table in _tables(data, section):
        for row in table.rows:
            cells = [skeleton(c) for c in row]
            for mo in milestones_named(" | ".join(cells), milestones):
                out.update((mo, c) for c in cells if says_done(c, _DONE_ANYWHERE))
    return out


def _status_kept(doc: Document, rules_seen: Sequence[Rules],
                 open_ones: Collection[str]) -> list[Violation]:
    """A milestone's status a code change may move between words of work not done
    (`STILL_OPEN`: OPEN to IN PROGRESS), never to another, and its row stays readable; and
    no row that names it comes to say work done (`done_cells`)."""
    out: list[Violation] = []
    fix = ("a code change may set an open milestone's status to a word of work not done "
           "(OPEN, IN PROGRESS, BLOCKED …); that it is done is its closure's to write")
    for r in rules_seen:
        section = {"design": r.milestones_section, "backlog": r.status_section}.get(doc.role)
        if section is None:
            continue
        before = status_cells(doc.old, section, open_ones)
        after = status_cells(doc.new, section, open_ones)
        moved = [mo for mo in sorted(before) if after.get(mo) != before[mo]
                 and not (mo in after and still_open(after[mo]))]
        out += [Violation(doc.path, "status-kept", f"{mo}'s status in the table of "
                          f"{section!r} " + (f"changed to {after[mo]!r}" if mo in after
                                             else "no longer reads (a row named by its id, "
                                             "under a Status column)"), fix, None, section)
                for mo in moved]
        added = done_cells(doc.new, section, open_ones) - done_cells(doc.old, section,
                                                                     open_ones)
        out += [Violation(doc.path, "status-kept", f"a row naming {mo} in the tables of "
                          f"{section!r} now says {cell!r}: work done", fix, None, section)
                for mo, cell in sorted(added) if mo not in moved]
    return list(dict.fromkeys(out))


def _streak_line_kept(doc: Document, rules_seen: Sequence[Rules]) -> list[Violation]:
    """The tracker's streak lines stay as they were: only ops commits write them, from
    the history (`ledger.rederive.check_streak_line`)."""
    from ..evidence.rows import streak_lines

    if doc.role != "backlog":
        return []
    for r in rules_seen:
        if streak_lines(doc.new, r.tracker_section) != streak_lines(doc.old, r.tracker_section) \
                or _counts_added(doc, r.tracker_section):
            return [Violation(doc.path, "streak-line-kept", "the tracker's streak line changed in "
                              "a change that is no ops commit, or a line beside it says a "
                              "count that meets a streak: only the streak line says what the "
                              "history holds", "restore it; `record` and `void` write it",
                              None, r.tracker_section)]
    return []


def _counts_added(doc: Document, section: str) -> bool:
    """Whether the change adds a line to the tracker's section, outside its tables, that
    says work done or a count meeting a streak ("Qualifying runs in a row (desk count): 3
    of 3", "Desk count: streak met": found by adversaries beside the streak line)."""
    from ..md import edit as mdedit
    from ..md import lines as mdlines
    from ..textsafe import skeleton

    def said(data: bytes) -> Counter[str]:
        try:
            lines = mdlines.lines_matching(data, section, _ANY)
        except (mdedit.MarkdownEditError, ValueError):
            return Counter()
        return Counter(t for t in map(skeleton, lines) if not t.startswith("|") and
                       says_done(t, _DONE_ANYWHERE))

    return bool(said(doc.new) - said(doc.old))


_ANY = re.compile(r"\S")


def _rows_kept(doc: Document, rules_seen: Sequence[Rules]) -> list[Violation]:
    """Every tracker row the backlog had that breaks the streak, it still has (rows may
    be added; a qualifying hand-written row neither counts nor breaks)."""
    from ..evidence.rows import row_breaks, tracker_rows

    if doc.role != "backlog":
        return []
    for r in rules_seen:
        try:
            breaking = [Counter(row for row in tracker_rows(data, r.tracker_section)
                                if row_breaks(row[2])) for data in (doc.old, doc.new)]
            gone = bool(breaking[0] - breaking[1])
        except (ValueError, RecursionError, IndexError):
            gone = True  # (a tracker the rules cannot read: as none kept)
        if gone:
            return [Violation(doc.path, "breaking-row-kept", "tracker rows that break the "
                              "streak changed or removed by a change that is no ops "
                              "commit: the streak reads every row", "restore them",
                              None, r.tracker_section)]
    return []
