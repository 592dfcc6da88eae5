"""The merge-request description of a closure, committed as
``reports/evidence/milestones/MO-n.md`` (git refuses multi-line push options, so GitLab's
description option can only point at it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .. import __version__, git
from ..evidence.history import OpsCommit
from ..evidence.stamps import git_date
from ..evidence.streak import Streak
from ..evidence.void import void_reasons
from ..evidence.why import reasons_of, short
from ..ledger.workspace import Context
from ..templating import render
from ..textsafe import markdown
from .report import closure_page, page_path


def title_for(mo: str) -> str:
    return f"Close {mo}: Step 1A burn-in streak met"


def rerender(ctx: Context, closure: OpsCommit, parent: str) -> dict[str, str]:
    """Every file `close` rendered for ``closure``, by path: the description and the report
    page, from the history at ``parent`` and the closure's date alone (verify compares)."""
    mo = closure.trailers.get("Milestone", "")
    closed_at = closed_at_of(ctx, closure)
    s = ctx.streak(parent, mo)
    description = describe(ctx, s, closed_at.strftime("%Y-%m-%d %H:%M UTC"), parent)
    page = closure_page(ctx, parent=parent, milestone=mo, closed_on=f"{closed_at:%Y-%m-%d}",
                        runs=[r.run_id for r in s.evidence_runs])
    path = f"{ctx.cfg.docs.milestone_dir.rstrip('/')}/{mo}"
    return {f"{path}.md": description, page_path(ctx, mo): page}


def closed_at_of(ctx: Context, closure: OpsCommit) -> datetime:
    """When ``closure`` closed its milestone, as `close` wrote it: its author date (UTC)."""
    authored = git.out(ctx.repo, "show", "-s", "--format=%aI", closure.sha)
    return git_date(authored)


def describe(ctx: Context, s: Streak, closed_at: str, tip: str) -> str:
    """The merge-request description for closing at ``tip`` (the closure's parent): a
    function of the history at ``tip`` alone, so `verify` can render it again."""
    runs = [{**run_view(r), **_said(ctx, r)} for r in s.evidence_runs]
    by_hand = [r["run_id"] for r in runs if not r["by_run"]]  # (`by_hand`, from `_said`)
    span = sorted(r.started or r.date for r in s.evidence_runs)
    on_gateway = [c.run_id for c in s.attempts if span and span[0] <= (c.started or c.date)
                  <= span[-1] and _on_gateway(ctx, c)]
    attempts = attempts_view(s, reasons_of(ctx.repo, s.attempts))
    ops = ctx.history(tip)
    checks = sorted({r["checks"] for r in runs if r["checks"]})
    chart = [{"run_id": a["run_id"], "filled": _int(r.get("filled")),
              "data_pct": round(float(r.get("data_ratio") or 0) * 100, 1)}
             for a in attempts for r in [_metrics(s, a["commit"])] if a["kind"] ==
             "step1a-burnin" and r]
    return render(
        "merge_request.md.j2", milestone=s.milestone, title=title_for(s.milestone),
        branch=ctx.cfg.ops.branch, base=ctx.cfg.ops.base, consecutive=s.needed,
        closed_at=closed_at, generated_by=f"evidencebot {__version__}", streak_runs=runs,
        page=page_path(ctx, s.milestone),
        attempts=attempts, chart_runs=chart, checks=checks or ["(recorded by hand)"],
        by_hand=by_hand, on_gateway=on_gateway, pinned=ctx.rules.ops.allow_pinned_clock,
        verify={"ok": True, "summary": f"{len(ops)} ops commit(s), "
                f"{sum(c.is_run for c in ops)} run(s) checked", "violations": []},
        handoffs=[a["handoff"] for a in attempts if a["handoff"]],
        retries=[f"{a['run_id']}: {a['retry']}" for a in attempts if a["retry"]])


def _metrics(s: Streak, sha: str) -> dict[str, str] | None:
    for c in s.attempts:
        if c.sha == sha and c.trailers.get("Burnin-Filled-Orders"):
            return run_view(c)
    return None


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _record(ctx: Context, c: OpsCommit) -> dict[str, Any]:
    """Run ``c``'s record as its commit holds it ({} when unreadable)."""
    path = c.trailers.get("Evidence-Record", "")
    from ..evidence.history import committed_dict

    return committed_dict(git.show_bytes(ctx.repo, c.sha, path) if path else None)


def _on_gateway(ctx: Context, c: OpsCommit) -> bool:
    """Whether attempt ``c`` (among the named runs) is neutral only because the gateway
    went away after it: with the gateway up its kept log and exit code read as a code
    failure, which breaks the streak (`messages.readings`, as `verify` reads them), and
    whether it was up is the one fact the evidence does not hold, so the reviewer is
    asked."""
    from ..ledger.messages import log_path, readings

    path = c.trailers.get("Evidence-Record", "")
    if c.outcome not in ("failed-infra", "failed-market-data") or not path.endswith(".json"):
        return False
    session = _record(ctx, c).get("session")
    code = session.get("exit_code") if isinstance(session, dict) else None
    up, _gone = readings(ctx, exit_code=code if isinstance(code, int) else None,
                         log=git.show_bytes(ctx.repo, c.sha, log_path(path)))
    return up.outcome == "failed-code"


