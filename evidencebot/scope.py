"""The scope rules: what an ops commit may change. Pure; the hook and `verify` share it.

Input is the change as git stores it (old and new blob of every changed path, with modes);
output is a list of violations, each naming the file, the line range, the section and the
rule, and saying how to fix it. Import-light: it runs inside the pre-commit hook.
"""

# No `from __future__ import annotations` here: with it, every NamedTuple field annotation
# is a string that typing compiles at import time, milliseconds on every hook run.

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

# NamedTuples, not dataclasses: importing dataclasses pulls in inspect, ast and dis, a few
# milliseconds the hook would pay on every commit.

# Defaults from SESSION_TOPOLOGY.md §2 Type 4 (config.py uses the same constants).
ALLOWED_PATHS = ("reports/**", "SESSION_LOG.md", "IMPLEMENTATION_BACKLOG.md", "PROJECT_DESIGN.md")
FORBIDDEN_PATHS = ("src/**", "backtest/**", "config/**", "tests/**")
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
    milestones: Mapping[str, int] = {"MO-2": 3}  # noqa: RUF012  (never mutated)
    branches: tuple[str, ...] = ("ops/*",)
    config_sha: str = "none"
    qualify: Mapping[str, Any] = {}  # [qualify], for verify; never mutated

    @classmethod
    def from_config(cls, doc: Mapping[str, Any], *, config_sha: str = "none") -> "Rules":
        """Rules from a decoded TOML config (the base branch's); defaults where it is silent."""
        scope, docs = doc.get("scope", {}), doc.get("docs", {})
        ms = doc.get("milestone", {"MO-2": {}})
        d = cls()
        return cls(
            allowed_paths=tuple(scope.get("allowed_paths", d.allowed_paths)),
            forbidden_paths=tuple(scope.get("forbidden_paths", d.forbidden_paths)),
            backlog=docs.get("backlog", d.backlog),
            design=docs.get("design", d.design),
            session_log=docs.get("session_log", d.session_log),
            tracker_section=docs.get("tracker_section", d.tracker_section),
            status_section=docs.get("status_section", d.status_section),
            milestones_section=docs.get("milestones_section", d.milestones_section),
            milestones={k: int(v.get("consecutive", 3)) for k, v in ms.items()},
            branches=tuple(scope.get("branches", d.branches)),
            config_sha=config_sha,
            qualify=dict(doc.get("qualify", {})),
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
        where = self.path
        if self.lines:
            a, b = self.lines
            where += f":{a}" if a == b else f":{a}-{b}"
        sec = f" [{self.section}]" if self.section else ""
        return f"{where}{sec}: {self.message} ({self.rule}). Fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "rule": self.rule, "message": self.message, "fix": self.fix,
                "lines": list(self.lines) if self.lines else None, "section": self.section}


StreakOf = Callable[[str], int]  # milestone id -> qualifying runs in a row in the history


def glob_match(path: str, pattern: str) -> bool:
    """`reports/**` matches everything below reports/; other patterns match the whole path."""
    if pattern.endswith("/**"):
        return path.startswith(pattern[:-2])
    if not any(c in pattern for c in "*?["):
        return path == pattern
    import fnmatch

    return fnmatch.fnmatchcase(path, pattern)


def judge(changes: Sequence[Change], rules: Rules, *, streak_of: StreakOf) -> list[Violation]:
    """Every violation in a change set (empty when the ops commit is within scope)."""
    out: list[Violation] = []
    for ch in changes:
        out += _path_rules(ch, rules)
    if out:
        return out  # content rules only make sense for paths that may change at all
    documents = [ch for ch in changes if ch.old is not None and ch.new is not None
                 and ch.path in (rules.session_log, rules.backlog, rules.design)]
    if documents:
        from . import scope_docs  # Markdown parsing: only when a document changed

        for ch in documents:
            out += scope_docs.judge_document(ch, rules, streak_of)
    return out


# --- paths, modes, file kinds ------------------------------------------------------------

def _path_rules(ch: Change, rules: Rules) -> list[Violation]:
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
    if ch.old is not None and ch.old.path.startswith(EVIDENCE_ROOT) and not out:
        what = "deleted" if ch.new is None else "rewritten"
        out.append(Violation(ch.old.path, "evidence-immutable",
                             f"a committed evidence record was {what}",
                             "restore it; record a new run instead of editing an old one"))
    if ch.new is None and ch.old is not None and not out and not ch.old.path.startswith(
            "reports/"):
        out.append(Violation(ch.old.path, "no-deletion", "a tracked document was deleted",
                             f"git restore --staged --worktree {ch.old.path}"))
    return out


def _allowed(path: str, rules: Rules) -> bool:
    # Forbidden paths match whatever the case (`SRC/x` is `src/x` on a case-insensitive
    # disk); allowed paths must match exactly.
    folded = path.casefold()
    if any(glob_match(folded, p.casefold()) for p in ALWAYS_FORBIDDEN + rules.forbidden_paths):
        return False
    return any(glob_match(path, p) for p in rules.allowed_paths)


def _case_variant(path: str) -> bool:
    return path.casefold().startswith(EVIDENCE_ROOT) and not path.startswith(EVIDENCE_ROOT)


def _why_forbidden(path: str, rules: Rules) -> str:
    for p in rules.forbidden_paths:
        if glob_match(path.casefold(), p.casefold()):
            return f"ops commits may not touch {p.rstrip('*')}"
    for p in ALWAYS_FORBIDDEN:
        if glob_match(path.casefold(), p.casefold()):
            return "ops commits may not change their own rules, hooks or CI"
    return "not an evidence path (allowed: " + ", ".join(rules.allowed_paths) + ")"
