"""Unattended operation: when the next run may start, which market-data retry is still
pending, and the scheduled job that starts `evidencebot run` (cron, systemd, Task Scheduler)
as the config's window says. The clock and the history are passed in."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..config import Config
from ..defaults import RUN_MARGIN_SECONDS, whole_run_seconds
from ..errors import UsageError
from ..evidence.history import OpsCommit
from ..evidence.report import parse_instant
from ..evidence.stamps import stamp
from ..evidence.window import (
    DAYS,
    Window,
    closed_reason,
    interval_problem,
    next_window_start,
)
from ..frozen import frozen
from . import schedule

SHOWN_SKIPPED = 6  # closed days named in a reason before "…"
FORMATS = ("cron", "systemd", "windows")


@frozen
class PendingRetry:
    """A retry scheduled by a market-data failure that no later run has answered."""

    at: datetime
    run_id: str
    commit: str

    def due(self, now: datetime) -> bool:
        return self.at <= now


def pending_retry(commits: Sequence[OpsCommit]) -> PendingRetry | None:
    """The `Retry-After` of the latest run (by its start) when that run is a market-data
    failure: any later run, whatever its outcome, is the retry."""
    runs = [c for c in commits if c.is_run and not c.problems and c.started]
    if not runs:
        return None
    latest = max(runs, key=lambda c: c.started)
    retry = latest.trailers.get("Retry-After")
    if latest.outcome != "failed-market-data" or not retry:
        return None
    try:
        at = parse_instant(retry)
    except UsageError:
        return None
    return PendingRetry(at, latest.run_id, latest.sha)


@frozen
class NextStart:
    start: datetime
    reason: str
    pending_retry: PendingRetry | None
    run_seconds: int

    def to_json(self) -> dict[str, Any]:
        retry = self.pending_retry
        return {"next_start": stamp(self.start), "reason": self.reason,
                "pending_retry": stamp(retry.at) if retry else None}


def next_start(*, now: datetime, paper_seconds: int, window: Window,
               commits: Sequence[OpsCommit]) -> NextStart:
    """The earliest start at or after ``now`` that lets a whole run (the paper session plus
    RUN_MARGIN_SECONDS) end inside the window, skipping closed days, bank holidays and blackouts;
    and why it is not now. ValueError when a run never fits the window."""
    now = now.astimezone(UTC).replace(microsecond=0)
    run_seconds = whole_run_seconds(paper_seconds)
    start = next_window_start(after=now, run_seconds=run_seconds, window=window)
    whole = f"a {run_seconds} s run ({paper_seconds} s on paper + {RUN_MARGIN_SECONDS} s margin)"
    if start == now:
        reason = f"{now:%a %H:%M} UTC is inside {window.describe()}: {whole} fits now"
    else:
        why = [interval_problem(now, now + timedelta(seconds=run_seconds), window) or
               f"{whole} does not fit now"]
        days = (start.date() - now.date()).days
        skipped = [r for d in range(1, days) if (r := closed_reason(
            now.date() + timedelta(days=d), window))]
        if len(skipped) > SHOWN_SKIPPED:
            skipped = [*skipped[:SHOWN_SKIPPED], "…"]
        reason = "; ".join([*why, *skipped]) + f"; next: {start:%a %Y-%m-%d %H:%M} UTC"
    return NextStart(start, reason, pending_retry(commits), run_seconds)


# --- the scheduled job ---------------------------------------------------------------------

def evidencebot_command(python: str, *, windows: bool) -> tuple[str, tuple[str, ...]]:
    """(executable, launcher arguments) that start this evidencebot: the console script next
    to ``python`` (the interpreter running now), else ``python -m evidencebot``."""
    here = Path(os.path.abspath(python))
    script = here.with_name("evidencebot.exe" if windows else "evidencebot")
    if script.is_file():
        return str(script), ()
    return str(here), ("-m", "evidencebot")


def _any_day(window: Window) -> Window:
    """The window's hours and blackouts on a day it is open (no weekday, no holiday)."""
    return Window(DAYS, window.start, window.end, "", window.blackout)


