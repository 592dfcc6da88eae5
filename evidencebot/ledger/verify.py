"""`verify`: CI's second look, from committed evidence and the base branch's committed
config only (nothing from the working tree). Every commit in the range descends from the
base, passes the scope rules against its parent and, for runs and closures, is re-derived
(`rederive`). Catches what slipped past the hook (`--no-verify`, a forged trailer, a record
that contradicts itself), not a fabricated but self-consistent report: that is for the
reviewer and for signed commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config as config_mod
from .. import git
from ..errors import UsageError
from ..evidence import bankholidays, history
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..guard import changes as guard
from ..guard import commits
from ..guard.rules import CLOSED_MET, Change, strays
from ..guard.scope import judge
from ..md import edit as mdedit
from ..md import lines as mdlines
from . import DROP, codechange, whole
from .findings import Finding, Report
from .messages import log_path
from .span import resolve_range
from .workspace import Context, existing_base, whole_history

if TYPE_CHECKING:
    from .rederive import Describe

_AHEAD = 20  # commits whose objects are read ahead together (their blobs stay in memory)


def verify_context(repo: Path, *, base: str, clock: Callable[[], datetime],
                   named: bool = False) -> Context:
    """A context that knows only the base branch's committed config (``named``: the base
    was given on the command line, where a name that is no branch is a mistake)."""
    if named:  # a branch's name: "main^0" or "main~3" would read older rules
        try:
            git.branch_form(base)
        except ValueError as e:
            raise UsageError(f"--base: {e}", fix="give the base branch's name alone, "
                             "e.g. --base main") from None
    top = git.top(repo)
    whole_history(top)
    plain = base.split("/", 1)[1] if base.startswith("origin/") else ""
    ref = existing_base(top, base, source="--base" if named else "[ops] base", fix=(
        f"name the branch alone: --base {plain}" if plain else
        f"fetch it (git fetch origin {base}), or give the base branch's name, e.g. --base "
        "main") if named else "")
    # Bank holidays straight from the `holidays` package, Markdown from a parse of its own:
    # no local shortcut is trusted.
    bankholidays.use_store(None)
    mdedit.forget()
    mdlines.forget()
    loaded = config_mod.load_at(top, ref)
    return Context(top, loaded, loaded, clock, guard.base_rules(top, base), ref,
                   git.rev_parse(top, ref), shortcuts=False)


def verify(ctx: Context, *, spec: str | None, end: str | None = None,
           describe: Describe | None = None, require_signed: bool = False) -> Report:
    """Verify ``spec`` (A..B), or the merge base with the base branch up to ``end``."""
    with git.reading(ctx.repo):  # one cat-file process for every blob and tree read
        return _verify(ctx, spec=spec, end=end, describe=describe,
                       require_signed=require_signed)


def _verify(ctx: Context, *, spec: str | None, end: str | None, describe: Describe | None,
            require_signed: bool) -> Report:
    start, stop, mode = resolve_range(ctx, spec=spec, end=end)
    # git answers the range's log on the other core while the history is read
    ranged = git.Background(guard.commit_log, ctx.repo, f"{start}..{stop}" if start else stop) \
        if mode == "range" else None
    base_only = git.Background(whole.base_only, ctx.repo, ctx.base_sha, stop) \
        if mode == "range" else None
    try:
        ops = history.read(ctx.repo, stop, bot_author=ctx.cfg.ops.author, cache=False)
        report = Report(f"{(start or '')[:12]}..{stop[:12]}" if ranged is not None else
                        f"ops commits reachable from {stop[:12]}")
        try:
            if ranged is not None:
                logged = ranged.result()
            else:
                logged = guard.commit_log(ctx.repo, only=[c.sha for c in reversed(ops)])
        except git.GitError as e:  # a tree git's own parser cannot read stops the log
            return _unreadable(ctx, report, git.out(
                ctx.repo, "rev-list", "--reverse", "--topo-order", f"{start}..{stop}").split()
                if ranged is not None and start else [c.sha for c in reversed(ops)], e)
        shas = [c.sha for c in logged]
        ops_shas = {c.sha for c in ops}
        whole.range_start(ctx, report, start)
        report.code = mode == "range" and bool(shas) and ops_shas.isdisjoint(shas)
        if report.code:  # a code change: whatever its branch is named, it writes no evidence
            _code(ctx, report, logged, ops, start, stop)
            return report
        if mode == "range":  # the base's ops commits the range leans on, judged first
            _leaned(ctx, report, ops, set(shas), start, stop)
        _walk(ctx, report, logged, ops, require_ops=mode == "range", describe=describe)
        if mode == "range":  # (on the base branch itself, every commit is the base's)
            whole.descent(ctx, report, logged)
            assert base_only is not None
            whole.base_evidence(ctx, report, base_only.result())
            whole.rows_against_closure(ctx, report, ops, stop, set(shas))
            if shas:  # (an empty range, a branch merged already, brings nothing to leave out)
                whole.other_lines(ctx, report, stop)
    finally:
        for started in (ranged, base_only):
            if started is not None:
                started.done()
    whole.dates(ctx, report, logged)
    whole.branch_like_tags(ctx, report, stop)
    whole.read_closed(ctx, report, whole.closed_milestones(ops), stop)
    if require_signed or ctx.rules.ops.require_signed:
        inside = set(shas) & ops_shas
        below = whole.signed_span(ctx, ops, stop, inside) if mode == "range" else []
        whole.signatures(ctx, report, [s for s in shas if s in inside] +
                         [s for s in below if s not in inside], inside, ops)
    if mode == "history":
        whole.check_squash(ctx, report, stop, ops_shas)
    return report


def _code(ctx: Context, report: Report, logged: Sequence[guard.Logged],
          ops: Sequence[OpsCommit], start: str | None, stop: str) -> None:
    """A range that holds no ops commit: each commit's trees checked as git writes them,
    then what its merge does to the base judged as code (`codechange.judge`), the merged
    documents read as every range's tip is (`whole.read_closed`)."""
    trees, tops = commits.TreeWalk(), {c.sha: c.tree for c in logged}
    for commit in logged:
        report.commits += 1
        if len(commit.parents) < 2:
            _trees(ctx, report, commit, trees, _folders(commit, tops))
    codechange.judge(ctx, report, ops, start, stop)
    whole.descent(ctx, report, logged)


