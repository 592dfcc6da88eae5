"""`verify`'s checks of a range as a whole, beside the walk over its commits: every commit
descends from the base branch, none is dated in the future, ops commits are signed where
that is asked, and a history merged into the base was not squashed."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import timedelta
from pathlib import Path

from .. import git
from ..defaults import MAX_CLOCK_SKEW_SECONDS
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.rows import HandRow
from ..evidence.streak import named_runs
from ..guard import changes as guard
from ..guard.prose import READ_AS_OPEN
from .findings import Finding, Report
from .workspace import Context


def range_start(ctx: Context, report: Report, start: str | None) -> None:
    """The walk judges A..B only; the ops commits below A (whose trailers the streak
    reads) must be the base's, judged when they were merged."""
    if start and ctx.base_ref is not None and not ctx.on_base(start):
        report.findings.append(Finding(
            start, "range-not-from-base", f"the range starts at {start[:12]}, which "
            f"{ctx.base_ref} does not hold: the ops commits below it would go unjudged",
            f"start the range on the reviewed base: --range {ctx.base_ref}..<tip> "
            f"(or name the base: --base {ctx.rules.ops.base})"))


def descent(ctx: Context, report: Report, logged: Sequence[guard.Logged]) -> None:
    """Every commit of a range descends from the base branch (no orphan root, no history
    merged in from elsewhere): one of its parents lies below the range, which starts on
    the base (`range-not-from-base` says when it does not), or descends itself. Read
    from the range's own log, oldest first: the base merged into the ops branch later
    moves no earlier commit off it."""
    if ctx.base_ref is None:
        return
    inside = {c.sha for c in logged}
    descends: dict[str, bool] = {}
    for c in logged:  # (a parent before its children)
        descends[c.sha] = any(p not in inside or descends.get(p, False) for p in c.parents)
        if not descends[c.sha]:
            report.findings.append(Finding(
                c.sha, "not-from-base", f"this commit does not descend from {ctx.base_ref}",
                f"ops branches start from {ctx.rules.ops.base}"))


