"""Schedule files from one Job: the crontab line runs through a real /bin/sh, the systemd units
through systemd-analyze where it is installed, the Task Scheduler XML through ElementTree."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from evidencebot.frozen import replace
from evidencebot.runbook.schedule import (
    CALENDAR_TRIGGER_ORDER,
    SERVICE,
    SETTINGS_ORDER,
    TASK_NS,
    TASK_ORDER,
    TIMER,
    WEEKLY_ORDER,
    Job,
    cron,
    default_at,
    iso_duration,
    parse_at,
    systemd,
    windows,
    windows_bytes,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
NS = "{" + TASK_NS + "}"


def posix_job(**changes: object) -> Job:
    job = Job(days=WEEKDAYS, at=time(8, 5), executable="/opt/evidence bot/bin/evidencebot",
              repo="/srv/trading bot", timeout_seconds=7200, log="/var/log/evidence bot/run.log")
    return replace(job, **changes)  # type: ignore[arg-type]


def windows_job(**changes: object) -> Job:
    job = Job(days=WEEKDAYS, at=time(8, 5),
              executable=r"C:\Program Files\evidencebot\evidencebot.exe",
              repo=r"C:\Users\op\trading bot", timeout_seconds=7200, log=r"C:\logs\run.log")
    return replace(job, **changes)  # type: ignore[arg-type]


# Each row: the job's days, the cron day-of-week field, the OnCalendar= days, the Windows days.
DAY_TABLE = [
    pytest.param(WEEKDAYS, "1-5", "Mon..Fri",
                 ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], id="mon-fri-range"),
    pytest.param(("Mon", "Wed", "Fri"), "1,3,5", "Mon,Wed,Fri",
                 ["Monday", "Wednesday", "Friday"], id="mon-wed-fri-list"),
    pytest.param(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), "*", "Mon..Sun",
                 ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
                 id="all-seven-days"),
    pytest.param(("Sat", "Sun"), "0,6", "Sat..Sun", ["Saturday", "Sunday"],
                 id="weekend-sunday-is-cron-0"),
    pytest.param(("Fri", "Sat", "Sun"), "0,5,6", "Fri..Sun", ["Friday", "Saturday", "Sunday"],
                 id="contiguous-in-week-not-in-cron-numbers"),
    pytest.param(("Sun",), "0", "Sun", ["Sunday"], id="sunday-alone"),
    pytest.param(("Tue", "Wed"), "2-3", "Tue..Wed", ["Tuesday", "Wednesday"], id="two-days"),
]


def job_lines(snippet: str) -> list[str]:
    return [line for line in snippet.splitlines()
            if line and not line.startswith("#") and not line.startswith("CRON_TZ=")]


def units(job: Job) -> tuple[configparser.ConfigParser, configparser.ConfigParser]:
    files = systemd(job)
    assert set(files) == {SERVICE, TIMER}
    parsed = []
    for name in (SERVICE, TIMER):
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(files[name])
        parsed.append(parser)
    return parsed[0], parsed[1]


def local(element: ET.Element) -> str:
    return element.tag.removeprefix(NS)


def task(job: Job) -> ET.Element:
    return ET.fromstring(windows_bytes(job))


def find(root: ET.Element, path: str) -> ET.Element:
    element = root.find("/".join(f"t:{part}" for part in path.split("/")), {"t": TASK_NS})
    assert element is not None, path
    return element


# --- cron ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "field", "_calendar", "_windows"), DAY_TABLE)
def test_cron_day_of_week_field(days: tuple[str, ...], field: str, _calendar: str,
                                _windows: list[str]) -> None:
    [line] = job_lines(cron(posix_job(days=days)))
    assert line.split()[:5] == ["5", "8", "*", "*", field]


def test_cron_snippet_is_a_comment_cron_tz_and_one_line() -> None:
    lines = cron(posix_job()).splitlines()
    assert lines[0].startswith("# evidencebot-run: ")
    assert "CRON_TZ=UTC" in lines
    assert lines.index("CRON_TZ=UTC") < lines.index(job_lines("\n".join(lines))[0])
    assert len(job_lines("\n".join(lines))) == 1


def test_cron_quotes_every_path_for_sh() -> None:
    job = posix_job(config="/etc/evidence bot/config.toml")
    [line] = job_lines(cron(job))
    for path in (job.executable, job.repo, job.config, job.log):
        assert f"'{path}'" in line
    assert line.endswith(" >> '/var/log/evidence bot/run.log' 2>&1")


def cron_command(line: str) -> str:
    """What cron hands to /bin/sh (crontab(5)): the sixth field on, cut at the first unescaped
    %, with \\% turned into %."""
    command = line.split(maxsplit=5)[5]
    return re.split(r"(?<!\\)%", command)[0].replace("\\%", "%")


def test_cron_line_runs_through_sh_with_the_job_argv(tmp_path: Path) -> None:
    executable = tmp_path / "bin dir" / "evidence bot"
    executable.parent.mkdir()
    executable.write_text(f"#!{sys.executable}\nimport json, sys\n"
                          "print(json.dumps(sys.argv[1:]))\nprint('on stderr', file=sys.stderr)\n")
    executable.chmod(0o755)
    (tmp_path / "logs 100%").mkdir()
    job = posix_job(executable=str(executable), repo=str(tmp_path / "it's a repo"),
                    log=str(tmp_path / "logs 100%" / "run.log"),
                    config=str(tmp_path / 'cfg $HOME "quoted" 50%.toml'))
    [line] = job_lines(cron(job))
    for _ in range(2):
        subprocess.run(["/bin/sh", "-c", cron_command(line)], check=True)
    out = Path(job.log).read_text().splitlines()
    assert [json.loads(o) for o in out[::2]] == [job.argv()[1:]] * 2  # appended, not replaced
    assert out[1::2] == ["on stderr"] * 2


def test_cron_and_systemd_start_the_run_with_the_path_schedule_ran_with(tmp_path: Path) -> None:
    """Found by a newcomer: cron and systemd start a job with a bare PATH (/usr/bin:/bin),
    so the health check's `python` that `check` found was "command not found" at 08:05,
    and a refusal was committed and pushed."""
    executable = tmp_path / "evidencebot"
    executable.write_text(f"#!{sys.executable}\nimport os\nprint(os.environ['PATH'])\n")
    executable.chmod(0o755)
    path = f"{tmp_path / 'my tools 100%'}{os.pathsep}/usr/bin{os.pathsep}/bin"
    job = posix_job(executable=str(executable), log=str(tmp_path / "run.log"),
                    search_path=path)
    [line] = job_lines(cron(job))
    subprocess.run(["/bin/sh", "-c", cron_command(line)], check=True,
                   env={"PATH": "/usr/bin:/bin"})
    assert Path(job.log).read_text() == path + "\n"
    service, _ = units(job)
    assert systemd_words(service["Service"]["Environment"]) == [f"PATH={path}"]
    assert "Environment" not in units(posix_job())[0]["Service"]


# --- systemd ------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "_field", "calendar", "_windows"), DAY_TABLE)
def test_systemd_on_calendar(days: tuple[str, ...], _field: str, calendar: str,
                             _windows: list[str]) -> None:
    _, timer = units(posix_job(days=days))
    assert timer["Timer"]["OnCalendar"] == f"{calendar} *-*-* 08:05:00 UTC"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize(("days", "_field", "_calendar", "_windows"), DAY_TABLE)
def test_systemd_fires_on_exactly_the_job_days(days: tuple[str, ...], _field: str,
                                               _calendar: str, _windows: list[str]) -> None:
    _, timer = units(posix_job(days=days, at=time(16, 40)))
    proc = subprocess.run(["systemd-analyze", "calendar", "--iterations=14",
                           timer["Timer"]["OnCalendar"]], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    elapses = re.findall(r"(?:Next elapse|Iter\. #\d+): (\w{3}) \S+ (\S+) UTC", proc.stdout)
    assert len(elapses) == 14
    assert {day for day, _ in elapses} == set(days)
    assert {hms for _, hms in elapses} == {"16:40:00"}


@pytest.mark.parametrize("timeout", [1, 7200, 7200.5, 4 * 3600])
def test_systemd_service_times_out_after_the_run(timeout: float) -> None:
    service, _ = units(posix_job(timeout_seconds=timeout))
    assert int(service["Service"]["TimeoutStartSec"]) > timeout


def test_systemd_service_and_timer_settings() -> None:
    job = posix_job()
    service, timer = units(job)
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["WorkingDirectory"] == job.repo
    assert service["Service"]["StandardOutput"] == f"append:{job.log}"
    assert service["Service"]["StandardError"] == f"append:{job.log}"
    assert "Install" not in service  # started by the timer only
    assert timer["Timer"]["Persistent"] == "false"
    assert timer["Timer"]["Unit"] == SERVICE
    assert timer["Install"]["WantedBy"] == "timers.target"


def systemd_words(line: str) -> list[str]:
    """ExecStart= words by systemd.service(5) "Command lines": whitespace splits, "..." groups,
    backslash escapes; %% is % and any other %x a specifier, $$ is $ and $NAME a variable
    (shown as <...>, so an unescaped one never matches a literal path)."""
    words = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', line)
    unescaped = [re.sub(r"\\(.)", r"\1", q) if q else bare for q, bare in words]
    return [expand_systemd(w) for w in unescaped]


def expand_systemd(word: str) -> str:
    word = re.sub(r"%(.)", lambda m: "%" if m[1] == "%" else f"<%{m[1]}>", word)
    return re.sub(r"\$(\$|\{\w+\}|\w+)", lambda m: "$" if m[1] == "$" else f"<${m[1]}>", word)


@pytest.mark.parametrize("config", [
    pytest.param("/etc/evidencebot.toml", id="plain"),
    pytest.param("/etc/evidence bot/config.toml", id="space"),
    pytest.param("/etc/100% sure.toml", id="percent-is-a-specifier"),
    pytest.param("/etc/$HOME.toml", id="dollar-is-a-variable"),
    pytest.param('/etc/say "hi" \\ there.toml', id="quote-and-backslash"),
])
def test_systemd_exec_start_words_are_the_job_argv(config: str) -> None:
    job = posix_job(config=config)
    service, _ = units(job)
    assert systemd_words(service["Service"]["ExecStart"]) == job.argv()


def test_systemd_percent_in_paths_is_escaped() -> None:
    service, _ = units(posix_job(repo="/srv/100%", log="/var/log/100%.log"))
    assert service["Service"]["WorkingDirectory"] == "/srv/100%%"
    assert service["Service"]["StandardOutput"] == "append:/var/log/100%%.log"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    executable = tmp_path / "bin dir" / "evidence bot"
    executable.parent.mkdir()
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    (tmp_path / "repo dir").mkdir()
    job = posix_job(executable=str(executable), repo=str(tmp_path / "repo dir"),
                    log=str(tmp_path / "run 100%.log"), config=str(tmp_path / "c $X 1%.toml"))
    for name, text in systemd(job).items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run(["systemd-analyze", "verify", str(tmp_path / TIMER),
                           str(tmp_path / SERVICE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --- Windows Task Scheduler ---------------------------------------------------------------

def test_windows_task_root_and_declaration() -> None:
    text = windows(windows_job())
    assert text.splitlines()[0] == '<?xml version="1.0" encoding="UTF-16"?>'
    root = task(windows_job())
    assert root.tag == f"{NS}Task"
    assert root.get("version") == "1.4"
    assert find(root, "RegistrationInfo/URI").text == "\\evidencebot-run"


@pytest.mark.parametrize(("days", "_field", "_calendar", "expected"), DAY_TABLE)
def test_windows_days_of_week(days: tuple[str, ...], _field: str, _calendar: str,
                              expected: list[str]) -> None:
    root = task(windows_job(days=days))
    weekly = find(root, "Triggers/CalendarTrigger/ScheduleByWeek")
    assert [local(d) for d in find(weekly, "DaysOfWeek")] == expected
    assert find(weekly, "WeeksInterval").text == "1"


@pytest.mark.parametrize("at", [time(8, 5), time(0, 0), time(23, 59)])
def test_windows_start_boundary_is_at_in_utc(at: time) -> None:
    trigger = find(task(windows_job(at=at)), "Triggers/CalendarTrigger")
    start = datetime.fromisoformat(find(trigger, "StartBoundary").text or "")
    assert start.utcoffset() == timedelta(0)
    assert start.time() == at
    assert start <= datetime(2026, 1, 5, tzinfo=UTC)  # already live when imported
    assert find(trigger, "Enabled").text == "true"


def duration_seconds(text: str) -> int:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", text)
    assert match is not None, text
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@pytest.mark.parametrize("timeout", [1, 7200, 7200.5, 4 * 3600 + 1])
def test_windows_settings(timeout: float) -> None:
    settings = find(task(windows_job(timeout_seconds=timeout)), "Settings")
    values = {local(child): child.text for child in settings}
    assert values["MultipleInstancesPolicy"] == "IgnoreNew"
    assert values["StartWhenAvailable"] == "false"
    assert values["DisallowStartIfOnBatteries"] == "false"
    assert values["StopIfGoingOnBatteries"] == "false"
    assert values["Enabled"] == "true"
    assert duration_seconds(values["ExecutionTimeLimit"] or "") > timeout


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "PT0S"), (59, "PT59S"), (3600, "PT1H"), (7800, "PT2H10M"), (3661, "PT1H1M1S"),
    (90000, "PT25H"),
])
def test_iso_duration(seconds: int, text: str) -> None:
    assert iso_duration(seconds) == text
    assert duration_seconds(text) == seconds


def test_windows_runs_as_the_user_least_privilege() -> None:
    root = task(windows_job())
    principal = find(root, "Principals/Principal")
    assert find(principal, "LogonType").text == "InteractiveToken"
    assert find(principal, "RunLevel").text == "LeastPrivilege"
    assert find(root, "Actions").get("Context") == principal.get("id")


def msvcrt_split(command_line: str) -> list[str]:
    """Split a command line as the MSVC runtime does: 2n backslashes + quote -> n and a quote
    toggle, 2n+1 backslashes + quote -> n and a literal quote, other backslashes literal."""
    args, current, quoted, started, i = [], "", False, False, 0
    while i < len(command_line):
        ch = command_line[i]
        if ch == "\\":
            n = len(command_line[i:]) - len(command_line[i:].lstrip("\\"))
            i += n
            if command_line[i:i + 1] == '"':
                current += "\\" * (n // 2) + ('"' if n % 2 else "")
                i += n % 2
            else:
                current += "\\" * n
            started = True
        elif ch == '"':
            quoted, started, i = not quoted, True, i + 1
        elif ch in " \t" and not quoted:
            if started:
                args.append(current)
            current, started, i = "", False, i + 1
        else:
            current, started, i = current + ch, True, i + 1
    return args + [current] if started else args


@pytest.mark.parametrize("config", [
    pytest.param(None, id="no-config"),
    pytest.param(r"C:\cfg\config.toml", id="plain"),
    pytest.param(r"C:\my cfg\config.toml", id="space"),
    pytest.param("C:\\my cfg\\", id="trailing-backslash-inside-quotes"),
    pytest.param(r"C:\cfg\a\\b.toml", id="double-backslash"),
])
def test_windows_exec_round_trips_the_argv(config: str | None) -> None:
    job = windows_job(config=config)
    exec_ = find(task(job), "Actions/Exec")
    assert [local(c) for c in exec_] == ["Command", "Arguments", "WorkingDirectory"]
    assert (find(exec_, "Command").text or "").strip('"') == job.executable
    assert msvcrt_split(find(exec_, "Arguments").text or "") == job.argv()[1:]
    assert find(exec_, "WorkingDirectory").text == job.repo  # never quoted


def test_windows_command_is_quoted_only_with_a_space() -> None:
    spaced = find(task(windows_job()), "Actions/Exec/Command").text
    plain = find(task(windows_job(executable=r"C:\tools\evidencebot.exe")),
                 "Actions/Exec/Command").text
    assert spaced == r'"C:\Program Files\evidencebot\evidencebot.exe"'
    assert plain == r"C:\tools\evidencebot.exe"


def assert_in_order(parent: ET.Element, order: tuple[str, ...]) -> None:
    tags = [local(child) for child in parent]
    assert tags == sorted(tags, key=order.index), tags


def test_windows_child_order_follows_the_schema() -> None:
    root = task(windows_job())
    trigger = find(root, "Triggers/CalendarTrigger")
    assert [local(c) for c in root] == [
        "RegistrationInfo", "Triggers", "Settings", "Principals", "Actions"]
    # MS-TSCH triggerBaseType is an xs:sequence: Enabled before StartBoundary, then ScheduleBy*.
    assert [local(c) for c in trigger] == ["Enabled", "StartBoundary", "ScheduleByWeek"]
    assert_in_order(root, TASK_ORDER)
    assert_in_order(find(root, "Settings"), SETTINGS_ORDER)
    assert_in_order(trigger, CALENDAR_TRIGGER_ORDER)
    assert_in_order(find(trigger, "ScheduleByWeek"), WEEKLY_ORDER)


def test_windows_bytes_are_utf16_with_bom() -> None:
    job = windows_job(repo=r"C:\Users\Zoë\trading <bot> & co")
    data = windows_bytes(job)
    assert data.startswith(b"\xff\xfe")
    assert data.decode("utf-16") == windows(job)
    assert find(ET.fromstring(data), "Actions/Exec/WorkingDirectory").text == job.repo


# --- the Job and the times ----------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    pytest.param({"days": ()}, id="no-days"),
    pytest.param({"days": ("Mon", "Funday")}, id="unknown-day"),
    pytest.param({"days": ("Fri", "Mon")}, id="out-of-week-order"),
    pytest.param({"days": ("Mon", "Mon")}, id="duplicate-day"),
    pytest.param({"at": time(8, 5, 30)}, id="seconds"),
    pytest.param({"at": time(8, 5, tzinfo=timezone(timedelta(hours=1)))}, id="not-utc"),
    pytest.param({"timeout_seconds": 0}, id="zero-timeout"),
    pytest.param({"timeout_seconds": float("nan")}, id="nan-timeout"),
    pytest.param({"log": "/var/log/run\n.log"}, id="newline-in-path"),
])
def test_job_refuses(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        posix_job(**changes)


def test_job_accepts_at_in_utc() -> None:
    assert posix_job(at=time(8, 5, tzinfo=UTC)).at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("render", "job"), [
    pytest.param(cron, posix_job(repo="trading"), id="cron-relative-repo"),
    pytest.param(systemd, posix_job(config="config.toml"), id="systemd-relative-config"),
    pytest.param(windows, windows_job(executable="/opt/evidencebot"), id="windows-posix-path"),
    pytest.param(windows, windows_job(log=r"C:\a\"b"), id="windows-quote-in-path"),
])
def test_renderers_refuse_paths_they_cannot_use(render: object, job: Job) -> None:
    # (a POSIX path is absolute, but not for Task Scheduler: the message says which kind)
    kind = "absolute Windows path" if render is windows else "absolute path"
    with pytest.raises(ValueError, match=kind):
        render(job)  # type: ignore[operator]


@pytest.mark.parametrize(("start", "at"), [
    (time(8, 0), time(8, 5)), (time(23, 54), time(23, 59)), (time(7, 58), time(8, 3)),
    (time(8, 0, tzinfo=UTC), time(8, 5, tzinfo=UTC)),
])
def test_default_at_is_five_minutes_after_the_window_opens(start: time, at: time) -> None:
    assert default_at(start) == at
    assert default_at(start).tzinfo == start.tzinfo


def test_default_at_refuses_to_cross_midnight() -> None:
    with pytest.raises(ValueError, match="same day"):
        default_at(time(23, 58))


@pytest.mark.parametrize(("text", "at"), [
    ("08:05", time(8, 5)), ("8:05", time(8, 5)), ("00:00", time(0, 0)),
    ("23:59", time(23, 59)), (" 16:00 ", time(16, 0)),
])
def test_parse_at(text: str, at: time) -> None:
    assert parse_at(text) == at


@pytest.mark.parametrize("text", [
    "25:00", "24:00", "8", "aa:bb", "08:60", "", "08:05:00", "08-05", "٠٨:٠٥",
])
def test_parse_at_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected HH:MM") as error:
        parse_at(text)
    assert repr(text) in str(error.value)


def test_the_install_hints_paste_into_a_shell_with_spaces_in_paths(tmp_path: Path) -> None:
    """Found by a newcomer: `cat /tmp/r02 sched/evidencebot-run.cron` and `cp /tmp/r02
    sched/...` failed pasted. The hint's paths are quoted: sh reads back each one."""
    import shlex

    from evidencebot.runbook.unattended import install_hint

    folder = tmp_path / "r02 sched"
    cron_hint = install_hint("cron", [str(folder / "evidencebot-run.cron")])
    piped = cron_hint.split("(or: (crontab -l; ", 1)[1].split(") | crontab -)", 1)[0]
    assert shlex.split(piped) == ["cat", str(folder / "evidencebot-run.cron")]
    units = [str(folder / "evidencebot-run.service"), str(folder / "evidencebot-run.timer")]
    copied = install_hint("systemd", units).split("install: ", 1)[1].split(" && ", 1)[0]
    assert shlex.split(copied) == ["cp", *units, "~/.config/systemd/user/"]
