"""The scope rules: what an ops commit may change. Pure; the hook and `verify` share it.

Input is the change as git stores it (old and new blob of every changed path, with modes);
output is a list of violations, each naming the file, the line range, the section and the
rule, and saying how to fix it. Import-light: it runs inside the pre-commit hook.
"""

# No `from __future__ import annotations` here: with it, every NamedTuple field annotation
# is a string that typing compiles at import time, milliseconds on every hook run.

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

# NamedTuples, not dataclasses: importing dataclasses pulls in inspect, ast and dis, a few
# milliseconds the hook would pay on every commit.
from ..defaults import (
    ALLOWED_PATHS,
    CHECKS_DIR,
    CONSECUTIVE,
    EVIDENCE_EXTENSIONS,
    FORBIDDEN_PATHS,
    MILESTONE,
)

# Whatever the config says, an ops commit never touches what defines its own rules.
ALWAYS_FORBIDDEN = (
    "evidencebot.toml", "pyproject.toml", ".pre-commit-config.yaml", ".pre-commit-hooks.yaml",
    "hooks/**", ".githooks/**", ".husky/**", ".github/**", ".gitlab-ci.yml", ".gitlab/**",
    ".ci/**", "ci/**", ".circleci/**", "azure-pipelines.yml", "Jenkinsfile",
)
GIT_METADATA = (".gitattributes", ".gitignore", ".gitmodules")
EVIDENCE_ROOT = "reports/evidence/"
REGULAR = "100644"


class Rules(NamedTuple):
    allowed_paths: tuple[str, ...] = ALLOWED_PATHS
    forbidden_paths: tuple[str, ...] = FORBIDDEN_PATHS
    backlog: str = "IMPLEMENTATION_BACKLOG.md"
    design: str = "PROJECT_DESIGN.md"
    session_log: str = "SESSION_LOG.md"
    tracker_section: str = "Step 1A Burn-In Tracker"
    status_section: str = "MO-* Status"
    milestones_section: str = "9. Operational Milestones Tracker"
    milestone_dir: str = "reports/evidence/milestones"  # [docs]: the closures' folder
    evidence_dir: str = "reports/evidence/step1a"  # [docs]: the runs' records
    milestones: Mapping[str, int] = {MILESTONE: CONSECUTIVE}  # noqa: RUF012 (never mutated)
    branches: tuple[str, ...] = ("ops/*",)
    evidence_extensions: tuple[str, ...] = EVIDENCE_EXTENSIONS

    @property
    def documents(self) -> frozenset[str]:
        """The Markdown documents whose sections the rules read."""
        return frozenset((self.backlog, self.design, self.session_log))

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Rules":
        """Rules from a decoded TOML config (the base branch's); defaults where it is silent."""
        scope, docs = doc.get("scope", {}), doc.get("docs", {})
        ms = doc.get("milestone", {MILESTONE: {}})
        d = cls()

        def text(key: str) -> str:  # (a name of another type: the config's own
            value = docs.get(key, getattr(d, key))  # validation refuses it; here, none)
            if not isinstance(value, str):
                raise TypeError(f"[docs] {key}")
            return value

        return cls(
            allowed_paths=tuple(scope.get("allowed_paths", d.allowed_paths)),
            forbidden_paths=tuple(scope.get("forbidden_paths", d.forbidden_paths)),
            backlog=text("backlog"),
            design=text("design"),
            session_log=text("session_log"),
            tracker_section=text("tracker_section"),
            status_section=text("status_section"),
            milestones_section=text("milestones_section"),
            milestone_dir=text("milestone_dir"),
            evidence_dir=text("evidence_dir"),
            milestones={k: int(v.get("consecutive", CONSECUTIVE)) for k, v in ms.items()},
            branches=tuple(scope.get("branches", d.branches)),
            evidence_extensions=tuple(e.lower() for e in scope.get("evidence_extensions",
                                                                    d.evidence_extensions)),
        )


class Blob(NamedTuple):
    path: str
    mode: str  # "100644", "100755", "120000" (symlink), "160000" (gitlink)
    data: bytes | None  # None for a gitlink


class Change(NamedTuple):
    old: Blob | None  # None: added
    new: Blob | None  # None: deleted

    @property
    def path(self) -> str:
        return (self.new or self.old).path  # type: ignore[union-attr]