REFERENCE_DAY = date(2024, 1, 1)


# A scheduled start is run within its minute (cron, a timer, Task Scheduler), not on it:
# 15:25 for a 35-minute run in a window closing at 16:00 was refused at 15:25:02 every day
# (found by a newcomer)
START_LATENCY_SECONDS = 60


def start_problem(at: time, *, window: Window, run_seconds: int) -> str | None:
    """Why a run started every session day at ``at`` (UTC, within its minute) would not
    fit the window's hours or would overlap a blackout; None when it fits."""
    start = datetime.combine(REFERENCE_DAY, at, tzinfo=UTC)
    end = start + timedelta(seconds=run_seconds + START_LATENCY_SECONDS)
    return interval_problem(start, end, _any_day(window))


def default_start(window: Window, *, run_seconds: int) -> time:
    """The scheduled start: five minutes after the window opens (the run's checks need it
    open), later if a blackout is in the way. ValueError when nothing fits that day."""
    first = datetime.combine(REFERENCE_DAY, schedule.default_at(window.start), tzinfo=UTC)
    try:
        start = next_window_start(after=first, run_seconds=run_seconds +
                                  START_LATENCY_SECONDS, window=_any_day(window))
    except ValueError as e:
        raise ValueError(f"no start time fits: {e}") from None
    if start.date() != REFERENCE_DAY:
        raise ValueError(f"no start time after {first:%H:%M} UTC lets a {run_seconds} s run "
                         f"end inside {window.describe()}")
    return start.time()


def job_for(cfg: Config, *, repo: Path, config: Path | None, at: time, log: Path,
            python: str, windows_host: bool, fmt: str,
            search_path: str | None = None) -> schedule.Job:
    """The scheduled `run` for this repository and the base's config (``cfg``: its window
    days and the run's timeout, as `run` reads them). Task Scheduler keeps no output, so
    the Windows task passes `--log-file`; cron and systemd append stdout to ``log``, and
    start it with ``search_path`` as its PATH (Task Scheduler starts it with the user's)."""
    executable, launcher = evidencebot_command(python, windows=windows_host)
    days = tuple(d for d in schedule.DAYS if d in set(cfg.window.days))
    return schedule.Job(days=days, at=at, executable=executable, repo=str(repo),
                        timeout_seconds=cfg.burnin.timeout_seconds, log=str(log),
                        config=str(config) if config is not None else None,
                        launcher=launcher,
                        run_args=("--log-file", str(log)) if fmt == "windows" else (),
                        search_path=search_path if fmt != "windows" else None)


def schedule_files(fmt: str, job: schedule.Job) -> dict[str, bytes]:
    """The files ``fmt`` installs, by name, as bytes (the Task XML in UTF-16 with a BOM).
    ValueError when the job's paths do not suit the scheduler."""
    if fmt == "cron":
        return {f"{schedule.NAME}.cron": schedule.cron(job).encode("utf-8")}
    if fmt == "systemd":
        return {name: text.encode("utf-8") for name, text in schedule.systemd(job).items()}
    if fmt == "windows":
        return {f"{schedule.NAME}.xml": schedule.windows_bytes(job)}
    raise ValueError(f"unknown schedule format {fmt!r}; known: {', '.join(FORMATS)}")


def install_hint(fmt: str, paths: Sequence[str]) -> str:
    """How to install the written files."""
    import shlex  # (cron and systemd are POSIX's: a folder with spaces, pasted)

    if fmt == "cron":
        return f"install: crontab -e and add the lines of {paths[0]} (or: (crontab -l; cat " \
               f"{shlex.quote(paths[0])}) | crontab -)"
    if fmt == "systemd":
        return (f"install: cp {shlex.join(paths)} ~/.config/systemd/user/ && systemctl --user "
                f"daemon-reload && systemctl --user enable --now {schedule.TIMER}")
    return f'install: schtasks /Create /XML "{paths[0]}" /TN {schedule.NAME}'
