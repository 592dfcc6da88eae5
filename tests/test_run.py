"""`run` with a real subprocess as the burn-in wrapper."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import git

WRAPPER = r'''
import json, os, sys, time
from datetime import datetime, timedelta, timezone
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
if args.get("--mode") == "hang":
    time.sleep(60)
if args.get("--mode") == "tidy":  # the uncommitted code it started on undone meanwhile
    import os; os.remove("src/scratch.py")
if os.environ.get("EVB_TEST_REPLAY"):  # a report recorded already put in place, then a crash
    import shutil; shutil.copyfile(os.environ["EVB_TEST_REPLAY"], args["--report"]); sys.exit(1)
dirty = os.environ.get("EVB_TEST_DIRTY")
if dirty:  # an edit in a checkout of the ops branch while the session runs
    with open(dirty, "a", encoding="utf-8") as f:
        f.write("a hand note made during the session\n")
if os.environ.get("EVB_TEST_REMOVE"):  # a checkout of the ops branch removed meanwhile
    import shutil; shutil.rmtree(os.environ["EVB_TEST_REMOVE"])
for i in range(int(os.environ.get("EVB_TEST_LOUD") or 0)):  # a wrapper logging at DEBUG
    print(f"debug line {i:06d}")
fifo = os.environ.get("EVB_TEST_FIFO")
if fifo:  # a wrapper with a child of its own, which says its pid and holds the FIFO open
    import subprocess
    subprocess.Popen([sys.executable, "-c", "import os, sys, time; f = open(sys.argv[1], 'w'); "
                      "f.write(str(os.getpid()) + '\\n'); f.flush(); time.sleep(300)", fifo])
    time.sleep(300)
if args.get("--mode") == "restored-mid":  # a loss restored mid-session, then a code failure
    print("Error 1100, reqId -1: Connectivity between IB and TWS has been lost.")
    print("\n".join(f"farm chatter {i:06d}" for i in range(300)))
    for i in range(int(os.environ.get("EVB_TEST_FARM") or 0)):
        print("Error 2104, reqId -1: Market data farm connection is OK:usfarm")
    print("Error 1102, reqId -1: Connectivity restored, data maintained.")
    print("\n".join(f"farm chatter {i:06d}" for i in range(300)))
    print("position reconciliation failed"); sys.exit(1)
if args.get("--mode") == "crash-closed":  # a failure in words a closure is said in
    print("Traceback (most recent call last):")
    print('  File "bot/strategy.py", line 7, in on_bar')
    print("RuntimeError: [MO-2] order rejected: market closed"); sys.exit(1)
if args.get("--mode") in ("nothing", "nothing-farm"):
    if args["--mode"] == "nothing-farm":  # (what every real wrapper's log holds)
        print("Error 2104, reqId -1: Market data farm connection is OK:usfarm")
    print("wrapper ran but wrote no report"); sys.exit(0)
now = datetime.now(timezone.utc) + timedelta(seconds=int(os.environ.get("EVB_TEST_AHEAD") or 0))
dur = int(args["--duration"])
start = now - timedelta(seconds=dur)
print("connected to account DU5550001 with client id", args.get("--client"))
print("compiled modules kept in", sys.pycache_prefix)
try:
    import elsewhere  # (a module only an inherited PYTHONPATH could reach)
    print("imported code from outside the checkout:", elsewhere.__file__)
except ImportError:
    print("no code from outside the checkout")
print("user site-packages:", "off" if sys.flags.no_user_site else "on")
print("kept:", os.environ.get("PYTHONIOENCODING"), "BASH_ENV:", os.environ.get("BASH_ENV"))
report = {"run_id": start.strftime("%Y%m%dT%H%M%SZ"), "started_at_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
  "finished_at_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "runs_requested": 1, "runs_completed": 1,
  "paper_duration_seconds": dur, "orders": {"filled": 2}, "symbol_data_availability_ratio": 0.9,
  "preflight_bars_per_symbol": {"VOD.L": 200}, "ibkr": {"client_id": int(args.get("--client", 0))},
  "passed": True}
with open(args["--report"], "w", encoding="utf-8") as f:
    json.dump(report, f)
if args.get("--mode") == "nan":  # (what Python's json writes for 0/0)
    report["symbol_data_availability_ratio"] = float("nan")
    with open(args["--report"], "w", encoding="utf-8") as f:
        json.dump(report, f)
if args.get("--mode") in ("exit-1", "exit-2"):  # the report written, then a non-zero exit
    print("Error 2105, reqId -1: HMDS data farm connection is broken")
    sys.exit(int(args["--mode"][-1]))
'''


@pytest.fixture
def repo(trading_repo: Path, tmp_path: Path) -> Path:
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    (trading_repo / "evidencebot.toml").write_text(
        "[burnin]\n"
        f"command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "
        '"--duration", "{paper_duration_seconds}", "--report", "latest.json", '
        '"--client", "{runs}"]\n'
        'report = "latest.json"\ntimeout_seconds = 3600\n'
        # The wrapper reports a session of real times that ends as it returns: two
        # seconds on paper, so that it began when `run` started it (trust rule 5)
        'paper_duration_seconds = 2\n[qualify]\nmin_paper_duration_seconds = 2\n'
        # ... and a window open at every hour keeps the test independent of when it runs.
        '[window]\ndays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]\n'
        'start = "00:00"\nend = "00:00"\nholidays = ""\n')
    (trading_repo / ".gitignore").write_text("state/\nlatest.json\n")
    git(trading_repo, "add", "-A")
    merged(trading_repo, "configure evidencebot")
    return trading_repo


def merged(repo: Path, message: str) -> None:
    """Commit what is staged on the base, dated an hour ago: the wrapper's sessions claim
    to have started up to 30 minutes back, and a run's code must be on the base when it
    starts (the wrapper runs at once)."""
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", message],
                   env={**os.environ, "GIT_AUTHOR_DATE": an_hour_ago,
                        "GIT_COMMITTER_DATE": an_hour_ago}, check=True)


def test_run_records_the_fresh_report_and_keeps_the_redacted_log(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "qualifying" and doc["streak"]["count"] == 1
    log_path = doc["run"]["record"][:-5] + ".log"
    log = git(repo, "show", f"ops/evidence:{log_path}")
    assert "connected to account DU*** with client id" in log and "5550001" not in log
    # the wrapper's Python reads no .pyc from the checkout: a folder of the run's own
    kept = log.split("compiled modules kept in ", 1)[1].split("\n", 1)[0]
    assert "evidencebot-pycache-" in kept and str(repo) not in kept
    entry = git(repo, "show", "ops/evidence:SESSION_LOG.md").split("\n## ")[-1]
    assert "- Pre-run checks: skipped (--skip-checks)" in entry
    assert "wrapper.py --duration 2 --report latest.json" in entry


def test_the_wrapper_s_python_runs_the_checkout_s_code_not_the_shell_s_pythonpath(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: PYTHONPATH in the operator's shell put a strategy module of
    its own before the checkout's, and three runs on main's reviewed code, clean, closed
    MO-2 on code no one reviewed. The wrapper starts without the variables that point
    Python elsewhere (and without the user's site-packages); the dry run says so."""
    elsewhere = tmp_path / "outside"  # (not beside the wrapper script, on its own path)
    elsewhere.mkdir()
    (elsewhere / "elsewhere.py").write_text("FILLS = 99\n")
    monkeypatch.setenv("PYTHONPATH", str(elsewhere))
    monkeypatch.setenv("PYTHONSTARTUP", str(elsewhere / "elsewhere.py"))
    monkeypatch.setenv("PYTHONIOENCODING", "utf-8")  # (how it writes: kept)
    monkeypatch.delenv("GIT_TEMPLATE_DIR", raising=False)  # (the tests' own; left out too)
    rc = tmp_path / "bashrc"  # (a bash wrapper would source it, and export it again)
    rc.write_text(f"export PYTHONPATH={elsewhere}\n")
    monkeypatch.setenv("BASH_ENV", str(rc))
    dry = cli("--repo", repo, "--json", "run", "--dry-run")
    (wrapper,) = [c for c in json.loads(dry.out)["checks"] if c["name"] == "wrapper"]
    assert wrapper["reason"].endswith("; it runs without BASH_ENV, PYTHONPATH, PYTHONSTARTUP "
                                      "from this environment (they load code from "
                                      "elsewhere)"), wrapper
    assert wrapper["data"]["left_out"] == ["BASH_ENV", "PYTHONPATH", "PYTHONSTARTUP"]
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 0, r.err
    log = git(repo, "show", f"ops/evidence:{json.loads(r.out)['run']['record'][:-5]}.log")
    assert "no code from outside the checkout" in log and "imported code" not in log
    assert "user site-packages: off" in log and "kept: utf-8 BASH_ENV: None" in log


