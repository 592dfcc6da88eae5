"""The workspace: the trading repository, both configs (the operator's and the base
branch's), the clock, and the code under test. Resolved once per command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import config as config_mod
from .. import git
from ..config import Config, LoadedConfig
from ..defaults import CONSECUTIVE, MILESTONE
from ..errors import PolicyViolation, UsageError
from ..evidence import history
from ..evidence.record import CodeState
from ..guard.changes import base_rules, judge_commit_range
from ..guard.rules import Rules
from . import commit as ledger
from . import lock


@dataclass(frozen=True)
class Context:
    """Everything a command needs, resolved once: the repo, both configs, the clock."""

    repo: Path
    loaded: LoadedConfig  # the operator's (working tree) config
    base: LoadedConfig  # the config committed on the base branch: thresholds and rules
    clock: Callable[[], datetime]
    guard_rules: Rules = field(default_factory=Rules)  # the scope rules, from the base

    @property
    def now(self) -> datetime:
        return self.clock()

    @property
    def cfg(self) -> Config:
        return self.loaded.config

    @property
    def rules(self) -> Config:
        return self.base.config

    @property
    def author(self) -> ledger.Identity:
        return ledger.Identity.parse(self.cfg.ops.author)

    def tip(self) -> ledger.Tip:
        return ledger.tip(self.repo, branch=self.cfg.ops.branch, base=self.cfg.ops.base)

    def history(self, rev: str | None = None) -> list[history.OpsCommit]:
        return history.read(self.repo, rev or self.tip().sha, bot_author=self.cfg.ops.author)

    @property
    def milestone(self) -> str:
        """The milestone the burn-in streak counts toward: the first [milestone.*] of the
        base config (MO-2 by default)."""
        return next(iter(self.rules.milestone), MILESTONE)

    @property
    def consecutive(self) -> int:
        rule = self.rules.milestone.get(self.milestone)
        return rule.consecutive if rule else CONSECUTIVE

    def judge(self, parent: str, new: str) -> None:
        """The scope rules on one ops commit, before any ref points at it."""
        violations = judge_commit_range(self.repo, parent, new, self.guard_rules)
        if violations:
            raise PolicyViolation("the ops commit would break the scope rules: "
                                  + " | ".join(v.render() for v in violations))

    def build(self, parent: str, draft: ledger.Draft) -> str:
        """``draft`` as a judged commit on ``parent`` (no ref moves)."""
        return ledger.build(self.repo, parent=parent, draft=draft, author=self.author,
                            when=self.now, judge=self.judge)

    @contextmanager
    def locked(self, *, wait: float = 30.0) -> Iterator[None]:
        with lock.hold(self.repo, wait=wait):
            yield

    def append(self, make: Callable[[ledger.Tip], ledger.Draft | None]) -> str | None:
        """The one way evidence lands: lock → tip → draft → build and judge → advance.

        ``make`` sees the tip and returns the draft, or None when there is nothing to add.
        Returns the new commit, or None."""
        with self.locked():
            at = self.tip()
            draft = make(at)
            if draft is None:
                return None
            new = self.build(at.sha, draft)
            ledger.advance(self.repo, at=at, new=new)
            return new


def open_context(
    repo: Path, *, config_path: Path | None, clock: Callable[[], datetime]
) -> Context:
    try:
        top = git.toplevel(repo)
    except git.GitError:
        raise UsageError(f"{repo} is not inside a git repository") from None
    loaded = config_mod.load(top, config_path)
    base_ref = loaded.config.ops.base
    base = LoadedConfig(loaded.config, None, "none")
    for ref in (f"refs/heads/{base_ref}", f"refs/remotes/origin/{base_ref}"):
        if git.rev_parse(top, ref):
            base = config_mod.load_at(top, ref)
            break
    return Context(top, loaded, base, clock, base_rules(top, base_ref))


def code_state(repo: Path, code_paths: list[str]) -> CodeState:
    """The operator's HEAD and whether the code under test has changes or untracked files."""
    head = git.rev_parse(repo, "HEAD") or "none"
    specs = [p.rstrip("/") or "." for p in code_paths]
    raw = git.run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                  *specs)
    paths = [item[3:] for item in raw.decode("utf-8", "replace").split("\x00") if len(item) > 3]
    return CodeState(commit=head, dirty=bool(paths), dirty_paths=tuple(paths))
