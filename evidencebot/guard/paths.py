"""Path rules: which files an ops commit may add, change or delete, and in which form
(regular files only, no mode changes, no git metadata, evidence immutable). Pure."""

# No `from __future__ import annotations`: see rules.py.

from collections.abc import Iterable, Iterator, Sequence

from ..defaults import windows_problem
from .rules import (
    ALWAYS_FORBIDDEN,
    EVIDENCE_ROOT,
    GIT_METADATA,
    REGULAR,
    Blob,
    Change,
    Rules,
    Violation,
    glob_match,
    matcher,
)


def path_rules(ch: Change, rules: Rules) -> list[Violation]:
    out: list[Violation] = []
    sides = [s for s in (ch.old, ch.new) if s is not None]
    if len(sides) == 2 and sides[0].path == sides[1].path and sides[0].mode == sides[1].mode:
        sides = sides[1:]  # one path, one verdict
    for side in sides:
        p = side.path
        name = p.rsplit("/", 1)[-1]
        if name in GIT_METADATA:
            out.append(Violation(p, "no-git-metadata",
                                 f"{name} changes what reviewers and git see",
                                 f"remove {p} from the ops commit"))
            continue
        if side.mode == "120000":
            out.append(Violation(p, "regular-files-only", "a symlink",
                                 "commit evidence as a regular file"))
        elif side.mode == "160000":
            out.append(Violation(p, "regular-files-only", "a submodule (gitlink)",
                                 "evidence is regular files; remove the submodule"))
        if not _allowed(p, rules):
            out.append(Violation(p, "path-not-allowed", _why_forbidden(p, rules),
                                 f"undo the change to {p}; code and config changes belong in "
                                 "a BUILD session on another branch"))
        elif _case_variant(p):
            # On Windows and macOS checkouts `reports/Evidence/x.json` IS the record.
            out.append(Violation(p, "case-variant", "a case variant of "
                                 f"{EVIDENCE_ROOT} (the same folder on a case-insensitive disk)",
                                 f"write evidence under {EVIDENCE_ROOT} exactly"))
    if ch.old and ch.new and ch.old.mode != ch.new.mode and not out:
        out.append(Violation(ch.path, "no-mode-change",
                             f"mode {ch.old.mode} → {ch.new.mode}",
                             f"git update-index --chmod=-x {ch.path} (keep the old mode)"))
    elif ch.old is None and ch.new and ch.new.mode not in (REGULAR, "120000", "160000"):
        out.append(Violation(ch.path, "no-mode-change", f"new file with mode {ch.new.mode}",
                             f"git update-index --chmod=-x {ch.path}"))
    documents = rules.documents
    if out:
        return out
    if ch.old is not None and ch.old.path not in documents:
        what = "deleted" if ch.new is None else "rewritten"
        out.append(Violation(ch.old.path, "evidence-immutable",
                             f"committed evidence was {what} (records, logs, handoff packets, "
                             "check records and descriptions are append-only)",
                             "restore it; record a new run instead of editing an old one"))
    elif ch.old is not None and ch.new is None:
        out.append(Violation(ch.old.path, "no-deletion", "a tracked document was deleted",
                             f"git restore --staged --worktree {ch.old.path}"))
    elif ch.old is None and ch.new is not None and ch.new.path not in documents:
        out += name_rules(ch.new.path, rules)
        if is_page(ch.new.path, rules):
            out += page_rules(ch.new)
    return out


def name_rules(path: str, rules: Rules) -> list[Violation]:
    """A new evidence file is data a reviewer can open anywhere: an evidence extension, no
    dotfile, a name Windows can hold."""
    out: list[Violation] = []
    parts = path.split("/")
    ext = "." + parts[-1].rsplit(".", 1)[-1].lower() if "." in parts[-1] else ""
    if ext not in rules.evidence_extensions and not is_page(path, rules):
        out.append(Violation(path, "evidence-data-only",
                             f"{ext or 'no extension'}: evidence is data "
                             f"({', '.join(rules.evidence_extensions)}), never code",
                             "commit the evidence as one of those file kinds"))
    for part in parts:
        why = windows_problem(part)
        if part.startswith("."):
            out.append(Violation(path, "no-dotfiles", f"{part!r} is a dotfile or dot-folder",
                                 "name evidence files without a leading dot"))
        elif why:
            out.append(Violation(path, "portable-names", f"{part!r}: {why}",
                                 "use letters, digits, '.', '_' and '-' in evidence names"))
        elif not part.isascii():
            out.append(Violation(path, "portable-names", f"{part!r}: {_not_ascii(part)}",
                                 "use letters, digits, '.', '_' and '-' in evidence names"))
    return out