def test_command_line_overrides_reach_the_wrapper_not_the_thresholds(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "--json", "run", "--skip-checks", "--paper-duration-seconds", "1")
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "non-qualifying"
    assert doc["run"]["reasons"] == ["paper duration 1 s < 2 s"]


@pytest.mark.parametrize("mode", ["nothing", "nothing-farm"])
def test_no_fresh_report_is_a_recorded_code_failure(repo: Path, cli, mode: str) -> None:  # type: ignore[no-untyped-def]
    """A wrapper that exits 0 without writing its report (an old one left behind) is the
    wrapper's bug: a failed-code attempt with a handoff packet, which breaks the streak,
    not a session that leaves no trace. Said so (and where the report was looked for)
    beside a farm-status line, which a newcomer found called "without a known IBKR
    cause"."""
    assert cli("--repo", repo, "run", "--skip-checks").code == 0  # leaves an old report behind
    cfg = (repo / "evidencebot.toml").read_text().replace('"--client"', f'"--mode", "{mode}", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4
    assert "failed-code: the burn-in command exited 0 but left no fresh report" in r.err
    assert len(r.err.strip().splitlines()) == 1
    t = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)"
            "%(trailers:key=Handoff,valueonly)", "ops/evidence")
    assert t.startswith("failed-code") and "reports/handoffs/" in t
    assert "MO-2: 0/3" in cli("--repo", repo, "status").out


def test_a_failed_session_is_pushed_like_a_recorded_one(repo: Path, tmp_path: Path,
                                                        cli) -> None:  # type: ignore[no-untyped-def]
    """An unattended run's failure is evidence too: the commit that records it reaches the
    remote (not one machine only), and the run still exits 4 with its own failure."""
    from evidencebot.sim.demo import make_remote

    remote = make_remote(tmp_path)
    cfg = (repo / "evidencebot.toml").read_text().replace('"--client"', '"--mode", "nothing", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)  # (a wrapper that writes no report)
    merged(repo, "reviewed config change")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")  # (the base is origin's main)
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and "failed-code" in r.err, r.out + r.err
    assert "pushed ops/evidence to origin" in r.out
    assert git(remote, "rev-parse", "ops/evidence") == git(repo, "rev-parse", "ops/evidence")
    t = git(remote, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
            "ops/evidence")
    assert t.startswith("failed-code")


def test_a_push_that_fails_after_a_run_says_the_session_is_recorded(repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                    cli) -> None:
    """Found by a newcomer: the remote gone, a recorded run ended in "git push … failed"
    (exit 2, which reads "nothing written"), with no fix. It says where the session is and
    how to push it."""
    from evidencebot.sim.demo import make_remote

    remote = make_remote(tmp_path)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    r = cli("--repo", repo, "run", "--skip-checks")
    tip = git(repo, "rev-parse", "ops/evidence").strip()
    assert r.code == 2 and f"(the session is recorded in {tip[:12]} on this machine, not " \
        "pushed)\nFix: mend it, then `git push origin ops/evidence` (the next run pushes it " \
        "too)" in r.err, r.err
    assert git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
               "ops/evidence").strip() == "qualifying"