def _leaned(ctx: Context, report: Report, ops: list[OpsCommit], inside: set[str],
            start: str | None, stop: str) -> None:
    """The walk over the base's ops commits that the range's streaks lean on
    (`whole.leaned_on`): their findings are the range's, the files `close` renders
    aside (a closure merged long ago was rendered by the release of its day)."""
    below = whole.leaned_on(ctx, ops, inside, start, stop)
    if below:
        seen = Report(report.range)
        _walk(ctx, seen, guard.commit_log(ctx.repo, only=below), ops, require_ops=False,
              describe=None)
        report.findings += seen.findings


def _walk(ctx: Context, report: Report, logged: Sequence[guard.Logged],
          ops: list[OpsCommit], *, require_ops: bool, describe: Describe | None) -> None:
    """Judge each commit, oldest first."""
    index = {c.sha: i for i, c in enumerate(ops)}  # newest first
    before = _RunsBefore(ops)
    reader = git.active_reader(ctx.repo)
    tops = {c.sha: c.tree for c in logged}
    trees = commits.TreeWalk()
    windows = [logged[k:k + _AHEAD] for k in range(0, len(logged), _AHEAD)]
    reads: list[str] = _reads(ctx, windows[0], ops, index, tops) if windows else []
    if reader is not None and reads:
        reader.prefetch([], then=reads)  # a process reads the first window ...
    import difflib  # noqa: F401  ... while the judging code is imported (about 5 ms)

    from ..guard import documents  # noqa: F401
    from .rederive import rederive
    from .void import check_voids
    for n, commit in enumerate(logged):
        sha, parents = commit.sha, commit.parents
        if reader is not None and n % _AHEAD == 0:
            k = n // _AHEAD
            later = _reads(ctx, windows[k + 1], ops, index, tops) \
                if k + 1 < len(windows) else []
            reader.prefetch(reads, then=later)
            reads = later  # this window's `then` is the next window's reads
        report.commits += 1
        c = ops[index[sha]] if sha in index else None
        prior = ops[index[sha] + 1:] if sha in index else []

        def add(rule: str, message: str, fix: str = "", sha: str = sha) -> None:
            report.findings.append(Finding(sha, rule, message, fix))

        if len(parents) > 1:
            _merge(ctx, commit.tree, parents, c, index, add)
            continue
        folders = _folders(commit, tops)
        _trees(ctx, report, commit, trees, folders)
        if c is None:
            if require_ops:
                add("not-an-ops-commit", "a commit without an evidence trailer block",
                    "ops branches hold evidencebot's commits only: " + DROP)
                _scope(ctx, report, commit, None, [], folders, trees)
            continue
        for problem in c.problems:
            add("trailers", problem, "trailers are written by evidencebot; do not edit "
                "them: " + DROP + " and record again")
        changes = _scope(ctx, report, commit, c, prior, folders, trees)
        _strays(ctx, c, changes, add)
        check_voids(ctx, c, prior, changes, add)
        if c.problems:
            continue
        if c.is_run:
            report.runs.append(c.run_id)
            report.run_commits.append(c)
        rederive(ctx, c, prior, add, runs=partial(before, index[sha]), changes=changes,
                 records=commit.records, describe=describe)


