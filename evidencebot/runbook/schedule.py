"""Schedule files for unattended runs: a crontab snippet, a systemd service and timer, and a
Windows Task Scheduler task, each starting `evidencebot --repo R [--config C] run` at one UTC
time on chosen weekdays. Pure: a Job in, text out; installing the files is the operator's.

Stdlib only; imports nothing from evidencebot."""

from __future__ import annotations

import codecs
import math
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import PurePosixPath, PureWindowsPath

from ..frozen import frozen

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WINDOWS_DAYS = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                               "Saturday", "Sunday"), strict=True))
# The scheduler's own limit sits this far above the run's timeout, so the run's timeout
# (which records a classified failure) always fires first; the scheduler's is a backstop.
MARGIN_SECONDS = 600
START_DELAY = timedelta(minutes=5)  # after the window opens: the run's checks need now >= start
NAME = "evidencebot-run"
SERVICE, TIMER = f"{NAME}.service", f"{NAME}.timer"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
FIRST_DAY = date(2024, 1, 1)  # a past Monday: the Windows trigger is live from import

# Child order in the Task XML. MS-TSCH 2.5 declares Task, Settings and ScheduleByWeek as
# xs:all (any order is valid; Windows' own exports put Principals before Settings); we keep
# the declaration order. A calendar trigger is binding: triggerBaseType is an xs:sequence
# (Enabled, StartBoundary, EndBoundary, Repetition, ExecutionTimeLimit) extended by the
# sequence RandomDelay, ScheduleBy*.
TASK_ORDER = ("RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions")
SETTINGS_ORDER = (
    "AllowStartOnDemand", "RestartOnFailure", "MultipleInstancesPolicy",
    "DisallowStartIfOnBatteries", "StopIfGoingOnBatteries", "AllowHardTerminate",
    "StartWhenAvailable", "NetworkProfileName", "RunOnlyIfNetworkAvailable", "WakeToRun",
    "Enabled", "Hidden", "DeleteExpiredTaskAfter", "IdleSettings", "NetworkSettings",
    "ExecutionTimeLimit", "Priority", "RunOnlyIfIdle", "UseUnifiedSchedulingEngine",
    "DisallowStartOnRemoteAppSession")
CALENDAR_TRIGGER_ORDER = (
    "Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit",
    "RandomDelay", "ScheduleByDay", "ScheduleByWeek", "ScheduleByMonth",
    "ScheduleByMonthDayOfWeek")
WEEKLY_ORDER = ("WeeksInterval", "DaysOfWeek")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a newline would end a crontab or unit line
_AT = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_SYSTEMD_BARE = re.compile(r"[A-Za-z0-9_@+=:,./-]+")


@frozen
class Job:
    """One scheduled run: when (UTC) and what to start. ValueError on days that are not a
    week-ordered subset of DAYS, a time with seconds or a non-UTC offset, a non-positive
    timeout, or a path with a control character."""

    days: tuple[str, ...]  # subset of DAYS, in week order
    at: time  # UTC
    executable: str  # absolute path of the evidencebot executable
    repo: str  # absolute path of the trading repository
    timeout_seconds: float  # the run's own timeout
    log: str  # absolute path of the log file (cron and systemd)
    config: str | None = None
    launcher: tuple[str, ...] = ()  # after the executable: ("-m", "evidencebot") for python
    run_args: tuple[str, ...] = ()  # after `run`: ("--log-file", log) where output is lost
    # the PATH the run gets (cron and systemd give a bare one: /usr/bin:/bin): the one
    # `schedule` ran with, so that the health check's and the wrapper's programs are found
    # as `check` found them
    search_path: str | None = None

    def __post_init__(self) -> None:
        unknown = [d for d in self.days if d not in DAYS]
        if not self.days or unknown:
            raise ValueError(f"days must be a non-empty subset of {', '.join(DAYS)}: "
                             f"got {self.days!r}")
        if list(self.days) != sorted(set(self.days), key=DAYS.index):
            raise ValueError(f"days must be distinct and in week order: got {self.days!r}")
        if self.at.second or self.at.microsecond:
            raise ValueError(f"at must be a whole minute (cron has no seconds): got {self.at}")
        if self.at.utcoffset() not in (None, timedelta(0)):
            raise ValueError(f"at is a UTC time: got offset {self.at.utcoffset()}")
        if not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            raise ValueError(f"timeout_seconds must be positive: got {self.timeout_seconds}")
        for name, value in self.paths():
            if not value or _CONTROL.search(value):
                raise ValueError(f"{name} is empty or has a control character: {value!r}")
        if self.search_path is not None and (not self.search_path
                                             or _CONTROL.search(self.search_path)):
            raise ValueError(f"search_path is empty or has a control character: "
                             f"{self.search_path!r}")
        for value in (*self.launcher, *self.run_args):
            if not value or _CONTROL.search(value):
                raise ValueError(f"an argument is empty or has a control character: {value!r}")

    def paths(self) -> list[tuple[str, str]]:
        """(field name, path) for every path the schedulers see."""
        pairs = [("executable", self.executable), ("repo", self.repo), ("log", self.log)]
        return pairs + ([("config", self.config)] if self.config is not None else [])

    def argv(self) -> list[str]:
        """The command every scheduler starts, as an argument list."""
        config = ["--config", self.config] if self.config is not None else []
        return [self.executable, *self.launcher, "--repo", self.repo, *config, "run",
                *self.run_args]

    @property
    def limit_seconds(self) -> int:
        """The scheduler's time limit: the run's timeout plus MARGIN_SECONDS."""
        return math.ceil(self.timeout_seconds) + MARGIN_SECONDS