def test_a_push_the_remote_refuses_after_a_run_says_why_and_what_was_recorded(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli) -> None:
    """Newcomer 16: a protected branch refused the push of a recorded session; --json held
    the error alone (no run, no commit: a script read exit 2 as "nothing written"), and
    the remote's reason was not shown."""
    from evidencebot.sim.demo import make_remote

    remote = make_remote(tmp_path)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'GL-HOOK-ERR: You are not allowed to push code to "
                    "protected branches on this project.' >&2\nexit 1\n")
    hook.chmod(0o755)
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    doc = json.loads(r.out)
    tip = git(repo, "rev-parse", "ops/evidence").strip()
    assert r.code == 2 and doc["error"]["exit_code"] == 2, r.out
    assert (doc["status"], doc["commit"], doc["added"]) == ("recorded", tip, True)
    assert doc["run"]["outcome"] == "qualifying" and doc["streak"]["count"] == 1
    assert "(pre-receive hook declined); the remote said: GL-HOOK-ERR: You are not allowed " \
        "to push code to protected branches on this project. (the session is recorded in " \
        f"{tip[:12]} on this machine, not pushed)" in doc["error"]["message"]


@pytest.mark.parametrize("code", [1, 2])
def test_a_fresh_report_is_the_run_whatever_the_exit_code(repo: Path, cli, code: int) -> None:  # type: ignore[no-untyped-def]
    """A wrapper that wrote its report and exited non-zero ran its session: the report is
    recorded, and does not qualify (not a market-data failure from a line of its log,
    which would leave the streak alone; not a retry that drops the session). verify
    re-derives the same."""
    cfg = (repo / "evidencebot.toml").read_text().replace(
        '"--client"', f'"--mode", "exit-{code}", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 0, r.err
    run = json.loads(r.out)["run"]
    assert run["outcome"] == "non-qualifying"
    assert run["reasons"] == [f"the burn-in command exited {code}, not 0"]
    assert len(git(repo, "log", "--format=%H", "main..ops/evidence").split()) == 1
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


def test_a_report_record_cannot_read_is_the_wrapper_s_failure(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A session that ran and wrote a report evidencebot cannot read (NaN for 0/0) is not
    left out: it is a failed-code attempt with the wrapper's log and a handoff packet,
    and breaks the streak."""
    assert cli("--repo", repo, "run", "--skip-checks").code == 0  # 1/3
    cfg = (repo / "evidencebot.toml").read_text().replace(
        '"--client"', '"--mode", "nan", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and "failed-code: the wrapper's report cannot be read" in r.err
    assert "NaN is not a JSON number" in r.err
    t = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)"
            "%(trailers:key=Handoff,valueonly)", "ops/evidence")
    assert t.startswith("failed-code") and "reports/handoffs/" in t
    assert "MO-2: 0/3" in cli("--repo", repo, "status").out
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


def test_a_run_on_code_that_cannot_qualify_is_told_before_its_session(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """On a branch main does not hold, the run says so in its log before the wrapper
    starts (as its dry run does), not only in the verdict after the session."""
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "src" / "feature.py").write_text("EDGE = 2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a feature not yet reviewed")
    head = git(repo, "rev-parse", "--short=12", "HEAD").strip()
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    warned = next(i for i, x in enumerate(lines) if f"code WARN: HEAD {head} is not on main: "
                  "this run cannot qualify; run on main" in x)
    assert warned < next(i for i, x in enumerate(lines) if "burn-in started" in x)
    assert "non-qualifying" in r.out


def test_the_code_under_test_is_the_checkout_the_run_started_on(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Code left uncommitted under src/ when the run starts and undone while it runs: the
    run ran that code, so it is recorded dirty (and does not qualify), not clean."""
    cfg = (repo / "evidencebot.toml").read_text().replace(
        '"--client"', '"--mode", "tidy", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")  # the base runs it
    (repo / "src" / "scratch.py").write_text("LOT_SIZE = 0\n")
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 0, r.err
    assert not (repo / "src" / "scratch.py").exists()  # (clean when it was recorded)
    run = json.loads(r.out)["run"]
    assert run["outcome"] == "non-qualifying"
    record = json.loads(git(repo, "show", f"ops/evidence:{run['record']}"))
    assert record["code"]["dirty"] is True and record["code"]["dirty_paths"] == ["src/scratch.py"]
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


def test_a_local_config_cannot_narrow_what_is_code(repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The code paths are the base's: a --config naming another folder does not hide a
    change to src/ from the run's code state."""
    local = tmp_path / "local.toml"
    local.write_text((repo / "evidencebot.toml").read_text()
                     + '[ops]\ncode_paths = ["nothing-here/"]\n')
    (repo / "src" / "broker" / "session.py").write_text("CLIENT_ID_RANGE = range(1, 2)\n")
    r = cli("--repo", repo, "--config", local, "--json", "run", "--skip-checks")
    assert r.code == 0, r.err
    record = json.loads(git(repo, "show", f"ops/evidence:{json.loads(r.out)['run']['record']}"))
    assert record["code"]["dirty_paths"] == ["src/broker/session.py"]
    assert json.loads(r.out)["run"]["outcome"] == "non-qualifying"


def test_a_hung_wrapper_is_killed_at_the_timeout(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cfg = (repo / "evidencebot.toml").read_text().replace('"--client"', '"--mode", "hang", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "--json", "run", "--skip-checks", "--paper-duration-seconds", "1",
            "--timeout-seconds", "1.5")
    assert r.code == 4 and "failed-code: timed out after 1.5 s" in r.err
    # "any other failure" is a code bug: recorded, with a handoff packet for DEBUG
    t = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)%(trailers:key=Handoff,valueonly)", "ops/evidence")
    assert t.startswith("failed-code") and "reports/handoffs/" in t


def test_dry_run_writes_nothing(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "--json", "run", "--dry-run", "--runs", "2")
    doc = json.loads(r.out)
    assert doc["status"] == "dry-run" and doc["command"][-1] == "2"
    assert git(repo, "branch", "--list", "ops/evidence") == ""
    assert not (repo / "latest.json").exists()


@pytest.mark.parametrize("dry", [False, True])
def test_a_dirty_checkout_of_the_ops_branch_stops_the_run_before_its_session(
        repo: Path, tmp_path: Path, cli, dry: bool) -> None:  # type: ignore[no-untyped-def]
    """`record` would not commit onto a checkout of the ops branch with uncommitted changes:
    `run` (and its dry run) refuse before the wrapper starts, not once the session it
    would record is over (a crash's handoff lost, the operator told to run again)."""
    assert cli("--repo", repo, "run", "--skip-checks").code == 0  # the ops branch exists
    (repo / "latest.json").unlink()
    wt = tmp_path / "ops checkout"  # (a space: the commands said quote it, newcomer 12)
    git(repo, "worktree", "add", "-q", str(wt), "ops/evidence")
    (wt / "SESSION_LOG.md").write_text("a hand note, not committed\n", encoding="utf-8")
    tip = git(repo, "rev-parse", "ops/evidence")
    r = cli("--repo", repo, "run", "--skip-checks", *(["--dry-run"] if dry else []))
    assert r.code == 2 and "ops/evidence is checked out at" in r.err, r.err
    assert "with uncommitted changes" in r.err and "stash" in r.err
    assert not (repo / "latest.json").exists()  # the wrapper never ran
    assert git(repo, "rev-parse", "ops/evidence") == tip


@pytest.mark.parametrize("how", ["edited", "edited-under-a-stale-lock", "removed"])
def test_a_checkout_dirtied_during_the_session_never_costs_its_evidence(
        repo: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        how: str) -> None:
    """Found by an adversary: an edit in a checkout of the ops branch made while a session
    ran (the wrapper writing a tracked file, a hand note) made `run` refuse to record it,
    so a failed session left no trace and the streak ran on; so did a checkout's folder
    removed meanwhile, or a stale HEAD.lock in it. The session is recorded; an edited
    checkout is left at the old tip, detached, with its edit (or said to be stuck)."""
    assert cli("--repo", repo, "run", "--skip-checks").code == 0  # the ops branch exists
    wt = tmp_path / "ops checkout"  # (a space: the commands said quote it, newcomer 12)
    git(repo, "worktree", "add", "-q", str(wt), "ops/evidence")
    tip = git(repo, "rev-parse", "ops/evidence").strip()
    if how == "removed":
        monkeypatch.setenv("EVB_TEST_REMOVE", str(wt))
    else:
        monkeypatch.setenv("EVB_TEST_DIRTY", str(wt / "SESSION_LOG.md"))
    if how == "edited-under-a-stale-lock":
        (repo / ".git" / "worktrees" / "ops-checkout" / "HEAD.lock").write_text("")  # (git's name)
    cfg = (repo / "evidencebot.toml").read_text().replace(  # (a session that fails)
        '"--client"', '"--mode", "nothing", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4, r.out + r.err
    new = git(repo, "rev-parse", "ops/evidence").strip()
    assert git(repo, "rev-parse", f"{new}~1").strip() == tip  # the session's, on the old tip
    outcome = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)", new)
    assert outcome.startswith("failed-code"), outcome
    if how == "edited":
        assert git(wt, "rev-parse", "HEAD").strip() == tip
        assert git(wt, "branch", "--show-current").strip() == ""
        assert f"left at {tip[:12]} (detached)" in r.out and \
            f"git -C {shlex.quote(str(wt))} stash" in r.out
    elif how == "edited-under-a-stale-lock":  # (on the branch still, and said so)
        assert "git would not detach it" in r.out and f"HEAD {tip}" in r.out, r.out
    if how != "removed":
        assert (wt / "SESSION_LOG.md").read_text(encoding="utf-8").endswith(
            "a hand note made during the session\n")  # (kept where it was made)
    assert "MO-2: 0/3" in cli("--repo", repo, "status").out  # the failure broke the streak
    assert cli("--repo", repo, "verify").code == 0


def test_a_failure_in_a_closure_s_words_is_recorded(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a session failing with "[MO-2] order rejected: market
    closed" could not be recorded (its own entry and row "said MO-2 closed" to the scope
    rules), so it left no trace and the streak ran on. A run commit's entry and row are
    evidencebot's rendering of its record, which verify re-derives line for line."""
    assert cli("--repo", repo, "run", "--skip-checks").code == 0  # 1/3
    cfg = (repo / "evidencebot.toml").read_text().replace(
        '"--client"', '"--mode", "crash-closed", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and "scope rules" not in r.err, r.err
    t = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
            "ops/evidence")
    assert t.startswith("failed-code"), t
    said = git(repo, "show", "ops/evidence:SESSION_LOG.md") + git(
        repo, "show", "ops/evidence:IMPLEMENTATION_BACKLOG.md")
    assert "market closed" in said, said
    assert "MO-2: 0/3" in cli("--repo", repo, "status").out
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


def test_missing_wrapper_is_a_usage_error(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "evidencebot.toml").write_text('[burnin]\ncommand = ["no-such-wrapper-xyz"]\n')
    merged(repo, "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 2 and "burn-in command not found: 'no-such-wrapper-xyz'" in r.err


@pytest.mark.parametrize(("args", "message"), [
    (["--runs", "0"], "--runs: Input should be greater than or equal to 1"),
    (["--min-symbol-data-availability-ratio", "1.5"], "--min-symbol-data-availability-ratio"),
])
def test_bad_run_options_are_one_line_errors(repo: Path, cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "run", "--skip-checks", *args)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1
    assert git(repo, "branch", "--list", "ops/evidence") == ""


def _started_with_a_child(repo: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], IO[str]]:
    """`run` in a process of its own whose wrapper has started a child: the child's pid
    is the FIFO's first line, and the FIFO ends when the child is gone (its one writer)."""
    fifo = tmp_path / "child.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "evidencebot", "--repo", str(repo), "run",
                             "--skip-checks"], env={**os.environ, "EVB_TEST_FIFO": str(fifo)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = open(fifo, encoding="utf-8")  # (blocks until the child opens it)
    assert reader.readline().strip().isdigit()
    return proc, reader


def _ends(reader: IO[str]) -> bool:
    """Whether the FIFO reaches its end (the child died) within a minute."""
    done = threading.Event()
    threading.Thread(target=lambda: (reader.read(), done.set()), daemon=True).start()
    return done.wait(60)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs and signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])  # a time limit; a closed terminal
def test_a_stop_signal_stops_the_wrapper_and_what_it_started(repo: Path, tmp_path: Path,
                                                              signame: str) -> None:
    proc, reader = _started_with_a_child(repo, tmp_path)
    proc.send_signal(getattr(signal, signame))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _ends(reader), "the wrapper's child outlived the run"
    # The unfinished session is evidence: a failed attempt, which breaks the streak.
    assert "evidencebot: error: failed-code: interrupted after" in err
    said = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
               "ops/evidence").strip()
    assert said == "failed-code"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="POSIX terminals")
