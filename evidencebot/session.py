"""`run`: checks → burn-in command → report → record (→ closure, in a later step)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import evidence, recorder, runner
from .config import Burnin
from .errors import RunFailed, UsageError
from .recorder import Context, Judge, RecordResult
from .report import load_json, metrics_from


@dataclass(frozen=True)
class RunPlan:
    argv: list[str]
    params: Burnin
    client_id: int | None
    report: Path

    def to_json(self) -> dict[str, Any]:
        return {"command": self.argv, "client_id": self.client_id, "report": str(self.report),
                "params": self.params.model_dump()}


def plan(ctx: Context, overrides: Mapping[str, Any], *, client_id: int | None) -> RunPlan:
    """The command line the wrapper gets: config values, then command-line overrides."""
    params = ctx.cfg.burnin.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        params = Burnin.model_validate(params.model_dump())
    except Exception as e:  # pydantic ValidationError: one line for the user
        raise UsageError(f"bad run parameter: {e}".splitlines()[0]) from None
    return RunPlan(runner.expand(params.command, params), params, client_id,
                   ctx.repo / params.report)


def execute(
    ctx: Context,
    run_plan: RunPlan,
    *,
    checks_summary: str,
    progress: runner.Progress | None = None,
    judge: Judge | None = None,
) -> RecordResult:
    """Run the burn-in once and record the report it produced.

    Raises RunFailed (exit 4) when the command produced no fresh report.
    """
    started = ctx.now
    wall_start = time.time()  # file mtimes are wall-clock; the report must be newer
    env = {"IBKR_CLIENT_ID": str(run_plan.client_id)} if run_plan.client_id is not None else {}
    done = runner.run_command(run_plan.argv, cwd=ctx.repo, env=env,
                              timeout=run_plan.params.timeout_seconds, progress=progress)
    fresh = _fresh_report(ctx, run_plan.report, started=started.replace(microsecond=0),
                          wall_start=wall_start)
    if done.timed_out or done.exit_code != 0 or fresh is None:
        why = ("timed out after " f"{run_plan.params.timeout_seconds:g} s" if done.timed_out
               else f"exited {done.exit_code}" if done.exit_code != 0
               else f"left no fresh report at {run_plan.params.report}")
        raise RunFailed(f"the burn-in command {why}; nothing was recorded as a run")
    session = evidence.SessionInfo(
        command=run_plan.argv, checks=checks_summary, client_id=run_plan.client_id,
        exit_code=done.exit_code,
    )
    return recorder.record_report(ctx, run_plan.report, log=done.log, session=session,
                                  judge=judge)


def _fresh_report(ctx: Context, path: Path, *, started: Any, wall_start: float) -> Path | None:
    """The report when this run wrote it (newer file, finished after the start), else None."""
    if not path.is_file() or path.stat().st_mtime < wall_start - 1e-3:
        return None
    try:
        m = metrics_from(load_json(path.read_bytes(), source=str(path)),
                         ctx.cfg.report.fields, source=str(path))
    except UsageError:
        return path  # a fresh but malformed report is bad input: record() says why
    return path if m.finished_at >= started else None
