"""`evidencebot report`: the burn-in as one HTML page (milestone/page.py), built from the
history alone — the ops commits, their records and the void and check records — so the
page `close` commits next to the description can be rendered again by `verify`.

Nothing here reads the clock or the working tree: the same history gives the same page.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from .. import git
from ..defaults import CHECKS_DIR
from ..evidence.history import OpsCommit, committed_dict
from ..evidence.stamps import git_date, stamp
from ..evidence.streak import named_runs
from ..evidence.void import void_reasons
from ..evidence.why import reasons_of
from ..ledger.workspace import Context
from .page import PageData, RunPoint, Thresholds, render_page

DEFAULT_NAME = "report.html"


def page_path(ctx: Context, milestone: str) -> str:
    """Where `close` commits the page: next to the description."""
    return f"{ctx.cfg.docs.milestone_dir.rstrip('/')}/{milestone}.html"


def closure_page(ctx: Context, *, parent: str, milestone: str, closed_on: str,
                 runs: Sequence[str]) -> str:
    """The page committed with the closure of ``milestone`` on ``parent``: the history at
    the parent, the milestone CLOSED on ``closed_on`` by ``runs``; links relative to the
    page's folder."""
    depth = len(page_path(ctx, milestone).split("/")) - 1
    return render_page(page_data(ctx, parent, milestone=milestone, link_prefix="../" * depth,
                                 closing=(closed_on, tuple(runs))))


def write_report(ctx: Context, output: Path | None) -> Path:
    """The page for the ops branch's tip, written to ``output`` (default: under the git
    common dir, so no work tree changes); links relative to where it is written."""
    out = output or git.state_path(ctx.repo, DEFAULT_NAME)
    out = out if out.is_absolute() else Path.cwd() / out
    if output is not None and not out.parent.is_dir():  # (a typo makes no folders)
        from ..errors import UsageError

        raise UsageError(f"--output {output}: no folder {out.parent}",
                         fix="create the folder first, or name a file in one that exists")
    try:
        prefix = os.path.relpath(ctx.repo, out.parent).replace(os.sep, "/") + "/"
    except ValueError:  # another drive (Windows): no relative way there
        prefix = ctx.repo.as_uri() + "/"
    html = render_page(page_data(ctx, ctx.tip().sha, milestone=ctx.milestone,
                                 link_prefix="" if prefix == "./" else prefix))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def page_data(ctx: Context, rev: str, *, milestone: str, link_prefix: str,
              closing: tuple[str, tuple[str, ...]] | None = None) -> PageData:
    """What the page shows at ``rev``; ``closing``: (date, runs) of a closure being made on
    ``rev`` (otherwise the history says whether and when the milestone closed)."""
    commits = ctx.history(rev)
    s = ctx.streak(rev, milestone, commits=commits)
    if closing is None and s.closed_by is not None:
        closing = (s.closed_by.date[:10], named_runs(s.closed_by))
    return PageData(
        milestone=milestone, count=s.count, needed=s.needed, closed=closing is not None,
        closed_on=closing[0] if closing else None,
        closure_runs=closing[1] if closing else (), branch=ctx.cfg.ops.branch,
        runs=tuple(points(ctx, rev, commits, {r.sha for r in s.runs})),
        thresholds=thresholds(ctx, commits), link_prefix=link_prefix)


def points(ctx: Context, rev: str, commits: Sequence[OpsCommit],
           streak: set[str]) -> list[RunPoint]:
    """Every run and refused session in ``commits``, oldest first."""
    voids = void_reasons(commits)
    reasons = reasons_of(ctx.repo, commits)
    checks = _check_records(ctx, rev)
    out = []
    for c in reversed(commits):
        if c.problems:
            continue
        t = c.trailers
        if c.is_run:
            why = list(reasons.get(c.sha, ()))
            if c.run_id in voids:
                why.append(f"voided: {voids[c.run_id]}")
            out.append(RunPoint(
                run_id=c.run_id, started_at=c.started or _utc(c.date), kind="run",
                outcome=c.outcome, filled=_num(t.get("Burnin-Filled-Orders"), int),
                ratio=_num(t.get("Burnin-Symbol-Data-Availability-Ratio"), float),
                min_bars=_num(t.get("Burnin-Min-Bars-Per-Symbol"), int), reasons=tuple(why),
                record=t.get("Evidence-Record"), in_streak=c.sha in streak,
                voided=c.run_id in voids))
        elif c.kind == "check":
            record = checks.get(c.sha)
            name = record.rsplit("/", 1)[-1][:-len(".json")] if record else c.sha[:12]
            out.append(RunPoint(
                run_id=f"refused {name}", started_at=_utc(c.date), kind="refused",
                outcome="refused", filled=None, ratio=None, min_bars=None,
                reasons=reasons.get(c.sha, ()), record=record, in_streak=False,
                voided=False))
    return out


def thresholds(ctx: Context, commits: Sequence[OpsCommit]) -> Thresholds:
    """The thresholds the newest run was judged by, from its record (history alone); the
    base config's before the first run."""
    q = ctx.rules.qualify
    doc: dict[str, object] = {"min_filled_orders": q.min_filled_orders,
                              "min_symbol_data_availability_ratio":
                                  q.min_symbol_data_availability_ratio,
                              "min_bars_per_symbol": q.min_bars_per_symbol}
    runs = [c for c in commits if c.is_run and not c.problems and c.outcome in
            ("qualifying", "non-qualifying")]
    if runs:
        newest = max(runs, key=lambda c: c.started or c.date)
        data = git.show_bytes(ctx.repo, newest.sha, newest.trailers.get("Evidence-Record", ""))
        found = committed_dict(data).get("thresholds")
        if isinstance(found, dict):
            doc.update({k: v for k, v in found.items() if k in doc})
    return Thresholds(min_filled=_num(doc["min_filled_orders"], int) or 0,
                      min_ratio=_num(doc["min_symbol_data_availability_ratio"], float) or 0.0,
                      min_bars=_num(doc["min_bars_per_symbol"], int) or 0)


def _check_records(ctx: Context, rev: str) -> dict[str, str]:
    """Check commit -> the check record it added (one `git log` for all of them)."""
    raw = git.run(ctx.repo, "log", "-z", "--format=%x01%H", "--diff-filter=A", "--name-only",
                  rev, "--", f"{CHECKS_DIR}/").decode("utf-8", "replace")
    out = {}
    for block in raw.split("\x01")[1:]:
        sha, _, names = block.partition("\n")
        found = [n for n in names.split("\x00") if n.strip("\n").endswith(".json")]
        if found:
            out[sha.strip("\x00\n")] = found[0].strip("\n")
    return out


_N = TypeVar("_N", int, float)


def _num(value: Any, kind: type[_N]) -> _N | None:
    """``value`` as a number of ``kind``; None when it is absent or not one."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def _utc(iso: str) -> str:
    """A commit date (ISO 8601 with offset) as the page's "…Z" UTC form."""
    try:
        return stamp(git_date(iso))
    except ValueError:
        return iso