def test_a_closed_terminal_stops_the_run_as_a_stop_signal_does(repo: Path,
                                                              tmp_path: Path) -> None:
    """Found by a newcomer: with the terminal closed (its SIGHUP), writing the run's lines
    there failed (EIO), and `run` ended with exit 2, "Input/output error" and a fix about
    the folder, the session committed but not pushed. What is still to be said goes
    nowhere; the session is recorded as any stopped one."""
    import fcntl
    import termios

    fifo = tmp_path / "child.fifo"
    os.mkfifo(fifo)
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "evidencebot", "--repo", str(repo), "run", "--skip-checks"],
        env={**os.environ, "EVB_TEST_FIFO": str(fifo)}, stdin=slave, stdout=slave,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))  # (its terminal)
    os.close(slave)
    reader = open(fifo, encoding="utf-8")
    assert reader.readline().strip().isdigit()  # the wrapper's child runs: close it
    os.close(master)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _ends(reader) and "evidencebot: error: failed-code: interrupted after" in err
    said = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
               "ops/evidence").strip()
    assert said == "failed-code"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs and signals")
def test_a_wrapper_left_by_a_killed_run_stops_the_next_run(repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                           cli) -> None:
    """kill -9 of `run` leaves its wrapper running (nothing can stop it then); its report,
    written later, was taken for the next run's. The next run now refuses to start. Once
    the wrapper is gone too, the session no run recorded is recorded by the next run, as
    the failed attempt it was (found by an adversary: kill -9 of both left no trace, and
    two good runs after it closed MO-2 over the session that went badly)."""
    proc, reader = _started_with_a_child(repo, tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    pidfile = wrapper_note(repo)
    wrapper = json.loads(pidfile.read_text(encoding="utf-8"))["pid"]
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 3 and f"still running (pid {wrapper}," in r.err and f"Fix: if pid {wrapper} is that wrapper" in r.err
    assert git(repo, "branch", "--list", "ops/evidence") == ""  # nothing run, nothing written
    os.killpg(wrapper, signal.SIGKILL)  # the operator stops it, as told
    assert _ends(reader)
    noted = json.loads(pidfile.read_text(encoding="utf-8"))["started"]
    again = cli("--repo", repo, "run", "--skip-checks")
    assert again.code == 4 and f"failed-code: the session started at {noted} was never " \
        "recorded" in again.err, again.err
    outcome = "%(trailers:key=Evidence-Outcome,valueonly)%(trailers:key=Evidence-Started-At," \
        "valueonly)"
    assert git(repo, "log", "-1", f"--format={outcome}", "ops/evidence").split() == [
        "failed-code", noted]
    assert not pidfile.exists()  # (said once: the run after it starts a session of its own)


def run_with_git_shim(repo: Path, tmp_path: Path, shim_text: str,
                      **extra: str) -> subprocess.CompletedProcess[str]:
    """`run` in a process of its own (its own terminal group), with ``shim_text`` (a
    Python script, formatted with ``python`` and ``git``) as the git on its PATH."""
    import shutil

    shim = tmp_path / "shim" / "git"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(shim_text.format(python=sys.executable, git=shutil.which("git")))
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
           "EVB_TEST_REPORT": str(repo / "latest.json"), **extra}
    return subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(repo), "run",
                           "--skip-checks"], env=env, capture_output=True, text=True,
                          timeout=120, start_new_session=True)