class _RunsBefore:
    """The runs of the ops commits older than ``ops[i]`` (`streak.runs_of`), each worked
    out from the last one asked for when that one is older: the walk goes oldest first,
    so a range costs one pass over its history, not one per commit."""

    def __init__(self, ops: list[OpsCommit]) -> None:
        self.ops = ops
        self.last: tuple[int, streaks.Runs] | None = None

    def __call__(self, i: int) -> streaks.Runs:
        if self.last is not None and self.last[0] > i:
            j, older = self.last
            runs = streaks.runs_of(self.ops[i + 1:j + 1], on=older)
        else:
            runs = streaks.runs_of(self.ops[i + 1:])
        self.last = (i, runs)
        return runs


def _folders(commit: guard.Logged, tops: dict[str, str]) -> guard.Folders:
    """The parent's folders ``commit`` changed, with the parent's top folder when the log
    holds the parent: all read by id."""
    top = tops.get(commit.parents[0]) if len(commit.parents) == 1 else None
    return {**commit.folders, "": top} if top else commit.folders


def _reads(ctx: Context, window: Sequence[guard.Logged], ops: list[OpsCommit],
           index: dict[str, int], tops: dict[str, str]) -> list[str]:
    """What judging the commits of ``window`` will read from git: one pipelined pass for
    them all, so that git inflates while no one waits for a round trip per object. By
    id wherever the log gave one: git finds a path (``rev:path``) by reading the commit
    and every folder on the way, several times the work."""
    docs = ctx.guard_rules.documents
    specs: list[str] = []
    for logged in window:
        sha, parents = logged.sha, logged.parents
        parent = parents[0] if len(parents) == 1 else None
        if len(parents) <= 1:
            specs += guard.commit_reads(parent, logged.records, docs, _folders(logged, tops))
            specs += (tree for _path, tree in logged.trees)
        c = ops[index[sha]] if sha in index else None
        record = c.trailers.get("Evidence-Record", "") if c is not None and c.is_run else ""
        sides = guard.blob_sides(logged.records, record) if record else None
        if sides is not None:  # (as `rederive.check_run` reads it)
            specs += [sides[1]] if sides[1] else []
            log = guard.blob_sides(logged.records, log_path(record))  # (`runparts.kept_log`)
            specs += [log[1]] if log is not None and log[1] else []
        elif record:
            specs.append(f"{sha}:{record}")
            if parent:
                specs.append(f"{parent}:{record}")
            if parent and not any(r[4] == ctx.cfg.docs.backlog and "000000" not in r[:2]
                                  for r in logged.records):  # (else: its change's old side)
                specs.append(f"{parent}:{ctx.cfg.docs.backlog}")
    return specs


