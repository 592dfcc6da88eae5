"""`next` and `schedule`: the next start for a Friday afternoon, a weekend and a bank holiday
(blackouts too), a pending market-data retry, and the three schedule formats — down to running
the crontab line through /bin/sh on a bank holiday and reading the log it leaves."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest
from conftest import free_port, git

from evidencebot.evidence.report import parse_instant
from evidencebot.runbook.schedule import TASK_NS, Job
from evidencebot.runbook.unattended import evidencebot_command, schedule_files
from evidencebot.sim.burnin import SCENARIO_ENV
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import report, write_repo, write_report

HERE = Path(sys.executable).parent
EXE = str(HERE / ("evidencebot.exe" if os.name == "nt" else "evidencebot"))
NS = "{" + TASK_NS + "}"


def repo_with(tmp_path: Path, config: str = "") -> Path:
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": config})


# -- next ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "start", "why"), [
    pytest.param("2026-11-27T14:00:00Z", "2026-11-27T14:00:00Z",
                 ["Fri 14:00 UTC is inside Mon–Fri 08:00–16:00 UTC", "fits now"],
                 id="friday-afternoon-fits"),
    pytest.param("2026-11-27T15:25:00Z", "2026-11-27T15:25:00Z", ["fits now"],
                 id="friday-last-start-ends-at-16-00"),
    pytest.param("2026-11-27T15:26:00Z", "2026-11-30T08:00:00Z",
                 ["a 2100 s run started at 15:26 UTC would end at 16:01, after the window "
                  "closes at 16:00", "Saturday is not a session day",
                  "Sunday is not a session day", "next: Mon 2026-11-30 08:00 UTC"],
                 id="friday-afternoon-too-late"),
    pytest.param("2026-11-28T10:00:00Z", "2026-11-30T08:00:00Z",
                 ["Saturday is not a session day", "Sunday is not a session day"],
                 id="weekend"),
    pytest.param("2026-12-24T15:45:00Z", "2026-12-29T08:00:00Z",
                 ["2026-12-25 is a UK bank holiday (Christmas Day)",
                  "2026-12-28 is a UK bank holiday (Boxing Day"], id="bank-holidays"),
    pytest.param("2026-08-31T09:00:00Z", "2026-09-01T08:00:00Z",
                 ["2026-08-31 is a UK bank holiday (Late Summer Bank Holiday)"],
                 id="on-a-bank-holiday"),
])
def test_next_start(tmp_path: Path, cli, now: str, start: str, why: list[str]) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path)
    r = cli("--repo", repo, "--json", "next", "--now", now)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert set(doc) == {"schema", "next_start", "reason", "pending_retry", "pending_retry_due",
                        "pending_retry_run_id", "pending_retry_commit"}
    assert doc["next_start"] == start and doc["pending_retry"] is None
    assert doc["pending_retry_due"] is doc["pending_retry_run_id"] is None
    for part in why:
        assert part in doc["reason"], doc["reason"]


@pytest.mark.parametrize("now", ["2026-11-27T15:25:00Z", "2026-11-27T15:26:00Z",
                                 "2026-11-30T11:40:00Z", "2026-11-30T11:41:00Z"])
def test_the_pre_run_window_check_agrees_with_next(tmp_path: Path, cli, now: str) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: `check` passed a start that `next` said would end after the
    window closes (the one counted the paper session alone, the other five minutes more)."""
    repo = repo_with(tmp_path, '[window]\nblackout = ["12:15-12:30"]\n')
    nxt = json.loads(cli("--repo", repo, "--json", "next", "--now", now).out)
    checked = json.loads(cli("--repo", repo, "--json", "check", "--now", now).out)
    window = next(c for c in checked["checks"] if c["name"] == "window")
    assert (window["status"] == "PASS") == (nxt["next_start"] == now), (window, nxt)