INTERRUPTING_GIT = r'''#!{python}
import os, signal, sys
# the run's commit is being made (its report written: not the trial before the session)
if "commit-tree" in sys.argv[1:] and os.path.exists(os.environ["EVB_TEST_REPORT"]):  # Ctrl-C, as a
    os.killpg(os.getpgid(os.getppid()), signal.SIGINT)  # terminal sends it: to the group
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
'''


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim")
def test_ctrl_c_while_a_session_is_recorded_waits_for_the_record(repo: Path,
                                                                 tmp_path: Path) -> None:
    """Ctrl-C after the wrapper returned, while its session was being committed, left
    nothing: a session that went badly could be kept out of the evidence so. The record is
    made first, then the interrupt is honoured."""
    proc = run_with_git_shim(repo, tmp_path, INTERRUPTING_GIT)
    assert proc.returncode == 130, proc.stdout + proc.stderr
    said = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
               "ops/evidence").strip()
    assert said == "qualifying"  # the session is evidence, though the run was interrupted
    tip = git(repo, "rev-parse", "ops/evidence").strip()  # ... and the stop says so
    assert f"error: aborted after the evidence was committed: ops/evidence is at {tip[:12]}" \
        in proc.stderr, proc.stderr


ONCE_AT_GIT = r'''#!{python}
import os, signal, sys
count = os.environ["EVB_TEST_COUNT"]
if "commit-tree" in sys.argv[1:]:
    with open(count, "a") as f: f.write("x")
    if len(open(count).read()) == 2:  # (the run's commit; the first is the trial's)
        os.killpg(os.getpgid(os.getppid()), signal.SIGINT)  # Ctrl-C, once
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
'''


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim")
def test_ctrl_c_while_a_failed_attempt_is_recorded_is_a_stop(repo: Path, tmp_path: Path) -> None:
    """A Ctrl-C held while a failed attempt is recorded ends the run as one while its
    wrapper ran does: exit 130, the attempt recorded (it exited 4, as if never pressed,
    where a qualifying session's held Ctrl-C exits 130)."""
    cfg = (repo / "evidencebot.toml").read_text().replace('"--client"', '"--mode", "nothing", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)  # (a wrapper that writes no report)
    merged(repo, "reviewed config change")
    proc = run_with_git_shim(repo, tmp_path, ONCE_AT_GIT, EVB_TEST_COUNT=str(tmp_path / "n"))
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert outcomes(repo) == ["failed-code"] and "left no fresh report" in proc.stderr

STOPPED_TWICE_GIT = r'''#!{python}
import os, signal, sys
if os.path.exists(os.environ["EVB_TEST_REPORT"]):  # (the run's commit, not the trial's)
    if "commit-tree" in sys.argv[1:]:  # Ctrl-C once: the record is held for
        os.killpg(os.getpgid(os.getppid()), signal.SIGINT)
    elif "update-ref" in sys.argv[1:]:  # and again, before the branch moves: git stopped
        os.killpg(os.getpgid(os.getppid()), signal.SIGINT)
        sys.exit(130)
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
'''


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim")
def test_a_session_stopped_twice_while_recorded_is_recorded_by_the_next_run(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli) -> None:
    """Found by a newcomer: a second Ctrl-C while a session was recorded stopped the write
    (as meant), but the wrapper's note was already gone, and the session was recorded
    nowhere. The note stays until the session is recorded: the next run records it."""
    proc = run_with_git_shim(repo, tmp_path, STOPPED_TWICE_GIT)
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert git(repo, "branch", "--list", "ops/evidence") == ""  # nothing recorded
    pidfile = wrapper_note(repo)
    noted = json.loads(pidfile.read_text(encoding="utf-8"))["started"]
    again = cli("--repo", repo, "run", "--skip-checks")
    assert again.code == 4 and f"failed-code: the session started at {noted} was never " \
        "recorded" in again.err, again.err
    assert not pidfile.exists()


# Ctrl-C twice while the n-th commit of a run is made (its first is the trial's, before the
# session): before the branch moves, or after it moved and before the wrapper's note goes
STOPPED_AT_GIT = r'''#!{python}
import os, signal, subprocess, sys
count, at = os.environ["EVB_TEST_COUNT"], int(os.environ["EVB_TEST_AT"])
if "commit-tree" in sys.argv[1:]:
    with open(count, "a") as f: f.write("x")
n = len(open(count).read()) if os.path.exists(count) else 0
stop = lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGINT)
if n == at and "commit-tree" in sys.argv[1:]:
    stop()
elif n == at and "update-ref" in sys.argv[1:]:
    rc = 130 if os.environ["EVB_TEST_MOVED"] == "no" else subprocess.call([{git!r}, *sys.argv[1:]])
    stop(); sys.exit(rc)
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
'''


def wrapper_note(repo: Path) -> Path:
    """Where `run` keeps its note of the wrapper it started (.git/evidencebot/wrapper.json)."""
    common = Path(git(repo, "rev-parse", "--git-common-dir").strip())
    return (common if common.is_absolute() else repo / common) / "evidencebot" / "wrapper.json"


def noted_lost_session(repo: Path, began: datetime) -> str:
    """The note a run killed with its wrapper leaves of a session that began at ``began``
    (its wrapper's pid one of a process gone); the start as the note says it."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    started = began.strftime("%Y-%m-%dT%H:%M:%SZ")
    note = wrapper_note(repo)
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(json.dumps({"pid": int(gone), "since": began.timestamp(), "client_id": 17,
                                "started": started}), encoding="utf-8")
    return started


def outcomes(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
               "ops/evidence").split()


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim")
@pytest.mark.parametrize("moved", ["no", "yes"])
def test_a_lost_session_stopped_twice_again_or_already_recorded_is_recorded_once(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli, moved: str) -> None:
    """Found by an adversary, against the note kept until a session is recorded: stopped
    twice again while the next run recorded the lost session, the note went with nothing
    recorded (a bad session hidden for good); stopped after the branch moved and before
    the note went, the next run recorded the session a second time, as lost (a good one
    made a failure). The note goes only once the session is recorded, and a session a
    commit already records is not recorded again."""
    first = run_with_git_shim(repo, tmp_path, STOPPED_AT_GIT, EVB_TEST_AT="2",
                              EVB_TEST_COUNT=str(tmp_path / "count1"), EVB_TEST_MOVED=moved)
    assert first.returncode == 130, first.stdout + first.stderr
    pidfile = wrapper_note(repo)
    assert pidfile.exists()
    if moved == "no":  # the next run, stopped twice while it records the lost session
        again = run_with_git_shim(repo, tmp_path, STOPPED_AT_GIT, EVB_TEST_AT="2",
                                  EVB_TEST_COUNT=str(tmp_path / "count2"), EVB_TEST_MOVED="no")
        assert again.returncode == 130 and pidfile.exists(), again.stderr
        last = cli("--repo", repo, "run", "--skip-checks")
        assert last.code == 4 and "was never recorded" in last.err, last.err
        assert outcomes(repo) == ["failed-code"] and not pidfile.exists()
    else:  # the session is in the branch already: the next run runs its own
        assert outcomes(repo) == ["qualifying"]
        last = cli("--repo", repo, "run", "--skip-checks")  # (its own session, the test
        assert "was never recorded" not in last.err, last.err  # wrapper's, overlaps the
        # first: refused; or, written in the same second, is the first's report byte for
        # byte, which is no report of its own session: a failed attempt)
        assert outcomes(repo) in (["qualifying"], ["failed-code", "qualifying"]), last.err


@pytest.mark.parametrize("when", ["deciding", "returned"])
def test_a_ctrl_c_while_a_retry_is_decided_records_nothing(repo: Path, cli,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          when: str) -> None:
    """Found by adversaries: a Ctrl-C after the wrapper returned with a 326 or a 502,
    while the run decided on a retry (or before: while its folder of compiled modules was
    removed), left the wrapper's note, and the next run recorded a session that never
    was (a failed attempt, breaking the streak). All of it is held from the moment the
    wrapper returns: the run stops with the note gone and nothing recorded."""
    import signal

    from evidencebot.ibkr.codes import Classification
    from evidencebot.runbook import burnin

    def refused(*_args: object, **_kw: object) -> Classification:
        if when == "deciding":
            signal.raise_signal(signal.SIGINT)  # (Ctrl-C, while the retry is decided)
        return Classification("failed-infra", "connection refused (502)", (502,),
                              retry_connect=True)

    import tempfile

    cleanup = tempfile.TemporaryDirectory.cleanup

    def removed(self: Any) -> None:  # (the wrapper's folder of compiled modules)
        if when == "returned" and "evidencebot-pycache-" in self.name:
            signal.raise_signal(signal.SIGINT)  # (Ctrl-C, as the wrapper's folder goes)
        cleanup(self)

    cfg = (repo / "evidencebot.toml").read_text().replace('"--client"', '"--mode", "nothing", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)  # (a wrapper that writes no report)
    merged(repo, "reviewed config change")
    with monkeypatch.context() as m:
        m.setattr(burnin, "_classify", refused)
        m.setattr(tempfile.TemporaryDirectory, "cleanup", removed)
        assert cli("--repo", repo, "run", "--skip-checks").code == 130
    assert not wrapper_note(repo).exists()
    assert git(repo, "branch", "--list", "ops/evidence") == ""


def test_a_report_refused_after_its_session_ran_is_recorded_by_the_next_run(  # type: ignore[no-untyped-def]
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: a report `record` refuses after the wrapper ran (here, one
    ending an hour ahead: a wrapper writing local time as UTC) removed the wrapper's note
    with the refusal, and the session was recorded nowhere. The note stays, the refusal
    says so, and the next run records the session as a failed attempt."""
    monkeypatch.setenv("EVB_TEST_AHEAD", "3600")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 2 and "finishes in the future" in r.err, r.err
    assert "(the session is noted: the next run records it as a failed attempt, unless its " \
           "report is mended and recorded first)" in r.err
    monkeypatch.delenv("EVB_TEST_AHEAD")
    again = cli("--repo", repo, "run", "--skip-checks")
    assert again.code == 4 and "was never recorded: its evidence was refused (" in again.err \
        and "finishes in the future" in again.err, again.err  # (why: newcomer 12)
    assert outcomes(repo) == ["failed-code"]
    # (and that it ran no session: newcomer 14 read the README as if it went on)
    assert "this run started no session of its own (one run, one attempt): `evidencebot " \
           "run` again starts one" in again.err.splitlines()[0]



def test_a_refused_report_mended_and_recorded_by_hand_is_not_recorded_again(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's own report, refused after it ran and then mended and recorded by
    hand, is that session: the next run does not record it again as a lost attempt (a
    failed-code beside the qualifying run broke the streak)."""
    monkeypatch.setenv("EVB_TEST_AHEAD", "3600")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 2 and "unless its report is mended and recorded first" in r.err, r.err
    monkeypatch.delenv("EVB_TEST_AHEAD")
    doc = json.loads((repo / "latest.json").read_text(encoding="utf-8"))
    for key in ("started_at_utc", "finished_at_utc"):  # (the wrapper wrote local time;
        # and, here, the next session starts within its two seconds: a few seconds earlier)
        at = datetime.strptime(doc[key], "%Y-%m-%dT%H:%M:%SZ") - timedelta(hours=1, seconds=5)
        doc[key] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    mended = tmp_path / "mended.json"
    mended.write_text(json.dumps(doc), encoding="utf-8")
    assert cli("--repo", repo, "record", mended).code == 0
    again = cli("--repo", repo, "run", "--skip-checks")
    assert again.code == 0 and "was never recorded" not in again.err, again.err
    assert outcomes(repo) == ["qualifying", "qualifying"]

def test_a_report_recorded_already_is_no_report_of_this_session(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: a wrapper that crashed after a report recorded already was
    put in its place (one ending ahead, so that it read as fresh) was "already recorded;
    nothing added", exit 0, and its note removed: the failed session was recorded
    nowhere. That report is another session's: the attempt is recorded as failed."""
    monkeypatch.setenv("EVB_TEST_AHEAD", "40")  # (within the minute a report may end late)
    assert cli("--repo", repo, "run", "--skip-checks").code == 0
    monkeypatch.delenv("EVB_TEST_AHEAD")
    kept = tmp_path / "recorded.json"
    kept.write_bytes((repo / "latest.json").read_bytes())
    monkeypatch.setenv("EVB_TEST_REPLAY", str(kept))
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and "recorded already" in r.err and "a report of another session" \
        in r.err, r.err
    assert outcomes(repo) == ["failed-code", "qualifying"]

def test_a_lost_session_is_recorded_beside_one_recorded_since(repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             cli) -> None:
    """Found by an adversary: a lost session recorded from its start to now overlapped a
    session recorded by hand since, and was refused (exit 2) with its note deleted: its
    only trace gone. Its end is not known: it is recorded at its start."""
    from evidencebot.sim.trading_repo import report, write_report

    now = datetime.now(UTC).replace(microsecond=0)
    started = noted_lost_session(repo, now - timedelta(minutes=50))
    pidfile = wrapper_note(repo)
    hand = write_report(tmp_path / "hand.json", report(finished=now - timedelta(minutes=5),
                                                       duration=1800))
    assert cli("--repo", repo, "record", hand).code == 0  # (a session after the lost one)
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and f"the session started at {started} was never recorded" in r.err, r.err
    assert outcomes(repo) == ["failed-code", "qualifying"] and not pidfile.exists()


def test_a_hand_report_does_not_swallow_a_killed_session(repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         cli) -> None:
    """Round 43: a report recorded by hand that starts where a noted session did is that
    session only when its report was refused (the note says so): a session whose run was
    killed is recorded as lost, whatever report is recorded by hand beside it."""
    from evidencebot.sim.trading_repo import report, write_report

    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    started = noted_lost_session(repo, began)
    hand = write_report(tmp_path / "hand.json", report(finished=began + timedelta(seconds=1802),
                                                       duration=1800))
    assert cli("--repo", repo, "record", hand).code == 0  # (a fake of the killed session)
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and f"the session started at {started} was never recorded" in r.err, r.err
    assert outcomes(repo) == ["failed-code", "qualifying"]

def test_a_lost_session_inside_a_recorded_span_is_recorded_after_it(  # type: ignore[no-untyped-def]
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: a run whose report ended minutes ahead (a wrapper's clock
    within the skew allowed) spans the next session's start; that session's report was
    refused as overlapping, and its lost attempt, recorded at its start, was refused the
    same way at every later run, for good. It is recorded after that span."""
    monkeypatch.setenv("EVB_TEST_AHEAD", "240")  # (a report ending four minutes ahead)
    assert cli("--repo", repo, "run", "--skip-checks", "--paper-duration-seconds", "250").code == 0
    monkeypatch.delenv("EVB_TEST_AHEAD")
    record = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)",
                 "ops/evidence").strip()
    began = datetime.fromisoformat(json.loads(git(repo, "show", f"ops/evidence:{record}"))[
        "session"]["began"])  # (a session noted five seconds before it: inside its span)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pidfile = wrapper_note(repo)
    pidfile.write_text(json.dumps({"pid": int(gone), "since": 1.0, "client_id": 17, "started": (
        began - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")}), encoding="utf-8")
    lost = cli("--repo", repo, "run", "--skip-checks")
    assert lost.code == 4 and "was never recorded" in lost.err, lost.err
    assert outcomes(repo)[0] == "failed-code" and len(outcomes(repo)) == 2
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


def test_a_lost_session_noted_after_now_is_recorded_now(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a note whose start is after now (the clock set back since
    the session ran) was recorded at that start, after its own commit, which verify
    refuses for good (record-after-commit). It is recorded now."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pidfile = wrapper_note(repo)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    ahead = (datetime.now(UTC) + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pidfile.write_text(json.dumps({"pid": int(gone), "since": 1.0, "client_id": 17,
                                   "started": ahead}), encoding="utf-8")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and f"the session started at {ahead} was never recorded" in r.err, r.err
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


def test_a_note_without_a_session_is_left_behind_quietly(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A wrapper's note from an evidencebot that noted no session (its pid gone): nothing
    to record, and the run goes on."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pidfile = wrapper_note(repo)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(json.dumps({"pid": int(gone), "since": 1.0}), encoding="utf-8")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 0, r.err
    assert not pidfile.exists()
    assert git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Outcome,valueonly)",
               "ops/evidence").strip() == "qualifying"


def test_a_run_keeps_a_log_within_the_one_limit_of_a_log(repo: Path, cli,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: `run` committed 40 MB of a wrapper's output to the
    append-only ops branch (past 100 MB a push to GitHub fails for good), while `record
    --log` refuses a log over 16 MiB. The kept log is the first and last halves of the
    limit, with a line saying what was left out between; its end, which says how the
    session ended, is there."""
    from evidencebot.runbook import capture

    monkeypatch.setattr(capture, "MAX_LOG_BYTES", 4000)
    monkeypatch.setenv("EVB_TEST_LOUD", "3000")  # (about 60 KB)
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 0, r.err
    record = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)",
                 "ops/evidence").strip()
    log = git(repo, "show", f"ops/evidence:{record[:-5]}.log")
    assert len(log.encode()) <= 4000 and "debug line 000000" in log  # (the limit, marker too)
    assert "bytes of the wrapper's output left out here; a run's log keeps its first and " \
        "last lines, 3680 bytes in all]" in log
    assert "debug line 002999" in log and "user site-packages:" in log  # (the end)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times: /proc")
@pytest.mark.parametrize("pid", ["reused", "out-of-range", "noted-in-no-time"])
def test_a_note_naming_another_process_is_a_session_no_run_recorded(  # type: ignore[no-untyped-def]
        repo: Path, cli, pid: str) -> None:
    """Found by an adversary: after a power cut another process held the noted pid (one
    that started after the wrapper did), and `run` refused with a fix that said to delete
    the note, the lost session's only trace; a pid beyond the machine's stopped every run
    with a traceback. Both are a wrapper gone: the session is recorded."""
    import time

    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        pidfile = wrapper_note(repo)
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        noted = 99999999999999999999 if pid == "out-of-range" else other.pid
        since = 1e300 if pid == "noted-in-no-time" else time.time() - 3600
        pidfile.write_text(json.dumps({"pid": noted, "since": since, "client_id": 18,
                                       "started": "2026-11-25T15:00:00Z"}), encoding="utf-8")
        r = cli("--repo", repo, "run", "--skip-checks")
        assert r.code == 4 and "the session started at 2026-11-25T15:00:00Z was never " \
            "recorded" in r.err, r.err
        assert not pidfile.exists()
    finally:
        other.communicate(b"")


@pytest.mark.parametrize("limit", [4000, 1300])
def test_a_restoration_in_the_left_out_middle_of_a_log_is_kept(  # type: ignore[no-untyped-def]
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Adversary 48: past the one limit of a log, `run` kept its first and last halves; a
    1102 restoration in the middle went with it, and a code failure after a restored loss
    was recorded as the lost connection (neutral: the streak held), verify agreeing.
    The lines with a code are kept; where even they do not fit (1300 bytes), the log
    says how many were left out, and none lets the failure pass for a lost connection."""
    from evidencebot.runbook import capture

    monkeypatch.setattr(capture, "MAX_LOG_BYTES", limit)
    monkeypatch.setenv("EVB_TEST_FARM", "0" if limit == 4000 else "50")  # (more than fit)
    cfg = (repo / "evidencebot.toml").read_text().replace(
        '"--client"', '"--mode", "restored-mid", "--client"')
    (repo / "evidencebot.toml").write_text(cfg)
    merged(repo, "reviewed config change")
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 4, r.err  # (failed)
    assert "failed-code" in r.err and "failed-infra" not in r.err, r.err
    record = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)",
                 "ops/evidence").strip()
    log = git(repo, "show", f"ops/evidence:{record[:-5]}.log")
    assert len(log.encode()) <= limit and "farm chatter 000150" not in log
    kept = json.loads(git(repo, "show", f"ops/evidence:{record}"))
    if limit == 4000:
        assert "Error 1102" in log and kept["ibkr"]["disconnects"] == 1
    else:  # (each line left out counts as the worst it could be: a disconnection)
        untold = re.search(r"; (\d+) line\(s\) with an IBKR code or a crash report left out "
                           r"too\]", log)
        assert untold is not None, log
        assert kept["ibkr"]["disconnects"] == 1 + int(untold.group(1))
    assert cli("--repo", repo, "verify", "--range", "main..ops/evidence").code == 0


@pytest.mark.parametrize(("remote", "args", "said"), [
    (False, [], "no remote"), (True, [], "pushed"), (True, ["--no-push"], None)])
def test_run_json_says_what_became_of_the_push(repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                               remote: bool, args: list[str],
                                               said: str | None) -> None:
    """Newcomer 16: the text said "pushed", or where to add a remote; --json said nothing,
    and a script had to ask `status` whether the evidence left the machine."""
    from evidencebot.sim.demo import make_remote

    if remote:
        bare = make_remote(tmp_path)
        git(repo, "remote", "add", "origin", str(bare))
        git(repo, "push", "-q", "origin", "main")
    r = cli("--repo", repo, "--json", "run", "--skip-checks", *args)
    assert r.code == 0, r.err
    assert json.loads(r.out)["push"] == said
    if said == "pushed":
        assert git(bare, "rev-parse", "ops/evidence") == git(repo, "rev-parse", "ops/evidence")