def _scope(ctx: Context, report: Report, commit: guard.Logged, c: OpsCommit | None,
           prior: Sequence[OpsCommit], folders: guard.Folders,
           trees: commits.TreeWalk) -> list[Change]:
    rules = ctx.guard_rules
    sha = commit.sha
    parent = commit.parents[0] if commit.parents else None
    changes = guard.commit_changes(ctx.repo, parent, sha, rules.documents, commit.records)

    def streak_of(mo: str) -> int:
        """`guard.streak_in`'s answer from the history here, and no more than the commit
        leaves: a void or a failed run that also sets CLOSED does not close on the streak
        it breaks (the hook, before the commit, knows only its parent's)."""
        if not parent:
            return 0
        s = ctx.streak(parent, mo, commits=prior)
        if s.closed_by is not None:
            return CLOSED_MET
        after = ctx.streak(sha, mo, commits=[c, *prior]).count if c is not None else s.count
        return min(s.count, after)

    existing = guard.existing_names(ctx.repo, parent, changes, folders=folders,
                                    names=trees.names)
    for v in judge(changes, rules, streak_of=streak_of, existing=existing):
        # (the rule's Fix is for a change about to be committed; this one is committed)
        report.findings.append(Finding(sha, v.rule, v.message, f"{v.fix} (here: {DROP}, "
                                       "then commit again)", v.path, v.lines, v.section))
    return changes


def _unreadable(ctx: Context, report: Report, shas: list[str], error: git.GitError) -> Report:
    """``report`` for a range git could not log: each commit whose change git cannot read
    is a finding (nothing else can be judged without its trees); ``error`` when none is."""
    report.commits = len(shas)
    for sha, said in commits.unreadable(ctx.repo, shas):
        report.findings.append(Finding(sha, "tree-unreadable", f"git cannot read this "
                                       f"commit's change: {said}", "commit with git (add, "
                                       "commit), not with hand-written tree objects"))
    if not report.findings:
        raise error
    return report


def _trees(ctx: Context, report: Report, commit: guard.Logged, walk: commits.TreeWalk,
           folders: guard.Folders) -> None:
    for path, problem in commits.malformed_trees(ctx.repo, commit, walk, folders):
        report.findings.append(Finding(
            commit.sha, "tree-malformed", f"the folder {path or '(top)'} {problem}",
            "commit with git (add, commit), not with hand-written tree objects", path=path))


def _strays(ctx: Context, c: OpsCommit, changes: Sequence[Change],
            add: Callable[[str, str, str], None]) -> None:
    """No path added under the evidence or milestones folder but the commit's own
    (`rules.strays`)."""
    added = [ch.new.path for ch in changes if ch.old is None and ch.new is not None]
    for v in strays(c.trailers, added, ctx.guard_rules):
        add(v.rule, f"{v.path} is {v.message}",
            v.fix + (": " + DROP if v.rule == "stray-closure-file" else ""))


def _two_lines(ctx: Context, first: str, other: str, ops: Mapping[str, int]) -> bool:
    """Whether ``first`` and ``other`` each hold ops commits the other does not."""
    sides = git.out(ctx.repo, "rev-list", "--left-right", f"{first}...{other}").split()
    return {side[0] for side in sides if side[1:] in ops} == {"<", ">"}


def _merge(ctx: Context, tree: str, parents: Sequence[str], c: OpsCommit | None,
           ops: Mapping[str, int], add: Callable[[str, str, str], None]) -> None:
    """A merge is the plain merge of its parents, and says nothing: evidence trailers on
    one count for nothing (`history.MERGED_EVIDENCE`). It joins no two lines of ops
    commits (``ops``: every ops commit the range reaches): each run is judged against the
    runs before it, and on two lines joined those are no longer one list (a run on one
    line would be read as after the other's, its streak and its tracker's streak line
    written without them)."""
    if any(_two_lines(ctx, parents[0], other, ops) for other in parents[1:]):  # (octopus too)
        add("ops-lines-merged", "a merge of two lines of ops commits: each side holds "
            "evidence the other does not", "the ops branch is one line: record on one "
            "checkout (evidencebot brings the others along), and drop the other line's "
            "commits or record their reports again on this one: " + DROP)
    if not commits.is_plain_merge(ctx.repo, tree, parents):
        add("merge-with-changes", "a merge commit whose tree is not the plain merge of its "
            "parents", "merge without editing; ops changes are ops commits")
    if c is not None and c.problems == (history.MERGED_EVIDENCE,):
        add("merge-with-trailers", "a merge commit with evidence trailers: it is no run, "
            "closure or void, and counts for nothing", "merge without trailers; evidence "
            "is recorded with `evidencebot record`, `void` and `close`: " + DROP)
