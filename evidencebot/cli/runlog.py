"""What `run` says while it runs. In a terminal: the checks table and a live line with the
elapsed and expected time and the retries. Anywhere else (cron, Task Scheduler, a pipe):
timestamped lines anyone can follow afterwards —

    2026-11-25T09:05:00Z checks: window ok; health ok; kill-switch ok; gateway ok; client-id ok
    2026-11-25T09:05:01Z burn-in started: client id 18, 1800 s on paper, expected end …
    2026-11-25T09:10:01Z burn-in 05:00 of 30:00

`--quiet` keeps only the outcome line (errors still go to stderr); `--log-file` appends every
line, timestamped, to a file whatever stdout is. Times come from the CLI's clock (pinned by
EVIDENCEBOT_NOW in the demo and the tests); progress lines add the wrapper's monotonic
elapsed time to the moment it started."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:  # the run's steps; the burn-in module is loaded only when a run runs
    from ..runbook.burnin import Step
from ..evidence.stamps import stamp
from .output import safe, show_checks

PROGRESS_EVERY = 300.0  # seconds between progress lines in the log


def clock_text(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` from an hour): 600 -> 10:00."""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class RunLog:
    """One run's log. ``tty``: a person is watching stdout; ``quiet``: only the last line;
    ``machine``: --json owns stdout (nothing but the file is written)."""

    def __init__(self, *, clock: Callable[[], datetime], expected_seconds: int,
                 timeout_seconds: float, tty: bool, quiet: bool = False, machine: bool = False,
                 file: IO[str] | None = None, every: float = PROGRESS_EVERY) -> None:
        self.clock = clock
        self.expected = expected_seconds
        self.timeout = timeout_seconds
        self.tty, self.quiet, self.machine = tty, quiet, machine
        self.file = file
        self.every = every
        self.last = ""  # the final line so far (quiet mode prints it at the end)
        self.retries = 0
        self._started: datetime | None = None
        self._shown: datetime | None = None  # the time of the last line written
        self._next_tick = every
        self._bar: Any = None
        self._task: Any = None

    @property
    def lines(self) -> bool:
        """Timestamped lines on stdout (not a terminal, not quiet, not --json)."""
        return not (self.tty or self.quiet or self.machine)

    def say(self, text: str, *, when: datetime | None = None) -> None:
        """One line of the log."""
        line = f"{self._stamp(when)} {text}"
        if self.file is not None:
            self.file.write(line + "\n")
            self.file.flush()
        if self.lines:
            click.echo(line)
        elif self.tty and not (self.quiet or self.machine):
            if self._bar is not None:
                self._bar.console.print(safe(text))
            else:
                click.echo(text)

    def warn(self, text: str) -> None:
        """A warning: a line of the log, and on stderr where the log is not shown."""
        self.say(f"warning: {text}")
        if self.quiet or self.machine:
            click.echo(f"evidencebot: warning: {text}", err=True)

    def final(self, text: str) -> None:
        """The run's outcome: printed now, or (quiet) kept to be printed at the end."""
        self.last = text
        if self.quiet and not self.machine:
            if self.file is not None:
                self.file.write(f"{self._stamp()} {text}\n")
            return
        self.say(text)

    def error(self, text: str) -> None:
        """A failure the CLI reports on stderr; the log file keeps it too."""
        if self.file is not None:
            self.file.write(f"{self._stamp()} error: {text}\n")
            self.file.flush()

    def checks(self, pre: Any) -> None:
        if self.tty and not (self.quiet or self.machine):
            show_checks(pre)
            if self.file is not None:
                self.file.write(f"{self._stamp()} checks: {pre.summary}\n")
            return
        self.say(f"checks: {pre.summary}")

    def step(self, step: Step) -> None:
        if step.kind == "start":
            self._started, self._next_tick = self.clock(), self.every
            end = self._started + timedelta(seconds=self.expected)
            again = f" (attempt {step.attempt})" if step.attempt > 1 else ""
            self.say(f"burn-in started{again}: client id {step.client_id}, {self.expected} s on "
                     f"paper, expected end {stamp(end)} (timeout {self.timeout:g} s)")
        elif step.kind == "retry":
            self.retries += 1
            self.say(f"retry: {step.reason}")
        else:
            how = ("killed at the timeout" if step.exit_code is None
                   else f"exit {step.exit_code}")
            self.say(f"burn-in ended: {how} after {clock_text(step.seconds)}",
                     when=self._at(step.seconds))

    def progress(self, elapsed: float, last_line: str) -> None:
        """Called every few tenths of a second while the wrapper runs."""
        if self._bar is not None:
            retries = f" · {self.retries} retr{'y' if self.retries == 1 else 'ies'}" \
                if self.retries else ""
            self._bar.update(self._task, description=f"{clock_text(elapsed)} of "
                             f"{clock_text(self.expected)}{retries} · {safe(last_line)[:60]}")
        while elapsed >= self._next_tick:
            tick = self._next_tick
            self._next_tick += self.every
            if self.lines or self.file is not None:
                text = f"burn-in {clock_text(tick)} of {clock_text(self.expected)}"
                line = f"{self._stamp(self._at(tick))} {text}"
                if self.file is not None:
                    self.file.write(line + "\n")
                    self.file.flush()
                if self.lines:
                    click.echo(line)

    def _stamp(self, when: datetime | None = None) -> str:
        """A line's time: ``when`` (the clock by default), never before the line above it
        (an end worked out from the wrapper's elapsed time can be ahead of a pinned or
        stepped-back clock)."""
        at = when or self.clock()
        if self._shown is not None and at < self._shown:
            at = self._shown
        self._shown = at
        return stamp(at)

    def _at(self, elapsed: float) -> datetime:
        return (self._started or self.clock()) + timedelta(seconds=elapsed)

    @contextmanager
    def live(self) -> Iterator[None]:
        """The live progress line on stderr while the wrapper runs (a terminal only)."""
        if not self.tty or self.quiet or self.machine:
            yield
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn

        from .output import console

        with Progress(SpinnerColumn(), TextColumn("burn-in"), TextColumn("{task.description}"),
                      console=console(stderr=True), transient=True) as bar:
            self._bar, self._task = bar, bar.add_task("", total=None)
            try:
                yield
            finally:
                self._bar = None

    def close(self) -> None:
        if self.quiet and not self.machine and self.last:
            click.echo(f"{self._stamp()} {self.last}" if not self.tty else self.last)