class Violation(NamedTuple):
    path: str
    rule: str
    message: str
    fix: str
    lines: tuple[int, int] | None = None  # 1-based, inclusive, in the new file
    section: str = ""

    def render(self) -> str:
        """One line: a path holding a newline or another control character (git allows
        them), wherever the finding names it, is shown escaped, never as a line of its own
        (nor a terminal's escape sequence)."""
        where = self.path
        if self.lines:
            a, b = self.lines
            where += f":{a}" if a == b else f":{a}-{b}"
        sec = f" [{self.section}]" if self.section else ""
        head = f"{where}{sec}: " if where or sec else ""  # (a rule on the commit as a whole)
        said = f"{head}{self.message} ({self.rule}). Fix: {self.fix}"
        return said if said.isprintable() else "".join(
            c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in said)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "rule": self.rule, "message": self.message, "fix": self.fix,
                "lines": list(self.lines) if self.lines else None, "section": self.section}


# milestone id -> qualifying runs in a row in the history (CLOSED_MET when it closed it,
# BY_HAND when the commit judged is not its closure: `closing`)
StreakOf = Callable[[str], int]
CLOSED_MET = 1 << 30  # (what a StreakOf gives for a milestone the history already closed)
BY_HAND = -1  # (what it gives for one the history has not closed, to a commit that does not)


def closing(streak_of: StreakOf, closes: str | None, rules: Rules) -> StreakOf:
    """``streak_of`` for a change that is the closure of milestone ``closes`` (None: of
    none; `closure_in`). Before the history closed a milestone, only its closure sets it
    CLOSED or says it closed, even with the streak met (BY_HAND; short of it, the streak
    says why): a status flipped by hand names no runs, so a run recorded later between
    the streak's runs would contradict nothing, and the branch would still read CLOSED."""
    def of(milestone: str) -> int:
        have = streak_of(milestone)
        if have == CLOSED_MET or milestone == closes or have < rules.milestones.get(
                milestone, CLOSED_MET):
            return have
        return BY_HAND
    return of


def closure_in(changes: Sequence[Change], rules: Rules) -> str | None:
    """The milestone (with a rule) whose closure page, ``<milestone_dir>/<id>.md``, the
    change adds: `close`'s commit does, and nothing else may (verify holds a commit that
    adds one to being the closure `close` makes: `stray-closure-file`, the closure's
    rules)."""
    return next((mo for mo in _added(changes, rules.milestone_dir, ".md")
                 if mo in rules.milestones), None)


def run_record_in(changes: Sequence[Change], rules: Rules) -> bool:
    """Whether the change adds a run's record, ``<evidence_dir>/<run-id>.json`` (a run
    commit does: verify holds the commit to being the run that record is, its entry and
    row what `record` renders for it, `stray-record`)."""
    return bool(_added(changes, rules.evidence_dir, ".json"))


def _added(changes: Sequence[Change], folder: str, ext: str) -> list[str]:
    """The names, ``ext`` aside, of the files ending so that the change adds right in
    ``folder`` (not below it)."""
    folder = folder.rstrip("/") + "/"
    return [ch.path[len(folder):-len(ext)] for ch in changes
            if ch.old is None and ch.new is not None and ch.path.startswith(folder)
            and ch.path.endswith(ext) and "/" not in ch.path[len(folder):]]


