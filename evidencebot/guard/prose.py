"""What text says of a milestone: which milestones a line names, whether it says one
closed (`closed_said`), where in a document text does (`closed_claims`, over each text a
reader takes as one), and whether a cell reads closed (`says_closed`). Read through
`textsafe.skeleton`; stdlib only (the hook reads it)."""

# No `from __future__ import annotations`: see rules.py (NamedTuple fields).

import re
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Union

from ..defaults import MILESTONE_NAMED

if TYPE_CHECKING:
    from .rules import Rules


# (searched in `textsafe.skeleton` text; an l a font draws as I or 1 or |, and an o as 0,
# read as themselves)
CLOSED_WORD = re.compile(r"\bc[li1|][o0]sed\b")
MO_NAMED = re.compile(MILESTONE_NAMED)


def milestones_named(plain: str, rules: Union["Rules", Collection[str]]) -> list[str]:
    """The milestones with a rule (or of a collection) that ``plain`` (text as
    `textsafe.skeleton` gives it) names."""
    known: Collection[str] = rules if not hasattr(rules, "milestones") else rules.milestones
    return sorted({f"MO-{n}" for n in MO_NAMED.findall(plain)} & set(known))


def closed_said(plain: str, rules: Union["Rules", Collection[str]]) -> list[str]:
    """The milestones with a rule that a line says closed (``plain``: the line as
    `textsafe.skeleton` gives it): each one it names, when it says "closed" other than
    right after a "not", a "never", a "not been", a "neither" or a "be" ("MO-2 is not
    closed yet", "it has not been closed", "it will be closed once the streak holds":
    found by adversaries as honest notes refused; "has been closed" says it closed). Not
    after a word of marking ("do not mark MO-2 closed again: it already is" says it
    closed), nor beside another thing that closes ("MO-2 and its ticket are closed" says
    it too: "the market closed" beside MO-2 is reworded; found by adversaries)."""
    said = any(not _NOT_SAID.search(plain, 0, m.start()) for m in CLOSED_WORD.finditer(plain))
    return milestones_named(plain, rules) if said else []


_NOT_SAID = re.compile(r"(?:(?:\bnot|n['\u2019]t|\bnever)(?: yet)?(?: been)?|\bbe(?: yet)?|"
                       r"\bneither) ?$")  # ("has not been closed": round 41)
# What the fix of a "said closed" finding offers instead: wordings read as not closed
READ_AS_OPEN = ('"MO-2 is not closed yet", "MO-2 will be closed" and "MO-2 closes once the '
                'streak holds" read as open')


_DELIMITER_ROW = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BLOCK_START = re.compile(r"^ {0,3}(#{1,6}(\s|$)|[-*+]\s|[0-9]{1,9}[.)]\s|>)")  # (">": 47)


def _segments(lines: Sequence[str]) -> list[tuple[int, int]]:
    """The runs of lines a reader takes as one text, as [first, last) pairs: a paragraph
    (its lines joined, as Markdown joins them), each row of a pipe table, each list item
    with its continuation lines, each heading, and each heading with the block after it
    ("### MO-2", a blank line, "**CLOSED**" reads as one)."""
    out: list[tuple[int, int]] = []
    n, i = len(lines), 0
    while i < n:
        if not lines[i].strip(" \t"):  # (a blank line to Markdown: spaces and tabs only)
            i += 1
            continue
        j = i
        while j < n and lines[j].strip(" \t"):
            j += 1
        if any(_DELIMITER_ROW.match(lines[k]) and "|" in lines[k - 1]
               for k in range(i + 1, j)):
            out += [(k, k + 1) for k in range(i, j)]  # a table: each row alone
        else:
            start = i
            for k in range(i + 1, j + 1):
                if k < j and _SETEXT.match(lines[k]):  # (a heading's underline ends it)
                    out.append((start, k + 1))
                    start = k + 1
                elif k == j or _BLOCK_START.match(lines[k]):
                    if start < k:
                        out.append((start, k))
                    start = k
        i = j
    # a heading with a short block under it that says closed, as a status reads ("### MO-2",
    # "**CLOSED**"); a sentence under a heading is its own (honest text: "the LSE is
    # closed"), and so is a heading that says it ("## W-8 closed", "- Milestone: MO-2")
    heads = [(a, b) for a, b in out if (b - a == 1 and lines[a].lstrip(" ").startswith("#"))
             or (b - a > 1 and _SETEXT.match(lines[b - 1]))]
    for a, b in heads:
        c, d = next(((c, d) for c, d in out if c >= b), (b, b))
        if d - c == 1 and len(lines[c].split()) <= _STATUS_WORDS and says_closed(lines[c]):
            out.append((a, d))
    return out


_STATUS_WORDS = 3  # the most words a block under a heading has that reads as its status


