"""The run log: what `run` leaves behind when nobody watches (cron, Task Scheduler, a pipe):
timestamped lines for the checks, each start and retry, progress every five minutes, the end
and the evidence commit; `--quiet` keeps the last line; `--log-file` keeps everything."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import git

from evidencebot.cli.runlog import RunLog, clock_text
from evidencebot.runbook.burnin import Step
from evidencebot.sim.burnin import SCENARIO_ENV
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import write_repo

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
REPORT = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"
START = datetime(2026, 11, 25, 9, 5, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00"), (65.9, "01:05"), (1800, "30:00"),
                                               (3725, "1:02:05")])
def test_clock_text(seconds: float, text: str) -> None:
    assert clock_text(seconds) == text


def test_progress_is_logged_every_five_minutes_at_the_wrappers_elapsed_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    log = RunLog(clock=lambda: START, expected_seconds=1800, timeout_seconds=7200, tty=False)
    log.step(Step("start", 1, 18))
    for elapsed in (0.2, 299.9, 300.1, 300.3, 599.0, 1210.0):  # run_command's ticks
        log.progress(elapsed, "placing orders")
    log.step(Step("end", 1, 18, exit_code=0, seconds=1802.4))
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-25T09:05:00Z burn-in started: client id 18, 1800 s on paper, expected end "
        "2026-11-25T09:35:00Z (timeout 7200 s)",
        "2026-11-25T09:10:00Z burn-in 05:00 of 30:00",
        # a tick that comes late (the process was busy) still gives each line, in order
        "2026-11-25T09:15:00Z burn-in 10:00 of 30:00",
        "2026-11-25T09:20:00Z burn-in 15:00 of 30:00",
        "2026-11-25T09:25:00Z burn-in 20:00 of 30:00",
        "2026-11-25T09:35:02Z burn-in ended: exit 0 after 30:02",
    ]


def test_the_log_never_goes_back_in_time(capsys: pytest.CaptureFixture[str]) -> None:
    # a pinned clock (the demo's) stands still while the wrapper's elapsed time runs on:
    # the lines after the end are not stamped before it
    log = RunLog(clock=lambda: START, expected_seconds=1800, timeout_seconds=7200, tty=False)
    log.step(Step("start", 1, 18))
    log.step(Step("end", 1, 18, exit_code=0, seconds=61.2))
    log.say("recorded run")
    stamps = [line[:20] for line in capsys.readouterr().out.splitlines()]
    assert stamps == ["2026-11-25T09:05:00Z", "2026-11-25T09:06:01Z", "2026-11-25T09:06:01Z"]


def test_in_a_terminal_there_are_no_timestamped_lines(capsys: pytest.CaptureFixture[str]) -> None:
    log = RunLog(clock=lambda: START, expected_seconds=1800, timeout_seconds=7200, tty=True)
    log.progress(301, "x")
    log.step(Step("retry", 1, 17, "client id already in use (error 326); next: client id 18"))
    out = capsys.readouterr().out
    assert out == "retry: client id already in use (error 326); next: client id 18\n"
    assert log.retries == 1


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-11-25T09:05:00Z")
    with running_gateway(hold_client_ids={17}, unsubscribed={"HSBA"}) as port:
        yield write_repo(tmp_path / "bot", extra={
            "evidencebot.toml": demo_config(port=port, report=REPORT),
            ".gitignore": "state/\nreports/uk_tax/\n"})


def test_a_piped_run_leaves_a_readable_timestamped_log(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "run", "--skip-checks", "--no-push")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert all(STAMP.match(x) for x in lines), lines
    texts = [x[21:] for x in lines]
    assert texts[0] == "checks: skipped (--skip-checks)"
    assert texts[1] == ("burn-in started: client id 17, 1800 s on paper, expected end "
                        "2026-11-25T09:35:00Z (timeout 2400 s)")
    assert texts[2].startswith("burn-in ended: exit 3 after 00:0")
    assert texts[3] == "retry: client id already in use (error 326); next: client id 18"
    assert texts[4].startswith("burn-in started (attempt 2): client id 18")
    assert texts[5].startswith("burn-in ended: exit 0 after")
    assert re.fullmatch(r"recorded run \d{8}T\d{6}Z: qualifying \(commit [0-9a-f]{12}, "
                        r"streak 1/3\)", texts[6])
    assert len(texts) == 7 and r.err == ""


def test_quiet_keeps_the_last_line_and_the_log_file_keeps_everything(repo: Path, tmp_path: Path,
                                                                     cli) -> None:  # type: ignore[no-untyped-def]
    log_file = tmp_path / "logs" / "run.log"
    log_file.parent.mkdir()
    r = cli("--repo", repo, "run", "--quiet", "--log-file", log_file, "--no-push")
    assert r.code == 0, r.err
    (only,) = r.out.splitlines()
    assert STAMP.match(only) and " recorded run " in only and "qualifying" in only
    kept = log_file.read_text(encoding="utf-8").splitlines()
    assert all(STAMP.match(x) for x in kept)
    assert kept[0].endswith("checks: window ok; health ok; kill-switch ok; gateway ok; "
                            "client-id ok")
    assert any("burn-in started: client id 18" in x for x in kept)
    assert kept[-1] == only


def test_a_json_run_s_log_file_says_what_it_recorded(repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 16: under --json (whose one object owns stdout) the log file kept every
    line but the one saying what was recorded."""
    log_file = tmp_path / "run.log"
    r = cli("--repo", repo, "--json", "run", "--log-file", log_file, "--no-push")
    assert r.code == 0, r.err
    (doc,) = [json.loads(x) for x in r.out.splitlines()]
    kept = log_file.read_text(encoding="utf-8").splitlines()
    assert STAMP.match(kept[-1]) and kept[-1][21:].startswith(
        f"recorded run {doc['run']['run_id']}: qualifying (commit {doc['commit'][:12]}"), kept