@pytest.mark.parametrize(("runs", "fits"), [(1, True), (2, False)])
def test_a_wrapper_of_several_runs_is_fitted_whole(tmp_path: Path, cli, runs: int,  # type: ignore[no-untyped-def]
                                                   fits: bool) -> None:
    """Adversary 44a: `[burnin] runs = 2` ran two paper sessions, while `next`, `check`
    and `schedule` fitted one in the window; the run ended after it, non-qualifying."""
    repo = repo_with(tmp_path, f"[burnin]\nruns = {runs}\n")
    now = "2026-11-27T15:00:00Z"  # (one 1800 s session + 300 s fits before 16:00; two do not)
    nxt = json.loads(cli("--repo", repo, "--json", "next", "--now", now).out)
    checked = json.loads(cli("--repo", repo, "--json", "check", "--now", now).out)
    window = next(c for c in checked["checks"] if c["name"] == "window")
    assert (nxt["next_start"] == now, window["status"] == "PASS") == (fits, fits), (nxt, window)
    if not fits:
        assert "a 3900 s run started at 15:00 UTC would end at 16:05" in nxt["reason"], nxt


def test_next_respects_blackouts(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path, '[window]\nblackout = ["08:00-08:30", "12:00-12:15"]\n')
    monday = json.loads(cli("--repo", repo, "--json", "next", "--now", "2026-11-28T10:00Z").out)
    assert monday["next_start"] == "2026-11-30T08:30:00Z"
    noon = json.loads(cli("--repo", repo, "--json", "next", "--now", "2026-11-30T11:30Z").out)
    assert noon["next_start"] == "2026-11-30T12:15:00Z"
    assert "overlaps the blackout 12:00-12:15 UTC" in noon["reason"]


def test_next_in_words(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo_with(tmp_path), "next", "--now", "2026-11-28T10:00Z")
    assert r.out.splitlines()[0] == "next start: Mon 2026-11-30 08:00 UTC (2026-11-30T08:00:00Z)"
    assert r.out.splitlines()[-1] == "pending retry: none"


@pytest.fixture
def sim_repo(tmp_path: Path) -> Iterator[Path]:
    with running_gateway(unsubscribed={"HSBA"}) as port:
        yield write_repo(tmp_path / "bot", extra={
            "evidencebot.toml": demo_config(port=port, report="state/latest.json")})