# --- cron ---------------------------------------------------------------------------------

def cron(job: Job) -> str:
    """A crontab snippet: comments, CRON_TZ=UTC and one job line appending to the log."""
    _require_absolute(job, lambda p: PurePosixPath(p).is_absolute(), "cron")
    env = f"PATH={shlex.quote(job.search_path)} " if job.search_path is not None else ""
    line = (f"{job.at.minute} {job.at.hour} * * {cron_days(job.days)} "
            f"{env}{shlex.join(job.argv())} >> {shlex.quote(job.log)} 2>&1")
    # cron turns an unescaped % into a newline (the rest becomes stdin); \% is a literal %.
    line = line.replace("%", r"\%")
    return "\n".join([
        f"# {NAME}: evidencebot burn-in run, {_describe(job)}",
        "# CRON_TZ applies to every line after it; a cron without CRON_TZ support uses the"
        " host's zone (see man 5 crontab)",
        "CRON_TZ=UTC",
        line,
    ]) + "\n"


def cron_days(days: Iterable[str]) -> str:
    """The day-of-week field: `*` for every day, a range when contiguous, else a list."""
    numbers = sorted((DAYS.index(d) + 1) % 7 for d in days)  # cron: Sun=0 ... Sat=6
    if len(numbers) == 7:
        return "*"
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ",".join(str(n) for n in numbers)


# --- systemd ------------------------------------------------------------------------------

def systemd(job: Job) -> dict[str, str]:
    """A oneshot service and its timer, keyed by file name (user or system units)."""
    _require_absolute(job, lambda p: PurePosixPath(p).is_absolute(), "systemd")
    log = _systemd_path(job.log)
    service = [
        "[Unit]",
        "Description=evidencebot burn-in run",
        "",
        "[Service]",
        "Type=oneshot",
        f"WorkingDirectory={_systemd_path(job.repo)}",
        *([f"Environment={_systemd_quoted('PATH=' + job.search_path)}"]
          if job.search_path is not None else []),
        f"ExecStart={' '.join(_systemd_arg(a) for a in job.argv())}",
        f"TimeoutStartSec={job.limit_seconds}",
        f"StandardOutput=append:{log}",
        f"StandardError=append:{log}",
    ]
    timer = [
        f"# In ~/.config/systemd/user/ with {SERVICE}: systemctl --user daemon-reload &&"
        f" systemctl --user enable --now {TIMER} (and loginctl enable-linger)",
        "[Unit]",
        f"Description=evidencebot burn-in run, {_describe(job)}",
        "",
        "[Timer]",
        f"OnCalendar={on_calendar(job)}",
        "Persistent=false",  # a missed start is not made up later, outside the window
        f"Unit={SERVICE}",
        "",
        "[Install]",
        "WantedBy=timers.target",
    ]
    return {SERVICE: "\n".join(service) + "\n", TIMER: "\n".join(timer) + "\n"}


def on_calendar(job: Job) -> str:
    """The timer's OnCalendar= value, e.g. `Mon..Fri *-*-* 08:05:00 UTC`."""
    days = f"{job.days[0]}..{job.days[-1]}" if _contiguous(job.days) else ",".join(job.days)
    return f"{days} *-*-* {job.at:%H:%M}:00 UTC"


def _systemd_path(path: str) -> str:
    return path.replace("%", "%%")  # specifiers are expanded in paths too


