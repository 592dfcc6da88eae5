"""`verify`'s body: what its click command (`verify`) and its plain command line (`fast`)
both run. No click here."""

from __future__ import annotations

from typing import Any

from ..textsafe import line
from .state import State, echo


def verify(state: State, range_: str | None, base: str | None, require_signed: bool) -> int:
    """`evidencebot verify` (its click command calls this too)."""
    from .. import git
    from ..ledger.base import base_at
    from ..ledger.verify import verify as run_verify
    from ..ledger.verify import verify_context

    top = state.top()
    with git.reading(top):  # one cat-file process for the config, the rules and the blobs
        ctx = verify_context(top, base=base_at(top) if base is None else base, clock=state.clock,
                             named=base is not None)
        state.adopt(ctx)  # the pinned clock is allowed or not by this base's config
        report = run_verify(ctx, spec=range_, describe=_rerender,
                            require_signed=require_signed)
    if state.as_json:
        state.emit(verify_out(ctx, report))
    else:
        echo(f"verify {report.range}: {report.commits} commit(s), {len(report.runs)} run(s)")
        if not report.commits and not report.squashed:
            ops = ctx.rules.ops
            branch = ops.branch  # (a fresh clone has it at its remote only: newcomer 12)
            if git.rev_parse(top, f"refs/heads/{branch}") is None and \
                    git.rev_parse(top, f"refs/remotes/{ops.remote}/{branch}") is not None:
                branch = f"{ops.remote}/{branch}"
            echo(f"nothing to judge here: run it on {ops.branch}, or give the range, "
                 f"e.g. --range {ops.base}..{branch}" if range_ is None else
                 f"the range holds no commits: A..B is what B holds and A does not (the "
                 f"ops branch's: --range {ops.base}..{branch})")
        if report.code:
            echo("no ops commits in the range: judged as code, which writes no evidence and "
                 "closes no milestone")
        if report.squashed:
            echo("the history was squashed: the ops commits' trailers are gone; merge ops "
                 "branches with a merge commit")
        for f in report.findings:  # (paths and messages from the commits: made inert)
            echo(f"  {line(f.render())}")
        echo("OK" if report.ok else f"FAILED: {len(report.findings)} violation(s)")
    return 0 if report.ok else 1


def verify_out(ctx: Any, report: Any) -> Any:
    """verify's report in the --json contract's shape (each run with its reasons, read from
    its record)."""
    from ..evidence.why import reasons_of
    from .contract import VerifyOut, Violation, run_of_commit

    why = reasons_of(ctx.repo, report.run_commits)
    runs = [run_of_commit(c, reasons=list(why.get(c.sha, ()))) for c in report.run_commits]
    return VerifyOut(ok=report.ok, range=report.range, commits=report.commits, runs=runs,
                     squashed=report.squashed, code=report.code,
                     violations=[Violation(**f.to_json()) for f in report.findings])


def _rerender(ctx: Any, closure: Any, parent: str) -> Any:
    """`milestone.closure.rerendered`, imported only when the range holds a closure."""
    from ..milestone.closure import rerendered

    return rerendered(ctx, closure, parent)