def closed_claims(lines: Sequence[str], watched: Collection[str]) -> list[tuple[str, int, int]]:
    """Where text says a milestone of ``watched`` closed, as (milestone, first line, last
    line), 0-based, over each text a reader takes as one (`_segments`), read through
    `textsafe.skeleton`."""
    from ..textsafe import skeleton

    shown = as_written(lines)
    return [(mo, a, b - 1) for a, b in _segments(lines)
            for mo in sorted({m for said in _sentences(skeleton(" ".join(shown[a:b])))
                              for m in closed_said(said, watched)})]


def as_written(lines: Sequence[str]) -> list[str]:
    """``lines``, those of a code block (`md.blocks.code_lines`: fenced or indented, in a
    list or not, as CommonMark parses them) made inert (`textsafe.inert`): a page shows
    them as written, tildes and all (adversaries 46, 47: "run~1 MO-2 is CLOSED~ok" in a
    code block read as struck out; a list's second paragraph read as code)."""
    if not any("~" in line or "<" in line or "&" in line for line in lines):
        return list(lines)  # (only tildes, comments and references hide: nothing to keep)
    from ..md.blocks import code_lines
    from ..textsafe import inert

    code = code_lines(lines)
    return [inert(line) if k in code else line for k, line in enumerate(lines)]


def _sentences(text: str) -> list[str]:
    """``text`` in its sentences: a paragraph naming MO-2 in one sentence and saying in
    another that the market closed early says no closure (found by a newcomer). A sentence
    is read with the one before it when it is short (three words or fewer: "Closed.") or
    points back at it ("This milestone is now closed.", "It closed on runs 4-6.", "The
    burn-in streak is closed."): my own adversary try of the split."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        if out and (len(part.split()) <= _STATUS_WORDS or _POINTS_BACK.search(part)):
            out[-1] += " " + part
        else:
            out.append(part)
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_POINTS_BACK = re.compile(r"\b(?:it|its|this|that|these|they|milestone|burn ?-?in|streak|"
                          r"gate|step ?1a)\b")


def says_closed(text: str) -> bool:
    """Whether text reads as saying a milestone closed (as `close` writes a Note: "closed
    on <date> by runs ..."), as a reader takes it (`textsafe.skeleton`: case, width,
    look-alike letters, Markdown's marks aside)."""
    from ..textsafe import skeleton

    return CLOSED_WORD.search(skeleton(text)) is not None


def mixed_words(lines: Sequence[str], says: Callable[[str], bool]) -> list[tuple[str, int, int]]:
    """The words that mix Latin letters with a letter of another script or a symbol
    ("Ⲙo-2", "M▢-2", "CL⊙SED"), in each text a reader takes as one (`_segments`) that
    ``says`` something (closed, work done) once read through `textsafe.skeleton`: as
    (word, first line, last line), 0-based. A look-alike no table lists is read as
    what it looks like (found by an adversary, one letter after another: a Greek san,
    a ring, negative squared letters)."""
    from ..textsafe import skeleton

    out, shown = [], as_written(lines)
    for a, b in _segments(lines):
        plain = skeleton(" ".join(shown[a:b]))
        if plain.isascii() or not says(plain):
            continue
        word = next((w for w in plain.split() if _mixed(w)), None)
        if word is not None:
            out.append((word, a, b - 1))
    return out


def _mixed(word: str) -> bool:
    """Whether ``word`` (skeleton text) holds a letter of another script or a symbol that
    stands where a letter would make it a milestone's name or a word of closure ("Ⲙo-2",
    "CL⊙SED"): not one beside a word that says it already ("⚠MO-2", "→MO-3"), nor one
    that makes no such word whatever letter it stood for ("kσ", "2×speed", "≥0.80":
    engineering text an adversary found refused)."""
    import unicodedata
    from itertools import product

    if word.isascii() or not any("a" <= ch <= "z" for ch in word):
        return False
    foreign = [i for i, ch in enumerate(word) if not ch.isascii() and ch not in _FOREIGN_ALLOWED
               and (unicodedata.category(ch) in ("So", "Sm") or (
                   unicodedata.category(ch)[0] == "L" and
                   not unicodedata.name(ch, "").startswith("LATIN")))]
    if not foreign:
        return False
    if len(foreign) > 2:  # (a word of another language, whose look-alikes the skeleton
        # made Latin: "ошибкой"; several symbols in one word are a disguise)
        return not all(unicodedata.category(word[i])[0] == "L" for i in foreign)
    if _TARGET.search("".join(ch for i, ch in enumerate(word) if i not in foreign)):
        return False  # (said without them)
    chars = list(word)
    for letters in product(_STANDS_FOR, repeat=len(foreign)):
        for i, letter in zip(foreign, letters, strict=True):
            chars[i] = letter
        if _TARGET.search("".join(chars)):
            return True
    return False


# What a disguised letter would make of a word: a milestone's name, or a word of closure
_TARGET = re.compile(r"\bm[o0][-._/:]?[0-9]|c[l1i|][o0]sed|\bdone\b|complet|\bmet\b|finish|"
                     r"achiev")
_STANDS_FOR = "abcdefghijklmnopqrstuvwxyz0123456789"
_FOREIGN_ALLOWED = "\u00b0\u03bc"  # (degrees, and the micro sign as NFKC reads it: "25°c", "5μs")