def test_a_market_data_retry_is_pending_until_a_later_run(sim_repo: Path, tmp_path: Path, cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-11-25T09:05:00Z")
    monkeypatch.setenv(SCENARIO_ENV, "market-data")
    assert cli("--repo", sim_repo, "run", "--no-push").code == 4
    retry = git(sim_repo, "log", "-1", "--format=%(trailers:key=Retry-After,valueonly)",
                "ops/evidence").strip()
    assert retry == "2026-11-26T00:00Z"
    doc = json.loads(cli("--repo", sim_repo, "--json", "next").out)
    assert doc["pending_retry"] == "2026-11-26T00:00:00Z"
    text = cli("--repo", sim_repo, "next", "--now", "2026-11-26T01:00Z").out
    assert "pending retry: 2026-11-26T00:00:00Z (due now) for run 20261125T090500Z-failed-" \
           "market-data" in text
    monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-11-26T10:00:00Z")
    later = write_report(tmp_path / "r.json", report(finished=parse_instant("2026-11-26T09:40:00Z")))
    assert cli("--repo", sim_repo, "record", later).code == 0
    assert json.loads(cli("--repo", sim_repo, "--json", "next").out)["pending_retry"] is None


def test_a_market_data_retry_is_a_start_next_and_check_take(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Adversary 44a: the retry was fitted with the paper session alone; a blackout five
    minutes after it made `check` refuse the start the commit and its message named."""
    with running_gateway(unsubscribed={"HSBA"}) as port:
        config = demo_config(port=port, report="state/latest.json").replace(
            'start = "00:00"\nend = "00:00"', 'start = "08:00"\nend = "16:00"\n'
            'blackout = ["08:31-08:40"]')
        repo = write_repo(tmp_path / "bot", extra={"evidencebot.toml": config})
        monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-11-25T09:05:00Z")
        monkeypatch.setenv(SCENARIO_ENV, "market-data")
        assert cli("--repo", repo, "run", "--no-push").code == 4
    pending = json.loads(cli("--repo", repo, "--json", "next").out)["pending_retry"]
    assert pending == "2026-11-26T08:40:00Z"  # (08:00 + 30 min + 5 overlaps the blackout)
    checked = json.loads(cli("--repo", repo, "--json", "check", "--now", pending).out)
    assert next(c for c in checked["checks"] if c["name"] == "window")["status"] == "PASS"


# -- schedule --------------------------------------------------------------------------------

def test_cron_runs_this_evidencebot_at_window_start_plus_five_minutes(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path)
    r = cli("--repo", repo, "schedule", "--format", "cron")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert "CRON_TZ=UTC" in lines
    log = repo / ".git" / "evidencebot" / "run.log"
    path = f"PATH={shlex.quote(os.environ['PATH'])}"  # (cron's own is /usr/bin:/bin)
    assert lines[-1] == (f"5 8 * * 1-5 {path} {shlex.join([EXE, '--repo', str(repo), 'run'])} "
                         f">> {shlex.quote(str(log))} 2>&1")
    assert log.parent.is_dir()
    assert "crontab -e" in r.err


def test_cron_at_and_config_and_days_from_the_window(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path, '[window]\ndays = ["Mon", "Wed", "Fri"]\n')
    config = repo / "evidencebot.toml"
    r = cli("--repo", repo, "--config", config, "schedule", "--format", "cron", "--at", "09:30",
            "--log-file", tmp_path / "run.log")
    assert r.code == 0, r.err
    argv = shlex.join([EXE, '--repo', str(repo), '--config', str(config), 'run'])
    assert r.out.splitlines()[-1] == (
        f"30 9 * * 1,3,5 PATH={shlex.quote(os.environ['PATH'])} {argv}"
        f" >> {shlex.quote(str(tmp_path / 'run.log'))} 2>&1")


def test_the_schedule_keeps_the_base_s_days_not_the_working_tree_s(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: days changed in the working tree's config only gave a timer
    that fired on days the base's window (which `next`, `check` and every verdict read)
    refuses, every firing a refused check and no run."""
    repo = repo_with(tmp_path)
    (repo / "evidencebot.toml").write_text('[window]\ndays = ["Sat", "Sun"]\n')
    r = cli("--repo", repo, "schedule", "--format", "cron")
    assert r.code == 0 and r.out.splitlines()[-1].startswith("5 8 * * 1-5 "), r.out


def test_systemd_files_are_written_with_the_timer_in_utc(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path)
    out = tmp_path / "units"
    r = cli("--repo", repo, "schedule", "--format", "systemd", "--output", out)
    assert r.code == 0, r.err
    timer = (out / "evidencebot-run.timer").read_text()
    service = (out / "evidencebot-run.service").read_text()
    assert "OnCalendar=Mon..Fri *-*-* 08:05:00 UTC" in timer and "Persistent=false" in timer
    assert f"ExecStart={EXE} --repo {repo} run" in service
    assert "TimeoutStartSec=7800" in service  # the run's 7200 s timeout, plus the margin
    assert "systemctl --user enable --now evidencebot-run.timer" in r.out


def test_a_start_in_a_blackout_or_outside_the_window_is_refused(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path, '[window]\nblackout = ["08:00-08:30"]\n')
    out = tmp_path / "out"
    r = cli("--repo", repo, "schedule", "--format", "cron", "--at", "08:10", "--output", out)
    assert r.code == 2 and "overlaps the blackout 08:00-08:30 UTC" in r.err
    assert not out.exists()
    late = cli("--repo", repo, "schedule", "--format", "cron", "--at", "15:30")
    assert late.code == 2 and "after the window closes at 16:00" in late.err
    # (the last minute that fits to the second does not: a scheduler starts a run within
    # its minute; found by a newcomer)
    last = cli("--repo", repo, "schedule", "--format", "cron", "--at", "15:25")
    assert last.code == 2 and "started within its minute" in last.err, last.err
    assert cli("--repo", repo, "schedule", "--format", "cron", "--at", "15:24").code == 0
    bad = cli("--repo", repo, "schedule", "--format", "cron", "--at", "8h")
    assert bad.code == 2 and "expected HH:MM" in bad.err
    default = cli("--repo", repo, "schedule", "--format", "cron")
    assert default.out.splitlines()[-1].startswith("30 8 * * 1-5 ")  # moved past the blackout


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths only outside Windows")
def test_windows_format_on_a_posix_host_says_where_to_make_it(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo_with(tmp_path), "schedule", "--format", "windows")
    assert r.code == 2 and "on the Windows machine that runs the burn-in" in r.err


def test_windows_task_file_from_a_windows_job() -> None:
    log = r"C:\Users\op\bot\.git\evidencebot\run.log"
    job = Job(days=("Mon", "Tue", "Wed", "Thu", "Fri"), at=time(8, 5),
              executable=r"C:\Users\op\.venv\Scripts\evidencebot.exe", repo=r"C:\Users\op\bot",
              timeout_seconds=7200, log=log, run_args=("--log-file", log))
    (data,) = schedule_files("windows", job).values()
    assert data[:2] == b"\xff\xfe"  # UTF-16 LE with a byte-order mark, as schtasks wants
    root = ET.fromstring(data)
    trigger = root.find(f"{NS}Triggers/{NS}CalendarTrigger")
    assert trigger is not None
    assert trigger.findtext(f"{NS}StartBoundary") == "2024-01-01T08:05:00Z"
    days = trigger.find(f"{NS}ScheduleByWeek/{NS}DaysOfWeek")
    assert [d.tag.removeprefix(NS) for d in days or []] == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    settings = root.find(f"{NS}Settings")
    assert settings is not None
    assert settings.findtext(f"{NS}MultipleInstancesPolicy") == "IgnoreNew"
    assert settings.findtext(f"{NS}StartWhenAvailable") == "false"
    assert settings.findtext(f"{NS}ExecutionTimeLimit") == "PT2H10M"  # above the 2 h timeout
    arguments = root.findtext(f"{NS}Actions/{NS}Exec/{NS}Arguments") or ""
    assert arguments.endswith(rf"run --log-file {log}")  # Task Scheduler keeps no output


def test_the_console_script_next_to_python_else_python_dash_m(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text("")
    assert evidencebot_command(str(python), windows=False) == (
        str(python), ("-m", "evidencebot"))
    (tmp_path / "bin" / "evidencebot").write_text("")
    assert evidencebot_command(str(python), windows=False) == (
        str(tmp_path / "bin" / "evidencebot"), ())
    assert evidencebot_command(str(python), windows=True)[1] == ("-m", "evidencebot")


@pytest.mark.skipif(os.name == "nt", reason="runs the crontab line through /bin/sh")
def test_the_cron_line_on_a_bank_holiday_leaves_a_timestamped_refusal_in_the_log(
        tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    health = [sys.executable, "main.py", "uk_health_check", "--profile", "uk_paper",
              "--strict-health"]
    repo = repo_with(tmp_path, f"[health]\ncommand = {json.dumps(health)}\n\n"
                     f"[ibkr]\nport = {free_port()}\nconnect_timeout_seconds = 1\n")
    log = tmp_path / "run.log"
    r = cli("--repo", repo, "schedule", "--format", "cron", "--log-file", log)
    line = r.out.splitlines()[-1]
    fields = line.split(" ", 5)
    assert fields[:5] == ["5", "8", "*", "*", "1-5"]
    env = {**os.environ, "EVIDENCEBOT_NOW": "2026-12-28T08:05:00Z"}  # Boxing Day (observed)
    proc = subprocess.run(["/bin/sh", "-c", fields[5]], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 3 and proc.stdout == "" and proc.stderr == ""  # all in the log
    kept = log.read_text(encoding="utf-8").splitlines()
    assert kept[0].startswith("2026-12-28T08:05:00Z checks: window fail (2026-12-28 is a UK "
                              "bank holiday (Boxing Day")
    # (the cause and its fix too, where a --quiet run says nothing else: found by a
    # newcomer)
    assert re.fullmatch(r"evidencebot: error: pre-run checks failed \(window, gateway; window: "
                        r"2026-12-28 is a UK bank holiday \(Boxing Day.*\): nothing was run; "
                        r"the skipped session is recorded in [0-9a-f]{12}", kept[-2]), kept[-2]
    assert kept[-1].startswith("Fix: ")