def _not_ascii(part: str) -> str:
    """Why a name that is not ASCII is none for evidence (evidencebot writes ASCII names
    only): a format character no reader sees (zero-width, bidi: `textsafe.has_unsafe`),
    or a letter that may look like another (reports/evіdence, a Cyrillic і, reads as the
    evidence folder in a merge request's file list)."""
    from ..textsafe import has_unsafe

    hidden = has_unsafe(part)
    if hidden:
        return f"holds {hidden}, a format character no reader sees (zero-width, bidi)"
    return "not ASCII: a letter in it may look like another (a Cyrillic і, a Greek ο)"


def is_page(path: str, rules: Rules) -> bool:
    """The one HTML file evidence may hold (trust rule 9): a closure's report page,
    <milestone_dir>/MO-n.html."""
    folder = rules.milestone_dir.rstrip("/") + "/"
    name = path[len(folder):] if path.startswith(folder) else ""
    return name.startswith("MO-") and name.endswith(".html") and name[3:-5].isdigit() \
        and name[3:-5].isascii()


# What `close` renders (milestone/page.py) and nothing else: its tags, its attributes,
# links to records (relative, or http(s) under a configured prefix), the inline icon.
_PAGE_TAGS = frozenset({
    "html", "head", "meta", "link", "title", "style", "body", "h1", "h2", "p", "code",
    "figure", "svg", "g", "circle", "path", "line", "text", "table", "thead", "tbody", "tr",
    "th", "td", "a"})
_PAGE_ATTRS = frozenset({
    "lang", "charset", "name", "content", "rel", "href", "class", "id", "role", "viewbox",
    "cx", "cy", "r", "d", "x", "y", "x1", "x2", "y1", "y2", "transform", "text-anchor"})
# Anything that runs or loads, wherever it stands: a script, a frame, an object. Event
# handlers and javascript: links are also looked for in every tag as far as its first
# ">" (a tokenizer that ends a tag otherwise than a browser cannot hide them from both).
_ACTIVE = (b"<script", b"<iframe", b"<object", b"<embed")


def page_rules(page: Blob) -> list[Violation]:
    """The report page holds only what `close` renders: never a script."""
    import re

    data = (page.data or b"").lower()
    tags = re.findall(rb"<[a-z][^>]*>", data)  # as far as the first ">", quotes or not
    found = page.data is None or any(a in data for a in _ACTIVE) or any(
        b"javascript:" in t or re.search(rb"[\s/\"'`]on[a-z]+\s*=", t) for t in tags) \
        or _page_problem(page.data or b"")
    if found:
        return [Violation(page.path, "page-no-script", "the report page holds a script, an "
                          "event handler, a frame, a form, an external load or a tag `close` "
                          "does not write", "let `evidencebot close` write the page")]
    return []


def _page_problem(data: bytes) -> bool:
    """Whether the page holds a tag, attribute, link or style `close` never writes."""
    from html.parser import HTMLParser

    problems: list[str] = []

    class Reader(HTMLParser):
        in_style = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.in_style = tag == "style"
            pairs = [(k, v or "") for k, v in attrs]  # every one: a browser takes the first
            if tag not in _PAGE_TAGS or any(not _page_attr(k) for k, _v in pairs):
                problems.append(tag)
            elif tag == "link" and sorted(pairs) != [("href", "data:,"), ("rel", "icon")]:
                problems.append(tag)
            elif tag != "link" and any(k == "href" and not _page_href(v) for k, v in pairs):
                problems.append(tag)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.handle_starttag(tag, attrs)
            self.in_style = False

        def handle_endtag(self, tag: str) -> None:
            self.in_style = False

        def handle_data(self, text: str) -> None:
            low = text.lower()
            if self.in_style and any(w in low for w in ("url(", "@import", "expression(", "\\")):
                problems.append("style")

        def handle_decl(self, decl: str) -> None:
            if decl.lower() != "doctype html":
                problems.append(decl)

        def handle_pi(self, data: str) -> None:
            problems.append(data)

        def unknown_decl(self, data: str) -> None:
            problems.append(data)

    reader = Reader(convert_charrefs=True)
    reader.feed(data.decode("utf-8", "replace"))
    reader.close()
    return bool(problems)


def _page_attr(name: str) -> bool:
    return name in _PAGE_ATTRS or (name.startswith(("data-", "aria-")) and name[5:].isalnum())


def _page_href(value: str) -> bool:
    """A link to a record: relative, or http(s) (what a configured link prefix makes)."""
    bare = "".join(c for c in value if c > " ").lower()  # as a browser reads the scheme
    scheme, colon, _rest = bare.partition(":")
    return not colon or "/" in scheme or "?" in scheme or "#" in scheme \
        or scheme in ("http", "https")


def fold(text: str) -> str:
    """``text`` as a disk that ignores case compares names: case folded (Windows, macOS)
    and decomposed (macOS: an accented letter written as one character or as a letter
    and a combining accent is one name) — Unicode's caseless matching."""
    if text.isascii():
        return text.casefold()
    import unicodedata

    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())