def _systemd_arg(arg: str) -> str:
    """One ExecStart= word: `%` and `$` doubled (specifiers, variables), quoted if needed."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if _SYSTEMD_BARE.fullmatch(arg):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _systemd_quoted(assignment: str) -> str:
    """One Environment= assignment, quoted: `%` doubled (a specifier), `\\` and `"`
    escaped; systemd expands no variables there."""
    text = assignment.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


# --- Windows Task Scheduler ---------------------------------------------------------------

def windows(job: Job) -> str:
    """Task Scheduler XML for `schtasks /Create /XML FILE /TN evidencebot-run`. Task
    Scheduler has no output redirection, so `job.log` is not used here."""
    # '"' cannot occur in a Windows path; refusing it keeps the quoted Command sound.
    _require_absolute(job, lambda p: PureWindowsPath(p).is_absolute() and '"' not in p,
                      "Task Scheduler", kind="an absolute Windows path (C:\\...)")
    command, *arguments = job.argv()
    if " " in command:  # unquoted, Task Scheduler fails it (0x800700C1)
        command = f'"{command}"'
    days = _tree("DaysOfWeek", [ET.Element(WINDOWS_DAYS[d]) for d in job.days])
    trigger = _tree("CalendarTrigger", [
        ("Enabled", "true"),
        ("StartBoundary", f"{FIRST_DAY.isoformat()}T{job.at:%H:%M}:00Z"),  # Z: in UTC
        _tree("ScheduleByWeek", [("WeeksInterval", "1"), days], WEEKLY_ORDER),
    ], CALENDAR_TRIGGER_ORDER)
    settings = _tree("Settings", [
        ("MultipleInstancesPolicy", "IgnoreNew"),
        ("DisallowStartIfOnBatteries", "false"),
        ("StopIfGoingOnBatteries", "false"),
        ("StartWhenAvailable", "false"),  # a missed start is not made up later
        ("Enabled", "true"),
        ("ExecutionTimeLimit", iso_duration(job.limit_seconds)),
    ], SETTINGS_ORDER)
    principal = _tree("Principal", [("LogonType", "InteractiveToken"),
                                    ("RunLevel", "LeastPrivilege")], id="Author")
    action = _tree("Exec", [("Command", command),
                            ("Arguments", subprocess.list2cmdline(arguments)),
                            ("WorkingDirectory", job.repo)])
    task = _tree("Task", [
        _tree("RegistrationInfo", [
            ("Description", f"evidencebot burn-in run, {_describe(job)}, in {job.repo}"),
            ("URI", f"\\{NAME}")]),
        _tree("Triggers", [trigger]),
        settings,
        _tree("Principals", [principal]),
        _tree("Actions", [action], Context="Author"),
    ], TASK_ORDER, version="1.4", xmlns=TASK_NS)
    ET.indent(task, space="  ")
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + ET.tostring(task, "unicode") + "\n"


def windows_bytes(job: Job) -> bytes:
    """windows(job) as a file for schtasks: UTF-16 little-endian with a byte-order mark."""
    return codecs.BOM_UTF16_LE + windows(job).encode("utf-16-le")


def iso_duration(seconds: int) -> str:
    """Whole seconds as an ISO-8601 duration: 7800 -> PT2H10M."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n]
    return "PT" + ("".join(parts) or "0S")


def _tree(tag: str, content: str | Sequence[ET.Element | tuple[str, str]],
          order: tuple[str, ...] | None = None, **attrib: str) -> ET.Element:
    """An element holding text, or children (elements or (tag, text) leaves) sorted into
    `order` when given; a tag missing from `order` raises ValueError (a bug here)."""
    element = ET.Element(tag, attrib)
    if isinstance(content, str):
        element.text = content
        return element
    children = [_tree(*c) if isinstance(c, tuple) else c for c in content]
    if order is not None:
        children.sort(key=lambda c: order.index(c.tag))
    element.extend(children)
    return element


# --- times --------------------------------------------------------------------------------

def default_at(window_start: time) -> time:
    """The start time for a window: START_DELAY after it opens, on the same day."""
    start = datetime.combine(date(2000, 1, 1), window_start)
    at = start + START_DELAY
    if at.date() != start.date():
        raise ValueError(f"a window opening at {window_start:%H:%M} leaves no start time"
                         f" {START_DELAY} later on the same day; pass a time explicitly")
    return at.timetz()


def parse_at(text: str) -> time:
    """`HH:MM` (24-hour, UTC) as a time; ValueError saying what is expected otherwise."""
    match = _AT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a time of day: {text!r}; expected HH:MM in 24-hour UTC,"
                         " e.g. 08:05")
    return time(int(match[1]), int(match[2]))


def _describe(job: Job) -> str:
    if len(job.days) == 7:
        days = "every day"
    elif _contiguous(job.days):
        days = f"{job.days[0]}-{job.days[-1]}"
    else:
        days = ",".join(job.days)
    return f"{days} {job.at:%H:%M} UTC"


def _contiguous(days: tuple[str, ...]) -> bool:
    """Two or more days with no gap in week order (Mon..Sun)."""
    indexes = [DAYS.index(d) for d in days]
    return len(indexes) > 1 and indexes == list(range(indexes[0], indexes[-1] + 1))


def _require_absolute(job: Job, is_absolute: Callable[[str], bool], where: str, *,
                      kind: str = "an absolute path") -> None:
    for name, value in job.paths():
        if not is_absolute(value):
            raise ValueError(f"{name} must be {kind} for {where}: {value!r}")