def branch_like_tags(ctx: Context, report: Report, stop: str) -> None:
    """No tag is named like an ops branch: `git checkout ops/evidence` in a fresh clone
    lands on a tag of that name (git takes the tag before making the branch from
    origin's), so a CI job that checks the ops branch out by name would judge whatever
    the tag points at, not the branch the merge request merges."""
    import shlex  # (the name is the tag's maker's: quoted, the Fix is safe to paste)

    remote = shlex.quote(ctx.rules.ops.remote)
    names = git.out(ctx.repo, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags")
    for name in names.splitlines():
        base = name == ctx.rules.ops.base  # (adversary 44b: `git fetch origin main` takes
        if name and (base or guard.applies(name, ctx.guard_rules, {})):  # the tag)
            report.findings.append(Finding(
                stop, "branch-like-tag", f"the tag {name!r} is named like "
                f"{'the base branch' if base else 'an ops branch'}: a checkout or a fetch "
                "by that name takes the tag, not the branch",
                f"delete the tag (git push {remote} :{shlex.quote('refs/tags/' + name)}; "
                f"git tag -d {shlex.quote(name)}); ops branch names are for branches only"))


def rows_against_closure(ctx: Context, report: Report, ops: list[OpsCommit],
                         stop: str, inside: AbstractSet[str]) -> None:
    """No hand-written tracker row breaks the streak of a closure the range brings
    (``inside``) or the base does not hold (`row_against_closure`). A merged closure is
    never reopened."""
    for mo in ctx.milestones:
        closed = streaks.closure(ops, mo)
        if closed is None or (closed.sha not in inside and ctx.on_base(closed.sha)):
            continue
        found = row_against_closure(ctx, named_runs(closed), ops, stop)
        if found is not None:
            report.findings.append(Finding(
                closed.sha, "closure-contradicted", f"{said_row(found)} falls between two "
                "of the runs this closure names: the closure was made without it",
                f"the closure does not hold as it stands: start the ops branch again from "
                f"{ctx.rules.ops.base} and record the reports anew"))


def row_against_closure(ctx: Context, named: Sequence[str], ops: Sequence[OpsCommit],
                        tip: str) -> tuple[HandRow, str] | None:
    """(row, where: "" or " on <base>") of the hand-written tracker row that breaks the
    streak between two of the runs ``named`` (a closure's: `streak.row_against`): a
    failed session written down on the base, merged in (the rows at ``tip``) or waiting
    there (the base's rows, where the merge request lands), which the closure was made
    without."""
    runs = streaks.runs_of(ops)
    base = git.short_ref(ctx.base_ref)
    for at, where in ((tip, ""), (ctx.base_sha, f" on {base}")):
        if at is None or (where and at == tip):
            continue
        # (the base's rows against the runs the base holds: a row there for a run only
        # the ops branch recorded was not written by its run commit)
        held = ctx.history(at) if where else ops
        hand = ctx.hand_rows(git.show_bytes(ctx.repo, at, ctx.cfg.docs.backlog), held)
        row = streaks.row_against(named, runs, hand)
        if row is not None:
            return row, where
    return None


def said_row(found: tuple[HandRow, str]) -> str:
    """`row_against_closure`'s answer in words."""
    row, where = found
    return f"the hand-written tracker row for {row.run_id or 'a run'}{where} (not qualifying)"


def base_only(repo: Path, base: str | None, stop: str) -> list[tuple[str, str]]:
    """(id, Evidence-Kind) of each ops commit (no merge) the base ``base`` holds and
    ``stop`` does not (git asked on a thread while the walk runs: `base_evidence`)."""
    if base is None:
        return []
    raw = git.out(repo, "-c", "trailer.separators=:", "log", "--no-merges", "-z",
                  "--format=%H %(trailers:key=Evidence-Kind,valueonly,separator=%x2C)",
                  f"{stop}..{base}", "--")
    return [(sha, kind.strip()) for entry in raw.split("\x00")
            for sha, _, kind in [entry.strip().partition(" ")] if sha and kind.strip()]


def base_evidence(ctx: Context, report: Report, found: list[tuple[str, str]]) -> None:
    """Every ops commit the base holds is in the range's history (``found``: `base_only`'s
    answer): evidence reviewed and merged into the base (a failed run among it) is part
    of every later streak, and an ops branch started again below it would leave it out."""
    for sha, kind in found:
        report.findings.append(Finding(
            sha, "base-evidence-missing", f"the range's tip does not hold this ops commit "
            f"({kind}), which {ctx.base_ref} holds: evidence merged into the base is part of "
            f"every later streak", f"merge {ctx.rules.ops.base} into the ops branch (a plain "
            "merge), or start it from its tip and record again"))


def leaned_on(ctx: Context, ops: Sequence[OpsCommit], inside: set[str], start: str | None,
              stop: str) -> list[str]:
    """The ops commits below the range (the base's) that its streaks lean on, oldest
    first: the qualifying runs of each milestone's streak where the range starts and
    where it ends, the run commits whose tracker rows fall inside that streak's span (a
    run commit takes its row out of the hand-written rows, and with it the break a
    non-qualifying row would make), those its closures name, and every closure and void.
    They came in through the base, and a merge request that was no ops branch's (code
    merged into main with evidence trailers on its commits) was never verified: the walk
    judges them as it judges the range's own commits. A few commits, not the history."""
    below = [c for c in ops if c.sha not in inside]  # (newest first, as `ops`)
    if not below:
        return []
    named = {r for c in ops if c.sha in inside and c.kind == "milestone"
             for r in named_runs(c)}
    keep = {c.sha for c in below if c.kind in ("milestone", "void")
            or (c.is_run and c.run_id in named)}
    for mo in ctx.rules.milestone:
        for rev, commits in ((start, below), (stop, list(ops))):
            if rev is None:
                continue
            runs = ctx.streak(rev, mo, commits=commits).runs
            keep.update(c.sha for c in runs if c.sha not in inside)
            if runs:  # (rows from where the streak starts on)
                rows = _rows_since(ctx, rev, runs[0].trailers.get("Evidence-Started-At", ""))
                keep.update(c.sha for c in below if c.is_run and c.run_id in rows)
    return [c.sha for c in reversed(below) if c.sha in keep]


def _rows_since(ctx: Context, rev: str, since: str) -> set[str]:
    """The run ids of the tracker rows at ``rev`` placed at or after ``since`` (ISO UTC)."""
    from ..evidence.rows import placed, tracker_rows

    backlog = git.show_bytes(ctx.repo, rev, ctx.cfg.docs.backlog)
    return {run_id for run_id, date, _outcome, seconds in
            tracker_rows(backlog or b"", ctx.cfg.docs.tracker_section)
            if run_id and (placed(run_id, date, seconds) or "9") >= since}


def closed_milestones(ops: Sequence[OpsCommit]) -> set[str]:
    """The milestones a closure among ``ops`` closed (`streak.closure`'s: a well-formed
    one)."""
    return {mo for c in ops if c.kind == "milestone"
            and streaks.closure(ops, mo := c.trailers.get("Milestone", "")) is not None}


def read_closed(ctx: Context, report: Report, closed: set[str], rev: str,
                blame: str | None = None) -> None:
    """No text in the documents at ``rev`` (PROJECT_DESIGN.md, the backlog) says a
    milestone closed while the history holds no closure of it (``closed``;
    `said_closed`): however it got there (a code merge request merged past its `verify`
    job, a spelling no rule knew), a reader would be shown a closure of no runs.
    ``blame``: the commit the finding names (``rev`` by default)."""
    said = {(f.rule, f.path, f.lines) for f in report.findings}  # (a code change's own
    for path, mo, lines in said_closed(ctx, closed, rev):  # once)
        if ("milestone-closed-by-hand", path, lines) not in said:
            report.findings.append(Finding(
                blame or rev, "milestone-closed-by-hand", f"it says {mo} closed, and no "
                "closure in the history closed it", f"reword it on the base (a code merge "
                f"request; {READ_AS_OPEN}); `evidencebot close {mo}` closes it once the "
                "streak holds", path, lines))


def said_closed(ctx: Context, closed: set[str], rev: str) -> list[tuple[str, str, tuple[int, int]]]:
    """(path, milestone, its lines, 1-based) of each text in the documents at ``rev`` that
    says a milestone closed which no closure in ``closed`` closed (`code.claims`)."""
    from ..guard.code import claims, watched

    open_ones = watched([ctx.guard_rules]) - closed
    rules = ctx.guard_rules
    return [(path, mo, (a + 1, b + 1))
            for role, path in (("design", rules.design), ("backlog", rules.backlog))
            for mo, a, b in claims(git.show_bytes(ctx.repo, rev, path) or b"", role, rules,
                                   open_ones)]


def other_lines(ctx: Context, report: Report, stop: str) -> None:
    """No other ops branch on the remote holds ops commits that the range's tip and the
    base do not: a session recorded there is evidence too, and a closure recorded again
    on a branch of another name (a clone that never fetched the failed run) would leave
    it out. The remote's copy of the ops branch checked out here is left to the push,
    which rebuilds on it."""
    remote, branch = ctx.cfg.ops.remote, ctx.cfg.ops.branch
    own = f"refs/remotes/{remote}/{branch}" \
        if git.rev_parse(ctx.repo, f"refs/heads/{branch}") == stop else None
    prefix = f"refs/remotes/{remote}/"
    not_base = [f"^{ctx.base_ref}"] if ctx.base_ref else []
    for ref in git.out(ctx.repo, "for-each-ref", "--format=%(refname)", prefix).split():
        name = ref.removeprefix(prefix)
        if ref == own or not guard.applies(name, ctx.guard_rules, {}):
            continue
        raw = git.out(ctx.repo, "log", "--format=%H%x00%(trailers:key=Evidence-Kind,valueonly,"
                      "separator=%x2C)", ref, f"^{stop}", *not_base)
        held = [ln for ln in raw.splitlines() if ln.partition("\0")[2].strip()]
        if held:
            report.findings.append(Finding(
                stop, "ops-line-left-out", f"{remote}/{name} holds {len(held)} ops "
                "commit(s) this range does not: evidence recorded there is part of every "
                "streak", f"`git fetch --prune {remote}` first (a branch deleted there stays "
                f"here until then); then record on {name} (evidencebot rebuilds on it), or, "
                f"where its commits are no evidence, say why in the merge request and "
                f"delete it on {remote}"))


def dates(ctx: Context, report: Report, logged: Sequence[guard.Logged]) -> None:
    """No commit dated in the future (beyond the clock skew)."""
    limit = (ctx.now + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS)).timestamp()
    for c in logged:
        if max(c.committed, c.authored) > limit:
            report.findings.append(Finding(c.sha, "future-commit", "the commit is dated in the "
                                           "future", "check the clock of the recording machine"))


