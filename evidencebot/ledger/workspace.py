"""The workspace: the trading repository, both configs (the operator's and the base
branch's), the clock, and the code under test. Resolved once per command."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__, git
from .. import config as config_mod
from ..config import Config, LoadedConfig
from ..defaults import CONSECUTIVE, MAX_CLOCK_SKEW_SECONDS, MILESTONE
from ..errors import PolicyViolation, UsageError
from ..evidence import history, rows
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.report import COMMIT_ID
from ..evidence.store import Store
from ..evidence.window import Window, window_of
from ..frozen import field, fields, frozen, replace
from ..guard.changes import (
    applies,
    base_ref,
    base_rules,
    current_branch,
    judge_commit_range,
    markdown_shortcut,
)
from ..guard.rules import Rules
from ..md import blocks as mdblocks
from . import commit as ledger
from . import lock
from .base import agreed_base

if TYPE_CHECKING:
    from ..evidence.record import CodeState


@frozen
class Context:
    """Everything a command needs, resolved once: the repo, both configs, the clock."""

    repo: Path
    loaded: LoadedConfig  # the operator's (working tree) config
    base: LoadedConfig  # the config committed on the base branch: thresholds and rules
    clock: Callable[[], datetime]
    guard_rules: Rules = field(default_factory=Rules)  # the scope rules, from the base
    base_ref: str | None = None  # where the base's rules live: origin/<base>, else <base>
    base_sha: str | None = None  # that ref's commit when the context was made
    shortcuts: bool = True  # shortcut files under .git/evidencebot (verify: none)
    # `run`, once its session has started: what it records lands even where a checkout of
    # the ops branch holds uncommitted changes; that checkout is left detached at the old
    # tip with them, and told here. None: such a checkout is refused.
    left_behind: Callable[[ledger.Left], None] | None = None

    @property
    def now(self) -> datetime:
        return self.clock()

    @property
    def cfg(self) -> Config:
        return self.loaded.config

    @property
    def rules(self) -> Config:
        return self.base.config

    def unheeded(self) -> list[str]:
        """The sections of the working tree's config that differ from the base's committed
        one where the base's are what count (all but [ops] and [notify], which are the
        operator's, and [docs], which `_base_documents` takes from the base): a port or a
        wrapper changed and not yet merged, which no command reads."""
        if self.loaded.path is None:  # (a base without a config counts the defaults)
            return []
        mine, theirs = self.loaded.config, self.base.config
        return [f.name for f in fields(mine) if f.name not in ("ops", "notify", "docs")
                and getattr(mine, f.name) != getattr(theirs, f.name)]

    def deserted_branch(self) -> str | None:
        """The base's committed ops branch when the working tree's config names another that
        is neither here nor at the remote while the base's is (newcomer 14: a typo in [ops]
        branch showed 0/3, and `record` started a second branch beside the evidence)."""
        mine, theirs = self.cfg.ops.branch, self.rules.ops.branch
        if mine == theirs or self.base.path is None:
            return None

        def found(branch: str) -> bool:  # (here, or at the remote: as `tip` looks)
            at = ledger.tip(self.repo, branch=branch, base=self.cfg.ops.base,
                            remote=self.cfg.ops.remote)
            return at.exists or at.remote

        return theirs if not found(mine) and found(theirs) else None

    @property
    def author(self) -> ledger.Identity:
        return ledger.Identity.parse(self.cfg.ops.author)

    def tip(self) -> ledger.Tip:
        """The ops branch, which must be one the base's scope rules guard: on a branch
        they do not match, the hook lets any commit through."""
        branch = self.cfg.ops.branch
        if not applies(branch, self.guard_rules, {}):
            raise UsageError(
                f"ops.branch {branch!r} is not a branch the base's [scope] branches "
                f"({', '.join(self.guard_rules.branches)}) cover: the hook would not guard "
                "its commits", fix="name an ops branch they cover, e.g. ops/evidence (or "
                "widen [scope] branches on the base, through review)")
        return ledger.tip(self.repo, branch=branch, base=self.cfg.ops.base,
                          remote=self.cfg.ops.remote)

    def history(self, rev: str | None = None) -> list[history.OpsCommit]:
        return history.read(self.repo, rev or self.tip().sha, bot_author=self.cfg.ops.author,
                            cache=self.shortcuts)  # verify's context: from git, always

    @property
    def milestone(self) -> str:
        """The milestone the burn-in streak counts toward: MO-2 when the base config has a
        rule for it, whatever the order of its tables (adversary 44b: a [milestone.MO-3]
        written first made runs close MO-3), else its first [milestone.*]."""
        rules = self.rules.milestone
        return MILESTONE if MILESTONE in rules else next(iter(rules), MILESTONE)

    @property
    def milestones(self) -> tuple[str, ...]:
        """Every milestone the base config has a rule for (the burn-in's by default): each
        closure among them is held to the runs it names."""
        return tuple(self.rules.milestone) or (self.milestone,)

    @property
    def consecutive(self) -> int:
        rule = self.rules.milestone.get(self.milestone)
        return rule.consecutive if rule else CONSECUTIVE

    def runs(self, rev: str) -> streaks.Runs:
        """The runs of the history up to the commit ``rev`` (`streak.runs_of`). With
        shortcuts, from the runs shortcut (`ledger/runs.py`): `record` then reads no
        history at 10,000 ops commits. verify's context always works them out from git."""
        if not self.shortcuts or not COMMIT_ID.fullmatch(rev):  # keyed by commit, not name
            return streaks.runs_of(self.history(rev))
        from .runs import runs_at

        return runs_at(self.repo, rev, bot_author=self.cfg.ops.author, read=self.history)

    def hand_rows(self, backlog: bytes | None,
                  commits: Sequence[OpsCommit] | streaks.Runs) -> list[rows.HandRow]:
        """The tracker rows written by hand in ``backlog`` (`rows.hand_rows`)."""
        if backlog is None:
            return []
        written = commits.written if isinstance(commits, streaks.Runs) else \
            streaks.written_rows(commits)
        store = None
        if self.shortcuts:
            from ..evidence.store import shortcut_path

            store = Store(shortcut_path(self.repo, "tracker-cache.bin"),
                          f"{__version__}|rows4|{self.cfg.docs.tracker_section}")
        return rows.hand_rows(backlog, self.cfg.docs.tracker_section, written, store=store)

    def streak(self, rev: str | None = None, milestone: str | None = None,
               commits: Sequence[OpsCommit] | None = None) -> streaks.Streak:
        """Where ``milestone`` (the burn-in milestone by default) stands at ``rev`` (the ops
        tip by default): runs in time order, hand-written rows included."""
        rev = rev or self.tip().sha
        commits = self.history(rev) if commits is None else commits
        mo = milestone or self.milestone
        rule = self.rules.milestone.get(mo)
        backlog = git.show_bytes(self.repo, rev, self.cfg.docs.backlog)
        return streaks.streak_of(commits, milestone=mo,
                                 needed=rule.consecutive if rule else CONSECUTIVE,
                                 hand_rows=self.hand_rows(backlog, commits))

    @property
    def window(self) -> Window:
        """The session window as the base branch's config sets it."""
        return window_of(self.rules)

    def live_code(self, since: CodeState | None = None) -> CodeState:
        """The operator's checkout as `code_state` reads it, under the code paths the base
        branch's committed config names (a local config cannot narrow what is code) and the
        wrapper's own files (`checkout.wrapper_files`).
        ``since``: the checkout when a run started, which is the code it ran, dirty unless
        the checkout is the same now."""
        from .checkout import code_state, wrapper_files

        commands = dict.fromkeys((tuple(b.command), b.report)  # (the base's, and the one
                                 for b in (self.rules.burnin, self.cfg.burnin))  # run starts)
        wrappers = [f for argv, report in commands
                    for f in wrapper_files(argv, self.repo, report=report)]
        now = code_state(self.repo, list(dict.fromkeys([*self.rules.ops.code_paths, *wrappers])))
        if since is None or now == since:
            return now
        paths = tuple(dict.fromkeys((*since.dirty_paths, *now.dirty_paths)))
        return type(since)(commit=since.commit, dirty=True, dirty_paths=paths)

    def on_base(self, commit: str) -> bool:
        """Whether ``commit`` is on the base branch (reviewed and merged code)."""
        if self.base_ref is None or not commit or commit == "none":
            return False
        if commit == self.base_sha:  # run at the base's tip: its own ancestor, no process
            return True
        return _is_ancestor(self.repo, commit, self.base_sha or self.base_ref)

    def base_at(self, when: datetime) -> str | None:
        """The base branch's commit at ``when`` (give or take the clock skew allowed): the
        newest of its first-parent commits that had landed by then. git keeps no time a
        branch moved; the date of the commit a merge request's merge made is the nearest
        record of it, and a commit landed no earlier than any commit below it (a later
        commit dated early does not bring an earlier merge forward). A fast-forward keeps
        the merged commits' own dates: earlier, so lenient."""
        base = self.base_sha or self.base_ref
        if base is None:
            return None
        by = int(when.timestamp()) + MAX_CLOCK_SKEW_SECONDS
        return next((sha for landed, sha, _tree in _landed(self.repo, base) if landed <= by),
                    None)

    def reviewed_at(self, when: datetime) -> Callable[[str], bool]:
        """Whether a code commit is code the base branch held when a run started at
        ``when``: the base as it stood then (`base_at`), a commit below it, or a commit of
        the tree of one of its first-parent commits by then (a branch's tip its squash
        merge took as it was). Code merged after the run did not run reviewed. A commit
        merely below the base counts (a feature branch's commit taken back before its
        merge: git keeps no record of which commits a branch pointed at, and a fast-forward
        to a branch that merged the base in leaves the base's own tips below it)."""
        at = self.base_at(when)
        base = self.base_sha or self.base_ref
        if at is None or base is None:
            return lambda _commit: False
        commits, trees = _chain_index(self.repo, base)
        since = commits[at]  # (newest first: what the base was by then has this index or more)

        def reviewed(commit: str) -> bool:
            if not commit or commit == "none":
                return False
            return commits.get(commit, -1) >= since or _is_ancestor(self.repo, commit, at) \
                or trees.get(_tree_of(self.repo, commit) or "", -1) >= since
        return reviewed

    def code_as_of(self, when: datetime) -> CodeState:
        """The base branch's commit at ``when`` (`base_at`): the code a report recorded
        after the fact is taken to have run, its dirtiness unknown."""
        from ..evidence.record import CodeState  # the record models: when a run is recorded

        return CodeState(commit=self.base_at(when) or "none", dirty=None)

    def judge(self, parent: str, new: str) -> None:
        """The scope rules on one ops commit, before any ref points at it."""
        violations = judge_commit_range(self.repo, parent, new, self.guard_rules)
        if self.shortcuts:  # what a hand commit on top of this one will find as its old
            markdown_shortcut(git.common_dir(self.repo)).save(mdblocks.found())
        if violations:
            raise PolicyViolation("the ops commit would break the scope rules: "
                                  + " | ".join(v.render() for v in violations))

    def build(self, parent: str, draft: ledger.Draft, *, trial: bool = False) -> str:
        """``draft`` as a judged commit on ``parent`` (no ref moves; ``trial``: it is not
        signed)."""
        return ledger.build(self.repo, parent=parent, draft=draft, author=self.author,
                            when=self.now, judge=self.judge, trial=trial)

    @contextmanager
    def locked(self, *, wait: float = 30.0) -> Iterator[None]:
        with lock.hold(self.repo, wait=wait):
            yield

    def append(self, make: Callable[[ledger.Tip], ledger.Draft | None]) -> str | None:
        """The one way evidence lands: lock → tip → draft → build and judge → advance.

        ``make`` sees the tip and returns the draft, or None when there is nothing to add.
        Returns the new commit, or None."""
        # Two questions every commit asks, answered while the draft is worked out: who
        # commits (and signs), and where the branch is checked out. Asked once the lock is
        # held, so no other evidencebot changes the answer (a wait for the lock can be long).
        with self.locked(), git.ahead(self.repo, git.IDENTITY, git.WORKTREES):
            at = self.tip()
            draft = make(at)
            if draft is None:
                return None
            new = self.build(at.sha, draft)
            left = ledger.advance(self.repo, at=at, new=new,
                                  leave_dirty=self.left_behind is not None)
            for checkout in left:
                assert self.left_behind is not None
                self.left_behind(checkout)
            return new


@lru_cache(maxsize=8)
def _landed(repo: Path, base: str) -> list[tuple[int, str, str]]:
    """(when it landed, id, tree) of the base's first-parent commits, newest first: its
    commit date, or a later one of a commit below it (one process, then every run's
    `base_at` from memory; ``base`` is a commit id where it can go stale)."""
    out = git.out(repo, "log", "--first-parent", "--format=%ct %H %T", base, "--")
    chain = [(int(date), sha, tree) for date, sha, tree in (line.split() for line in
                                                            out.splitlines())]
    landed, latest = [], 0
    for date, sha, tree in reversed(chain):  # oldest first: the latest date so far
        latest = max(latest, date)
        landed.append((latest, sha, tree))
    return landed[::-1]


@lru_cache(maxsize=8)
def _chain_index(repo: Path, base: str) -> tuple[dict[str, int], dict[str, int]]:
    """The base's first-parent commits by their place in `_landed` (newest first), and
    each of their trees by the oldest place it has."""
    chain = _landed(repo, base)
    return {sha: i for i, (_d, sha, _t) in enumerate(chain)}, \
        {tree: i for i, (_d, _s, tree) in enumerate(chain)}


@lru_cache(maxsize=256)
def _tree_of(repo: Path, commit: str) -> str | None:
    """The tree of ``commit``, a full commit id (None when there is no such commit)."""
    if len(commit) not in (40, 64) or commit.strip("0123456789abcdef"):
        return None
    found = git.run(repo, "rev-parse", "-q", "--verify", f"{commit}^{{tree}}", ok=(0, 1, 128))
    return found.decode().strip() or None


@lru_cache(maxsize=256)
def _is_ancestor(repo: Path, commit: str, ref: str) -> bool:
    # Runs share a handful of code commits: one process each, not one per run (``ref`` is
    # a commit id, so the answer never goes stale).
    return git.succeeds(repo, "merge-base", "--is-ancestor", commit, ref)


def whole_history(top: Path) -> None:
    """UsageError in a shallow clone: every command reads the whole ops history (streaks,
    sessions, closures), and a clone cut short at some depth would answer wrongly."""
    if (git.common_dir(top) / "shallow").exists():  # how git itself knows a shallow clone
        raise UsageError("this clone is shallow, and evidencebot reads the whole ops history "
                         "(streaks, sessions)", fix="git fetch --unshallow; in CI, "
                         "actions/checkout's fetch-depth: 0 or GitLab's GIT_DEPTH: 0 (the jobs "
                         "`evidencebot init --ci` writes have them)")


def open_context(
    repo: Path, *, config_path: Path | None, clock: Callable[[], datetime]
) -> Context:
    top = git.top(repo)
    whole_history(top)
    loaded = config_mod.load(top, config_path)
    base_name = agreed_base(top, loaded.config.ops.base,
                            source=str(loaded.path or "the default config"))
    # (A repository with no commit yet has no base to name: `init` starts there. A clone
    # whose HEAD names no branch the remote has, none checked out, has the base at origin.)
    ref = existing_base(top, base_name, source=f"[ops] base in "
                        f"{loaded.path or 'the default config'}") \
        if git.rev_parse(top, "HEAD") is not None else base_ref(top, base_name)
    base = config_mod.load_at(top, ref) if ref else LoadedConfig(loaded.config, None, "none")
    loaded = _base_documents(loaded, base, base_name, ref)
    common = git.common_dir(top)
    mdblocks.adopt(markdown_shortcut(common).load())
    return Context(top, loaded, base, clock, base_rules(top, base_name), ref,
                   git.rev_parse(top, ref) if ref else None)


def existing_base(top: Path, base: str, *, source: str, fix: str = "") -> str:
    """Where the base branch ``source`` names keeps its committed rules (`base_ref`);
    UsageError when it is neither here nor at origin: every rule, and the code a run may
    use, are the base's, and a base that is not here (a typo, a branch never fetched)
    would judge by the runbook's defaults."""
    ref = base_ref(top, base)
    if ref is None:
        if not fix and not git.out(top, "remote").split():  # (nothing to fetch it from)
            here = current_branch(top)
            fix = (f"you are on {here!r}: rename it (git branch -m {here} {base}), or set "
                   f'[ops] base = "{here}" in evidencebot.toml' if here else
                   f"make the branch reviewed code is merged into ({base}), or set [ops] "
                   "base to it")
        raise UsageError(f"no base branch {base!r} here or at origin ({source})",
                         fix=fix or f"fetch it (git fetch origin {base}), or set [ops] base "
                         "to the branch reviewed code is merged into")
    return ref


def _base_documents(loaded: LoadedConfig, base: LoadedConfig, base_name: str,
                    ref: str | None) -> LoadedConfig:
    """``loaded`` with the base's committed [docs]: verify judges each record, row and entry
    where the base says, so evidence goes there whatever a local config says (a second
    folder of records would record one session twice). UsageError while the base has no
    config committed and the local one places the evidence elsewhere than the defaults."""
    mine, theirs = loaded.config.docs, base.config.docs
    if mine == theirs:
        return loaded
    if base.path is None:
        differ = [f.name for f in fields(mine) if getattr(mine, f.name) != getattr(theirs, f.name)]
        read = git.short_ref(ref) or base_name  # (newcomer 17: committed on main, not pushed)
        pushed = f" and push it (git push {read.split('/')[0]} {base_name})" * (read != base_name)
        raise UsageError(f"{loaded.path or 'the default config'}: [docs] {', '.join(differ)} "
                         f"differ(s) from the defaults, and {read} has no config committed "
                         "yet: evidence goes where the base's committed config says",
                         fix=f"commit your config to {base_name} (through review){pushed} "
                         "first")
    return replace(loaded, config=replace(loaded.config, docs=theirs))