def strays(trailers: Mapping[str, str], added: Sequence[str], rules: Rules) -> list[Violation]:
    """Each path ``added`` under the evidence folders that is not the commit's own
    (``trailers``: its trailer block). Under the runs' evidence folder a commit adds only
    its own run's record and log (a record lives at exactly <evidence_dir>/<run-id>.json,
    once); under the milestones' folder only a closure adds, and only its own page and
    description: another commit's would show a reviewer a closure that is not; under the
    refused checks' folder only a check commit adds (a record there is read as a refused
    check by the report page). `verify` judges each commit so, and the commit-msg hook a
    hand commit."""
    folder = rules.evidence_dir.rstrip("/") + "/"
    pages = rules.milestone_dir.rstrip("/") + "/"
    checks = CHECKS_DIR + "/"
    kind, own = trailers.get("Evidence-Kind", ""), set[str]()
    if kind == "step1a-burnin":
        record = trailers.get("Evidence-Record", "")
        own = {record, record[:-len(".json")] + ".log"}
    elif kind == "milestone":
        mo = trailers.get("Milestone", "")
        own = {f"{pages}{mo}.md", f"{pages}{mo}.html"}
    out = []
    for path in added:
        if path.startswith(folder) and path not in own:
            out.append(Violation(path, "stray-record", "not the record of this commit's run",
                                 "a run's record lives at <evidence_dir>/<run-id>.json, "
                                 "written by evidencebot"))
        elif path.startswith(pages) and path not in own:
            out.append(Violation(path, "stray-closure-file", "not the page or description "
                                 "of this commit's closure", "a milestone's page and "
                                 "description come with its closure, written by "
                                 "`evidencebot close`"))
        elif path.startswith(checks) and kind != "check":
            out.append(Violation(path, "stray-check", "a refused check's record in a commit "
                                 f"that is no check commit ({kind or 'no kind'})",
                                 "a refused check's record comes with its own commit, "
                                 "written by `evidencebot run` or `check`"))
    return out


@lru_cache(maxsize=256)
def matcher(patterns: tuple[str, ...], fold: bool = False) -> Callable[[str], bool]:
    """Whether a path matches any of ``patterns``, with one regular expression for them
    all (a path is checked against some twenty patterns): ``dir/**`` is everything below
    dir/, a pattern without ``*?[`` the path itself, any other an fnmatch glob (its "*"
    crosses "/"). ``fold``: the patterns case-folded, for a case-folded path."""

    parts = []
    for p in patterns:
        p = p.casefold() if fold else p
        if p.endswith("/**"):
            parts.append(re.escape(p[:-2]) + ".*")
        elif not any(c in p for c in "*?["):
            parts.append(re.escape(p))
        else:
            import fnmatch

            parts.append(fnmatch.translate(p))
    if not parts:
        return lambda path: False
    found = re.compile("|".join(f"(?:{x})" for x in parts), re.DOTALL).fullmatch
    return lambda path: found(path) is not None


def glob_match(path: str, pattern: str) -> bool:
    """`reports/**` matches everything below reports/; other patterns match the whole path
    (fnmatch: "*" crosses "/"). One pattern of `matcher`."""
    return matcher((pattern,))(path)


def markup_violation(path: str, found: str, lines: tuple[int, int],
                     section: str = "") -> Violation:
    return Violation(path, "html-in-document", f"a changed line holds {found!r}: raw HTML or "
                     "a character reference (a page would show what the text does not say)",
                     "write plain Markdown: `&` `<` `>` as &amp; &lt; &gt;, or in a code "
                     "span", lines, section)


def hidden_violation(path: str, found: str, line: int, section: str = "") -> Violation:
    """A changed line (0-based ``line``) holding ``found``, a control or format character."""
    return Violation(path, "hidden-characters", f"a changed line holds {found} (a control or "
                     "format character)", "remove it; write plain text", (line + 1, line + 1),
                     section)


def closed_early(path: str, mo: str, what: str, lines: tuple[int, int] | None, section: str,
                 rules: Rules, streak_of: StreakOf) -> list[Violation]:
    """Text says ``mo`` closed only where its Status may become CLOSED, or the history
    closed it: a note reading "closed" would tell the reviewer what the history does not
    hold."""
    need = rules.milestones.get(mo)
    have = streak_of(mo) if need is not None else 0
    if need is not None and have >= need:
        return []
    if have == BY_HAND:
        return [by_hand(path, mo, what, lines, section)]
    held = f"a streak of {have}/{need}" if need is not None else \
        f"no [milestone.{mo}] rule in the config"
    return [Violation(path, "milestone-closed-early", f"{what}, with {held} in the history",
                      "leave it, or let `evidencebot close` write it", lines, section)]


def by_hand(path: str, mo: str, what: str, lines: tuple[int, int] | None,
            section: str) -> Violation:
    """A commit that is not ``mo``'s closure closing it (`closing`)."""
    return Violation(path, "milestone-closed-by-hand", f"{what} in a commit that is not its "
                     "closure: only `evidencebot close` closes a milestone (its closure "
                     "names the runs)", f"leave it; once the streak holds, run `evidencebot "
                     f"close {mo}`", lines, section)