def refuse_log_in_code(ctx: Any, log_file: Path | None, option: str = "--log-file") -> None:
    """UsageError when the run's log would be written under a code path, where git does
    not ignore it: the code under test would be dirty, and no run on it qualifies
    (newcomer 17: `--log-file run.log` typed in src/; a cron line's log too)."""
    from ..ledger.checkout import in_code

    paths = ctx.rules.ops.code_paths
    name = in_code(ctx.repo, log_file, paths) if log_file is not None else None
    if name is not None:
        raise UsageError(f"{option} {name} is under a code path ({', '.join(paths)}): an "
                         "untracked file there makes the code under test dirty, and no "
                         "run on it would qualify", fix=f"write the log outside the code paths "
                         f"(e.g. {option} logs/evidencebot.log, with logs/ in .gitignore)")


def check_log_file(log_file: Path) -> None:
    """UsageError, as `run_log` raises it, when ``log_file`` could not be opened for
    appending; nothing is created (`run --dry-run` writes nothing)."""
    import errno
    import os

    at = log_file if log_file.exists() else log_file.absolute().parent
    if log_file.is_dir():  # ("": click takes it, and the run cannot open it: newcomer 15)
        code = errno.EISDIR
    elif not at.is_dir() and at != log_file:
        code = errno.ENOENT if not at.exists() else errno.ENOTDIR
    elif not os.access(at, os.W_OK | (os.X_OK if at != log_file else 0)):
        code = errno.EACCES
    else:
        return
    raise UsageError(f"cannot write the run log {log_file}: {os.strerror(code)}")


@contextmanager
def run_log(state: Any, *, params: Any, quiet: bool, log_file: Path | None
            ) -> Iterator[RunLog]:
    """The run log for one `run`, its file (if any) open for appending."""
    with ExitStack() as stack:
        file = None
        if log_file is not None:
            try:
                file = stack.enter_context(log_file.open("a", encoding="utf-8"))
            except OSError as e:
                raise UsageError(f"cannot write the run log {log_file}: {e.strerror}") from None
        log = RunLog(clock=state.clock, expected_seconds=params.on_paper,
                     timeout_seconds=params.timeout_seconds, tty=sys.stdout.isatty(),
                     quiet=quiet, machine=state.as_json, file=file)
        ok = False
        try:
            yield log
            ok = True
        finally:
            if ok:
                log.close()