def signed_span(ctx: Context, ops: Sequence[OpsCommit], stop: str,
                inside: set[str]) -> list[str]:
    """The ops commits a signature is asked of besides the range's own (``inside``): every
    one from the oldest run that a milestone's streak at ``stop``, or a closure the range
    holds, counts on, the base's included (runs made without the runner's key could
    reach the base in a merge request that was no ops branch's, and count). A milestone
    the base closed is done: its streak was judged when its closure was merged."""
    where = {c.sha: i for i, c in enumerate(ops)}  # (newest first, as ``ops``)
    run_of = {c.run_id: c.sha for c in ops if c.is_run}
    counted: set[str] = set()
    for mo in ctx.milestones:
        s = ctx.streak(stop, mo, commits=ops)
        if s.closed_by is None or s.closed_by.sha in inside:
            counted.update(r.sha for r in s.runs)
    for c in ops:
        if c.sha in inside and c.kind == "milestone":
            counted.update(run_of.get(r, "") for r in named_runs(c))
    oldest = max((where[sha] for sha in counted if sha in where), default=-1)
    return [c.sha for c in ops[:oldest + 1]]


def signatures(ctx: Context, report: Report, shas: list[str], inside: set[str],
               ops: Sequence[OpsCommit]) -> None:
    """Every ops commit of ``shas`` signed by a key git trusts (gpg.ssh.allowedSignersFile
    & co); ``inside``: the range's own (the others are the base's, of ``ops``)."""
    if not shas:
        return
    raw = git.run(ctx.repo, "log", "--no-walk=unsorted", "--stdin", "--format=%H %G?",
                  input="\n".join(shas).encode()).decode()  # (a span: no long command line)
    runs = {c.sha for c in ops if c.is_run}
    for line in raw.splitlines():
        sha, status = line.split()
        if status == "G":
            continue
        what = "unsigned" if status == "N" else f"not signed by a trusted key ({status})"
        if sha in inside:
            report.findings.append(Finding(sha, "unsigned", f"the ops commit is {what}",
                                           "configure signing (commit.gpgsign, and the "
                                           "signers git trusts), then start the ops branch "
                                           "again from the base and record the runs anew: "
                                           "a commit is never re-signed in place"))
        else:
            report.findings.append(Finding(
                sha, "unsigned", f"the base's ops commit is {what}, and a streak the range "
                "holds counts from it", "a commit is never re-signed in place: " + (
                    "void its run with `evidencebot void RUN --reason ...` (signed), so "
                    "that no streak counts it" if sha in runs else
                    "record on until the streak starts after it (a run that does not "
                    "qualify, or a void, breaks it)")))


def check_squash(ctx: Context, report: Report, end: str, ops: set[str]) -> None:
    """Records added by a commit that is no ops commit: a squashed merge of the ops
    branch, its trailers gone."""
    folder = ctx.cfg.docs.evidence_dir.rstrip("/") + "/"
    raw = git.run(ctx.repo, "log", "-z", "--format=%x01%H", "--diff-filter=A", "--name-only",
                  end, "--", folder).decode("utf-8", "replace")
    for block in raw.split("\x01")[1:]:
        sha, _, names = block.partition("\n")
        records = [n for n in names.replace("\x00", "\n").split("\n") if n.endswith(".json")]
        if sha.strip("\x00") not in ops and records:
            report.squashed = True
            report.findings.append(Finding(
                sha.strip("\x00"), "history-squashed",
                f"the history was squashed: this commit adds {len(records)} evidence "
                "record(s) without their ops commits, so their trailers are gone",
                "merge the ops branch with a merge commit; do not squash"))
