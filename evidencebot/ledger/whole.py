"""`verify`'s checks of a range as a whole, beside the walk over its commits: every commit
descends from the base branch, none is dated in the future, ops commits are signed where
that is asked, and a history merged into the base was not squashed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from .. import git
from ..defaults import MAX_CLOCK_SKEW_SECONDS
from ..guard import changes as guard
from .findings import Finding, Report
from .workspace import Context


def descendants(repo: Path, base_ref: str | None, stop: str) -> tuple[str, set[str]]:
    """(the merge base of the base branch and ``stop``, the commits descending from it up
    to ``stop``); nothing without a base branch."""
    if base_ref is None:
        return "", set()
    mb = git.out(repo, "merge-base", base_ref, stop, ok=(0, 1)).strip()
    # --ancestry-path: a history merged in from elsewhere is reachable from the tip but
    # does not descend from the base.
    return mb, set(git.out(repo, "rev-list", "--ancestry-path", f"{mb}..{stop}").split()) \
        if mb else set()


def descent(ctx: Context, report: Report, shas: Sequence[str],
             found: tuple[str, set[str]]) -> None:
    """Every commit in the range descends from the base branch (no orphan roots);
    ``found``: what `_descendants` found."""
    if ctx.base_ref is None:
        return
    mb, descendants = found
    others = [sha for sha in shas if sha not in descendants]
    on_base = set(git.out(ctx.repo, "rev-list", ctx.base_ref).split()) if mb and others \
        else set()
    for sha in others:
        if sha not in on_base:
            report.findings.append(Finding(
                sha, "not-from-base", f"this commit does not descend from {ctx.base_ref}",
                f"ops branches start from {ctx.rules.ops.base}"))


def dates(ctx: Context, report: Report, logged: Sequence[guard.Logged]) -> None:
    """No commit dated in the future (beyond the clock skew)."""
    limit = (ctx.now + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS)).timestamp()
    for c in logged:
        if max(c.committed, c.authored) > limit:
            report.findings.append(Finding(c.sha, "future-commit", "the commit is dated in the "
                                           "future", "check the clock of the recording machine"))


def signatures(ctx: Context, report: Report, shas: list[str]) -> None:
    """Every ops commit signed by a key git trusts (gpg.ssh.allowedSignersFile & co)."""
    if not shas:
        return
    raw = git.out(ctx.repo, "show", "-s", "--format=%H %G?", *shas)
    for line in raw.splitlines():
        sha, status = line.split()
        if status != "G":
            what = "unsigned" if status == "N" else f"not signed by a trusted key ({status})"
            report.findings.append(Finding(sha, "unsigned", f"the ops commit is {what}",
                                           "configure signing (commit.gpgsign) and record "
                                           "again"))


def check_squash(repo: Path, report: Report, end: str, ops: set[str]) -> None:
    raw = git.run(repo, "log", "-z", "--format=%x01%H", "--diff-filter=A", "--name-only",
                  end, "--", "reports/evidence/").decode("utf-8", "replace")
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