class Names:
    """Paths that exist, joined by NULs into one text (no path holds a NUL): a folder of
    1,000 records is then one string, not 1,000, and a new name is looked for in it by
    one search."""

    __slots__ = ("joined", "_ends", "_folded", "_aligned")

    def __init__(self, joined: str = "") -> None:
        self.joined = joined  # "": no path
        self._ends: str | None = None  # "\0" + joined + "\0" (`_ended`)
        self._folded: str | None = None  # its case fold
        self._aligned = False  # whether each folded character is where it was (ASCII)

    @classmethod
    def of(cls, paths: Iterable[str]) -> "Names":
        # A path holding a NUL is in no tree, and equals no new path ignoring case.
        return cls("\x00".join(p for p in paths if "\x00" not in p))

    def __iter__(self) -> Iterator[str]:
        return iter(self.joined.split("\x00") if self.joined else ())

    def has(self, path: str) -> bool:
        """Whether ``path`` exists, as spelled."""
        return bool(self.joined) and "\x00" not in path and \
            "\x00" + path + "\x00" in self._ended()

    def twin(self, folded: str) -> str | None:
        """The first path whose `fold` is ``folded``, None if none."""
        found = self.spelled(folded)
        return found[0] if found else None

    def spelled(self, folded: str) -> list[str]:
        """Every path whose `fold` is ``folded``, in order."""
        if not self.joined or "\x00" in folded:
            return []
        ended = self._ended()
        if self._folded is None:
            self._folded = fold(ended)  # (each character on its own; NULs stay)
            # ASCII folds letter for letter: a match is then where the path is (no split)
            self._aligned = ended.isascii()
        out, at, paths = [], self._folded.find("\x00" + folded + "\x00"), None
        while at >= 0:
            if self._aligned:
                out.append(ended[at + 1:at + 1 + len(folded)])
            else:
                paths = paths or self.joined.split("\x00")
                out.append(paths[self._folded.count("\x00", 0, at)])
            at = self._folded.find("\x00" + folded + "\x00", at + 1)
        return out

    def __add__(self, other: "Names") -> "Names":
        return Names("\x00".join(n.joined for n in (self, other) if n.joined))

    def _ended(self) -> str:
        if self._ends is None:
            self._ends = "\x00" + self.joined + "\x00"
        return self._ends


def case_twins(changes: Sequence[Change], existing: Names) -> list[Violation]:
    """New paths (or folders on their way) equal, ignoring case, to one that exists or to
    another new one: the same file on a case-insensitive disk (Windows, macOS)."""
    known: dict[str, str] = {}  # the case fold of each path looked at -> its first spelling
    out: list[Violation] = []
    for ch in changes:
        if ch.old is not None or ch.new is None:
            continue
        p = ch.new.path
        parts = p.split("/")
        for k in range(1, len(parts) + 1):
            prefix = "/".join(parts[:k])
            folded = fold(prefix)
            twin = known.get(folded)
            if twin is None:
                found = existing.twin(folded)
                twin = known[folded] = prefix if found is None else found
            # (a path that exists as spelled is no new name, whatever its twins)
            if twin != prefix and not existing.has(prefix):
                out.append(Violation(p, "case-twin", f"{prefix!r} differs only in case from "
                                     f"{twin!r} (the same name on Windows and macOS)",
                                     "use the existing spelling or another name"))
                break
    return out


def _allowed(path: str, rules: Rules) -> bool:
    # Forbidden paths match whatever the case (`SRC/x` is `src/x` on a case-insensitive
    # disk); allowed paths must match exactly.
    # The documents `[docs]` names are evidence wherever they are (found by a newcomer:
    # moved to docs/, every record was refused), their sections judged by the document
    # rules.
    if matcher(ALWAYS_FORBIDDEN + rules.forbidden_paths, True)(path.casefold()):
        return False
    return path in rules.documents or matcher(rules.allowed_paths)(path)


def _case_variant(path: str) -> bool:
    return path.casefold().startswith(EVIDENCE_ROOT) and not path.startswith(EVIDENCE_ROOT)


def _why_forbidden(path: str, rules: Rules) -> str:
    for p in rules.forbidden_paths:
        if glob_match(path.casefold(), p.casefold()):
            return f"ops commits may not touch {p.rstrip('*')}"
    for p in ALWAYS_FORBIDDEN:
        if glob_match(path.casefold(), p.casefold()):
            return "ops commits may not change their own rules, hooks or CI"
    allowed = dict.fromkeys((*rules.allowed_paths, rules.session_log, rules.backlog,
                             rules.design))
    return "not an evidence path (allowed: " + ", ".join(allowed) + ")"