def by_hand(ctx: Context, runs: Sequence[OpsCommit]) -> list[str]:
    """The run ids of ``runs`` recorded by hand (a report given to `record`, not a session
    `run` ran: `_said`)."""
    return [c.run_id for c in runs if not _said(ctx, c)["by_run"]]


def no_longer_qualifying(ctx: Context, runs: Sequence[OpsCommit]) -> str | None:
    """Which of ``runs`` (recorded qualifying) the base's [qualify] of today no longer
    qualifies, by their recorded metrics, said in one line; None when it qualifies them
    all. verify judges every run by the base's rules of today (outcome-mismatch), so a
    streak the history counts may not be one `close` can close (found by an adversary:
    after a reviewed tightening `record` said "3/3, close now" and `close` refused)."""
    from ..evidence.record import EvidenceRecord, read_file
    from ..evidence.verdict import verdict

    failed = []
    for c in runs:
        path = c.trailers.get("Evidence-Record", "")
        try:
            record = read_file(EvidenceRecord, git.show_bytes(ctx.repo, c.sha, path) or b"")
        except ValueError:
            continue  # (verify says what is wrong with it)
        if record.metrics is None:
            continue
        v = verdict(record.metrics, ctx.rules.qualify, code_dirty=record.code.dirty is True)
        if not v.qualifying:
            failed.append(f"{c.run_id} ({'; '.join(v.reasons)})")
    if not failed:
        return None
    return (f"by the base's [qualify] of today, {', '.join(failed)} no longer qualifies: "
            "verify refuses it as qualifying (outcome-mismatch) and `close` with it; put "
            "[qualify] back through review, or record the burn-in anew")


def _said(ctx: Context, c: OpsCommit) -> dict[str, Any]:
    """What run ``c``'s record says beside its metrics: whether `run` made it (its session
    holds the wrapper's command; `record` leaves it empty), the pre-run checks, and where the
    wrapper's own verdict (its report's ``passed``) disagreed with the thresholds, that
    disagreement: the thresholds decide, and the reviewer sees both (the wrapper's own
    reasons are in the record, read through no [report.fields] pointer, and not repeated
    here: a report's free text has no place in the description)."""
    doc = _record(ctx, c)

    def part(key: str) -> dict[str, Any]:
        value = doc.get(key)
        return value if isinstance(value, dict) else {}

    return {"by_run": bool(part("session").get("command")),
            "checks": str(part("session").get("checks") or ""),
            "disagreement": markdown(str(part("verdict").get("disagreement") or ""))}


def attempts_view(s: Streak, reasons: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every attempt since the last closure, in the order they happened (a run at its
    start, anything else when it was committed), with why it did not count."""
    rows = []
    voids = void_reasons(s.attempts)
    for c in sorted(s.attempts, key=lambda c: c.started or c.date):
        t = c.trailers
        outcome = c.outcome or (f"refused: {t['Check-Failed']}" if "Check-Failed" in t
                                else t.get("Milestone-Status", c.kind))
        notes = [short(reasons[c.sha])] if c.sha in reasons and c.is_run else []
        if c.kind == "void":
            notes.append(f"voids the run: {t.get('Void-Reason', '')}")
        elif c.is_run and c.run_id in voids:
            outcome += " (voided)"
        notes += [f"handoff {t['Handoff']}"] if t.get("Handoff") else []
        notes += [f"retry {t['Retry-After']}"] if t.get("Retry-After") else []
        rows.append({"commit": c.sha, "date": _when(c), "kind": c.kind, "run_id": c.run_id,
                     "outcome": outcome, "note": markdown("; ".join(notes)),
                     "handoff": t.get("Handoff", ""), "retry": t.get("Retry-After", "")})
    return rows


def _when(c: OpsCommit) -> str:
    """A run's start (when it ran, not when it was recorded), else the commit's time."""
    return (c.started or c.date)[:16].replace("T", " ")


def run_view(c: OpsCommit) -> dict[str, str]:
    t = c.trailers
    return {"run_id": c.run_id, "commit": c.sha, "date": _when(c),
            "duration_s": t.get("Burnin-Paper-Duration-Seconds", ""),
            "filled": t.get("Burnin-Filled-Orders", ""),
            "data_ratio": t.get("Burnin-Symbol-Data-Availability-Ratio", ""),
            "min_bars": t.get("Burnin-Min-Bars-Per-Symbol", ""),
            "client_id": t.get("Ibkr-Client-Id", ""), "outcome": c.outcome,
            "record": t.get("Evidence-Record", ""), "code": _code(t)}


def _code(t: Mapping[str, str]) -> str:
    """The code a run tested: short commit and clean / dirty / unknown."""
    commit = t.get("Code-Commit", "")
    state = {"false": "clean", "true": "dirty"}.get(t.get("Code-Dirty", ""), "unknown")
    return f"`{commit[:10]}` {state}" if commit and commit != "none" else state