def test_a_failed_run_logs_its_error_and_json_owns_stdout(repo: Path, tmp_path: Path, cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(SCENARIO_ENV, "market-data")
    log_file = tmp_path / "run.log"
    r = cli("--repo", repo, "--json", "run", "--log-file", log_file, "--no-push")
    assert r.code == 4
    (doc,) = [json.loads(x) for x in r.out.splitlines()]  # one JSON document, no log lines
    assert doc["error"]["exit_code"] == 4
    kept = log_file.read_text(encoding="utf-8").splitlines()
    assert STAMP.match(kept[-1]) and kept[-1][21:].startswith(
        "error: failed-market-data: market data unavailable (error 354)")
    assert [x[:20] for x in kept] == sorted(x[:20] for x in kept)  # (in time order)
    assert "recorded in" in kept[-1]
    # the retry it schedules, in --json's one form of a time (newcomer 14: history gave
    # the trailer's minute, next its seconds)
    entry = json.loads(cli("--repo", repo, "--json", "history").out)["entries"][0]
    nxt = json.loads(cli("--repo", repo, "--json", "next").out)
    pending = nxt["pending_retry"]
    assert entry["retry_after"] == pending and re.fullmatch(r"\S+T\d\d:\d\d:\d\dZ", pending)
    # (and in run's object, and next's whether it is due and for which run: newcomer 16)
    assert doc["retry_after"] == pending
    assert (nxt["pending_retry_due"], nxt["pending_retry_run_id"],
            nxt["pending_retry_commit"]) == (False, doc["run"]["run_id"], doc["commit"])
    later = json.loads(cli("--repo", repo, "--json", "next", "--now", pending).out)
    assert later["pending_retry_due"] is True


def test_an_unwritable_log_file_is_a_usage_error_before_anything_runs(repo: Path, tmp_path: Path,
                                                                      cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "run", "--log-file", tmp_path / "missing-dir" / "run.log")
    assert r.code == 2 and "cannot write the run log" in r.err
    assert not (repo / REPORT).exists()


@pytest.mark.parametrize("where", ["missing-dir/run.log", "a-dir", "a-file/run.log", ""])
def test_a_dry_run_refuses_the_log_file_the_run_would_refuse(repo: Path, tmp_path: Path, cli,
                                                             where: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    said = [cli("--repo", repo, "run", *dry, "--log-file", tmp_path / where if where else "")
            for dry in (["--dry-run"], [])]
    assert [r.code for r in said] == [2, 2]
    assert said[0].err.splitlines()[0] == said[1].err.splitlines()[0]
    assert ("cannot write the run log" in said[0].err or where == "a-dir" or not where) \
        and not (repo / REPORT).exists()


def test_a_dry_run_creates_no_log_file(repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "run", "--dry-run", "--log-file", tmp_path / "run.log")
    assert r.code in (0, 3) and "dry run: nothing was run or written" in r.out
    assert not (tmp_path / "run.log").exists()


def test_run_piped_through_a_real_process_is_logged_line_by_line(repo: Path) -> None:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(repo), "run",
                           "--no-push"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and all(STAMP.match(x) for x in lines), lines
    assert proc.stderr == ""  # no progress bar, no escape codes: nothing for a terminal
    assert json.dumps(lines)  # plain text


SLOW_WRAPPER = r'''
import json, os, sys, time
from datetime import datetime, timedelta
time.sleep(1.5)  # the wrapper's own run time: long enough for the live line to be drawn
now = datetime.fromisoformat(os.environ["EVIDENCEBOT_NOW"].replace("Z", "+00:00"))
start = now - timedelta(seconds=1800)
json.dump({"run_id": start.strftime("%Y%m%dT%H%M%SZ"),
  "started_at_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
  "finished_at_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "runs_requested": 1,
  "runs_completed": 1, "paper_duration_seconds": 1800, "orders": {"filled": 2},
  "symbol_data_availability_ratio": 0.9, "preflight_bars_per_symbol": {"VOD.L": 200},
  "ibkr": {"client_id": 18}}, open(sys.argv[1], "w"))
'''


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_in_a_real_terminal_the_live_line_shows_elapsed_of_expected(tmp_path: Path) -> None:
    import os
    import pty  # noqa: F401  (POSIX only)
    import subprocess

    script = tmp_path / "wrapper.py"
    script.write_text(SLOW_WRAPPER)
    repo = write_repo(tmp_path / "bot", extra={"evidencebot.toml": (
        f"[burnin]\ncommand = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "
        '"latest.json"]\nreport = "latest.json"\n'), ".gitignore": "latest.json\n"})
    master, slave = os.openpty()
    env = {**os.environ, "EVIDENCEBOT_NOW": "2026-11-25T09:05:00Z", "COLUMNS": "120",
           "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "evidencebot", "--repo", str(repo), "run",
                             "--skip-checks", "--no-push"], stdout=slave, stderr=slave,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert re.search(r"burn-in.*00:0\d of 30:00", screen), screen
    assert "recorded run " in screen
    assert not re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", screen, re.MULTILINE)


def test_the_live_line_shows_the_account_as_the_kept_log_does(tmp_path: Path) -> None:
    """The wrapper's last line, shown live while it runs, has its account number
    redacted (DU*** in the kept log and the check table alike)."""
    from evidencebot.runbook.process import run_command

    marker = tmp_path / "seen"
    child = ("import os, sys, time\n"
             "print('connected to account DU5550001', flush=True)\n"
             f"while not os.path.exists({str(marker)!r}):\n"
             "    time.sleep(0.01)\n")
    shown: list[str] = []

    def progress(_elapsed: float, last: str) -> None:
        shown.append(last)
        if "account" in last:
            marker.touch()  # (the child ends once the line was shown)

    done = run_command([sys.executable, "-c", child], cwd=tmp_path, env={}, timeout=60,
                       progress=progress, tick=0.01)
    assert done.exit_code == 0
    assert "connected to account DU***" in shown and not any("5550001" in s for s in shown)


@pytest.mark.parametrize("where", ["src/run.log", "scripts/cron.log"])
def test_a_log_file_under_a_code_path_is_refused_before_anything_runs(
        repo: Path, cli, where: str) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 17: `run --log-file run.log` typed in src/ wrote the run's own log there,
    and that run and every later one were judged on dirty code; so did a cron line's log
    from `schedule --log-file` typed there. Outside the code paths, or ignored, it is no
    code."""
    said = [cli("--repo", repo, *args, "--log-file", repo / where) for args in (
        ["run", "--dry-run"], ["run"], ["schedule", "--format", "cron"])]
    assert [r.code for r in said] == [2, 2, 2]
    assert all("is under a code path" in r.err and "Fix:" in r.err for r in said)
    assert not (repo / where).exists() and not (repo / REPORT).exists()
    outside = cli("--repo", repo, "schedule", "--format", "cron", "--log-file",
                  repo / "src" / ".." / "logs" / "run.log")  # (where it is: adversary 54)
    beyond = cli("--repo", repo, "schedule", "--format", "cron", "--log-file",
                 repo.parent / "run-logs" / "run.log")
    assert beyond.code == 0, beyond.err
    sneaked = cli("--repo", repo, "run", "--dry-run", "--log-file",
                  repo / "logs" / ".." / where)
    assert sneaked.code == 2 and "is under a code path" in sneaked.err
    with (repo / ".gitignore").open("a", encoding="utf-8") as ignore:
        ignore.write("*.log\n")
    ignored = cli("--repo", repo, "schedule", "--format", "cron", "--log-file", repo / where)
    assert (outside.code, ignored.code) == (0, 0), outside.err + ignored.err


def test_a_log_file_is_judged_where_it_is_and_by_the_code_paths_as_git_reads_them(
        tmp_path: Path) -> None:
    """Adversary 54: "../run.log" typed in src/ was refused as under src/, a path outside
    the checkout stopped on git's own error, and a wildcard code path refused every file."""
    from evidencebot.ledger.checkout import in_code

    repo = tmp_path / "bot"
    (repo / "src").mkdir(parents=True)
    git(repo.parent, "init", "-q", str(repo))
    paths = ["src/**/*.py", "scripts/", "main.py"]
    assert in_code(repo, repo / "src" / ".." / "run.log", paths) is None
    assert in_code(repo, tmp_path / "elsewhere" / "run.log", paths) is None
    assert in_code(repo, repo / "src" / "deep" / "run.py", paths) == "src/deep/run.py"
    assert in_code(repo, repo / "src" / "run.log", paths) is None  # (the glob names .py only)
    assert in_code(repo, repo / "logs" / ".." / "scripts" / "cron.log", paths) == \
        "scripts/cron.log"
    (repo / "scripts").mkdir()
    (repo / "logs").symlink_to(repo / "scripts")
    assert in_code(repo, repo / "logs" / "cron.log", paths) == "scripts/cron.log"
