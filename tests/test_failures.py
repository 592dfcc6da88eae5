"""`run` against the simulated gateway: retries, classification, handoff packets, refusals."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git

from evidencebot.runbook.handoff import parse_packet
from evidencebot.sim.burnin import SCENARIO_ENV
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import write_repo

OPS = "ops/evidence"
REPORT = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"


@pytest.fixture
def gateway_port(request: pytest.FixtureRequest) -> Iterator[int]:
    opts = getattr(request, "param", {})
    with running_gateway(**{"hold_client_ids": {17}, "unsubscribed": {"HSBA"}, **opts}) as port:
        yield port


@pytest.fixture
def repo(tmp_path: Path, gateway_port: int) -> Path:
    return write_repo(tmp_path / "bot", extra={
        "evidencebot.toml": demo_config(port=gateway_port, report=REPORT),
        ".gitignore": "state/\nreports/uk_tax/step1a_burnin/\n"})


def scenario(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(SCENARIO_ENV, name)


def trailers(repo: Path, rev: str = OPS) -> dict[str, str]:
    out = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def everything_committed(repo: Path) -> str:
    return git(repo, "log", "-p", "--format=%B", f"main..{OPS}")


def test_code_bug_leaves_a_handoff_packet_in_the_6c_format(repo: Path, cli,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario(monkeypatch, "code-bug")
    r = cli("--repo", repo, "run")
    assert r.code == 4 and "failed-code" in r.err and "handoff packet" in r.err
    t = trailers(repo)
    assert t["Evidence-Outcome"] == "failed-code" and t["Burnin-Streak"] == "0/3"
    packet_path = t["Handoff"]
    assert packet_path.startswith("reports/handoffs/") and "-DEBUG-" in packet_path
    packet = git(repo, "show", f"{OPS}:{packet_path}")
    fields = parse_packet(packet)
    assert fields["Heading"].startswith("Handoff: OPS → DEBUG — ")
    assert fields["Classification"] == "code-bug" and fields["Milestone"] == "MO-2"
    assert fields["Code commit"] == f"{git(repo, 'rev-parse', 'main').strip()} (clean)"
    assert fields["Exit code"] == "1"
    assert "evidencebot.sim.burnin" in fields["Command"] and fields["Command"].startswith("`")
    assert "IBKR error codes seen" in fields and "Created (UTC)" in fields
    for section in ("## What happened", "## Evidence", "## Reproduce", "## Expected vs actual"):
        assert section in packet
    assert "ZeroDivisionError" in packet and "IBKR_CLIENT_ID=18" in packet
    assert "1234567" not in everything_committed(repo)


def test_market_data_failure_names_the_next_window(repo: Path, cli,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario(monkeypatch, "market-data")
    r = cli("--repo", repo, "run")
    assert r.code == 4 and "failed-market-data" in r.err and "retry scheduled" in r.err
    t = trailers(repo)
    assert t["Evidence-Outcome"] == "failed-market-data" and "354" in t["Ibkr-Codes"]
    retry = t["Retry-After"]
    backlog = git(repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    log = git(repo, "show", f"{OPS}:SESSION_LOG.md").split("\n## ")[-1]
    assert f"retry scheduled {retry}" in backlog
    assert f"- Next: retry in the next window ({retry})" in log
    assert "1234567" not in everything_committed(repo)


def test_held_client_id_in_the_wrappers_output_retries_with_the_next(
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario(monkeypatch, "qualifying")
    r = cli("--repo", repo, "--json", "run", "--skip-checks")  # 17 first: the wrapper meets 326
    assert r.code == 0, r.err
    assert json.loads(r.out)["run"]["outcome"] == "qualifying"
    assert trailers(repo)["Ibkr-Client-Id"] == "18"


def test_connection_refused_retries_then_fails_with_the_502_fix(repo: Path, cli,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario(monkeypatch, "connect-refused")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and "failed-infra" in r.err
    assert "enable ActiveX and Socket Clients" in r.err
    assert trailers(repo)["Evidence-Outcome"] == "failed-infra"


# The gateway dies 0.3 s after the wrapper connected: mid-run, whatever the machine's load.
@pytest.mark.parametrize("gateway_port", [{"die_after": 0.3, "die_after_first_client": True}],
                         indirect=True)
def test_gateway_that_dies_mid_run_is_failed_infra(repo: Path, cli,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario(monkeypatch, "long")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 4 and "failed-infra" in r.err and "went away" in r.err
    assert trailers(repo)["Evidence-Outcome"] == "failed-infra"
    # the gateway's state after the run is the one fact the commit does not hold: verify
    # reads the log with the gateway up and gone, and takes either
    r = cli("--repo", repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 0, r.out


def test_honest_failures_of_each_kind_verify(repo: Path, cli,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`verify` reads each attempt's outcome again from its committed log and exit code,
    and finds what `run` found."""
    for name in ("market-data", "connect-refused", "code-bug"):
        scenario(monkeypatch, name)
        assert cli("--repo", repo, "run", "--skip-checks").code == 4
    outcomes = git(repo, "log", "--format=%(trailers:key=Evidence-Outcome,valueonly)", OPS)
    assert outcomes.split() == ["failed-code", "failed-infra", "failed-market-data"]
    r = cli("--repo", repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 0, r.out


# (scenario, outcome, reason) a run whose classifier was patched writes for a code
# failure: the first is no reason the classifier gives; the second names a code the log
# does not end on; the third is a reading a crash may have, but not a wrapper killed at
# its timeout (no exit code)
@pytest.mark.parametrize("relabel", [
    ("code-bug", "failed-infra", "the gateway went away (relabelled)"),
    ("code-bug", "failed-market-data", "market data unavailable (error 354)"),
    ("long", "failed-infra", "the gateway went away during the run"),
])
def test_a_code_failure_recorded_as_a_neutral_one_fails_verify(
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch, relabel: tuple[str, str, str]) -> None:  # type: ignore[no-untyped-def]
    from evidencebot.ibkr.codes import Classification
    from evidencebot.runbook import burnin

    real = burnin._classify
    seen: list[str] = []

    def patched(*args, **kwargs):  # type: ignore[no-untyped-def]
        cls = real(*args, **kwargs)
        if cls.outcome != "failed-code":
            return cls  # (the first client id is held: 326, the next)
        seen.append(cls.reason)
        return Classification(relabel[1], relabel[2], cls.codes)

    monkeypatch.setattr(burnin, "_classify", patched)
    scenario(monkeypatch, relabel[0])
    hung = ["--paper-duration-seconds", "1", "--timeout-seconds", "1.5"] \
        if relabel[0] == "long" else []  # (a wrapper that ends on its own has all the time)
    assert cli("--repo", repo, "run", "--skip-checks", *hung).code == 4
    assert len(seen) == 1 and seen[0].startswith(
        "traceback: " if relabel[0] == "code-bug" else "timed out after 1.5 s")
    assert trailers(repo)["Evidence-Outcome"] == relabel[1]
    r = cli("--repo", repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1
    assert "failure-mismatch" in r.out and (
        "exit code 1 read as failed-code (traceback: " if relabel[0] == "code-bug" else
        # (what the log held when the timeout came depends on the machine's load: the
        # reading is a code failure either way)
        "no exit code (it was killed) read as failed-code (the wrapper ") in r.out, r.out
    assert r.out.count("failure-mismatch") == 1


# The gateway dies 0.3 s after the first wrapper connected: mid-run, whatever the load.
@pytest.mark.parametrize("gateway_port", [{"die_after": 0.3, "die_after_first_client": True}],
                         indirect=True)
def test_a_failure_laid_on_the_gateway_is_named_in_the_merge_request(
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch, gateway_port: int) -> None:  # type: ignore[no-untyped-def]
    """The one reading verify cannot refute (the gateway gone after the run, which the
    commit does not hold) is put to the reviewer by name in the closure's merge request."""
    from datetime import datetime

    from evidencebot.sim.trading_repo import report, write_report

    def run(hour: int, name: str) -> None:
        monkeypatch.setenv("EVIDENCEBOT_NOW", f"2026-11-25T{hour:02d}:05:00Z")
        scenario(monkeypatch, name)
        cli("--repo", repo, "run", "--skip-checks", "--no-push")

    # the streak's first run (a report given to `record`), then the gateway goes mid-run
    first = report(finished=datetime.fromisoformat("2026-11-25T08:35:00+00:00"))
    monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-11-25T08:40:00Z")
    assert cli("--repo", repo, "record", write_report(repo.parent / "r.json", first)).code == 0
    run(9, "long")
    assert trailers(repo)["Evidence-Outcome"] == "failed-infra"
    gone = trailers(repo)["Evidence-Run-Id"]
    with running_gateway(port=gateway_port, hold_client_ids={17}):  # (restarted)
        for hour in (10, 11):
            run(hour, "qualifying")
    assert trailers(repo)["Milestone-Status"] == "CLOSED"
    description = git(repo, "show", f"{OPS}:reports/evidence/milestones/MO-2.md")
    callout = description.split("> **Laid on the gateway: 1 failed attempt(s)**\n> (", 1)[1]
    assert callout.startswith(f"{gone}) left the streak alone")
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


def test_a_run_rebuilt_on_a_moved_remote_says_so_and_closes_the_streak_it_completes(
        repo: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Found by a tester: another machine's run pushed first, so this run's commit was
    rebuilt on it at the push; the run named a commit no branch held, the streak as it
    was before, and did not close the streak the rebuilt commit completed."""
    from conftest import other_operator

    from evidencebot.sim.demo import make_remote

    remote = make_remote(tmp_path)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    scenario(monkeypatch, "qualifying")

    def run(at: Path, hour: int) -> str:
        monkeypatch.setenv("EVIDENCEBOT_NOW", f"2026-11-25T{hour:02d}:05:00Z")
        r = cli("--repo", at, "run", "--skip-checks")
        assert r.code == 0, r.err
        return r.out + r.err

    run(repo, 9)  # this machine's first run, pushed
    other = other_operator(tmp_path, remote)
    run(other, 10)  # the other machine's, pushed first
    said = run(repo, 11)  # this one's, recorded on the old tip, rebuilt at the push
    tip = git(repo, "rev-parse", OPS).strip()
    rebuilt = git(repo, "rev-parse", f"{OPS}~1").strip()  # (the closure on top of it)
    assert f"rebuilt on origin's ops/evidence: the run's commit is now {rebuilt[:12]}, " \
        "streak 3/3" in said, said
    assert trailers(repo)["Milestone-Status"] == "CLOSED", said
    assert trailers(repo, f"{OPS}~1")["Burnin-Streak"] == "3/3"
    assert git(remote, "rev-parse", OPS).strip() == tip
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


def test_failed_check_records_the_skipped_session_and_runs_nothing(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "state").mkdir()
    (repo / "state" / "kill_switch.json").write_text('{"active": true}')
    r = cli("--repo", repo, "run")
    assert r.code == 3 and "kill-switch" in r.err
    t = trailers(repo)
    assert t["Evidence-Kind"] == "check" and t["Check-Failed"] == "kill-switch"
    assert not (repo / REPORT).exists()
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0


def test_check_command_table_and_exit_codes(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ok = cli("--repo", repo, "--json", "check")
    doc = json.loads(ok.out)
    assert ok.code == 0 and doc["client_id"] == 18
    assert [c["name"] for c in doc["checks"]] == ["window", "health", "kill-switch", "gateway",
                                                 "client-id"]
    (repo / "evidencebot.toml").write_text((repo / "evidencebot.toml").read_text().replace(
        'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]', 'days = ["Mon"]').replace(
        'start = "00:00"\nend = "00:00"', 'start = "08:00"\nend = "16:00"'))
    git(repo, "commit", "-qam", "reviewed config change")  # the base runs it
    sat = cli("--repo", repo, "check", "--now", "2026-11-28T10:00:00Z")
    assert sat.code == 3 and "Saturday is not a session day" in sat.out
    assert sat.err.splitlines()[0] == "evidencebot: error: a run may not start: window failed"
    assert git(repo, "branch", "--list", OPS) == ""  # check writes nothing


def test_bad_now_is_a_usage_error(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "check", "--now", "tomorrow")
    assert r.code == 2 and "ISO-8601" in r.err
    for command in ("check", "next"):  # an empty --now is no "now": not the real clock
        r = cli("--repo", repo, command, "--now", "")
        assert r.code == 2 and "ISO-8601" in r.err, (command, r.out)


def test_health_failure_blocks_the_run(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cfg = (repo / "evidencebot.toml").read_text().replace(
        '"main.py", "uk_health_check"', '"-c", "import sys; sys.exit(1)", "x"')
    (repo / "evidencebot.toml").write_text(cfg)
    git(repo, "commit", "-qam", "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "run")
    assert r.code == 3 and "health" in r.err
    assert sys.executable  # the health command ran with this interpreter


def test_check_results_and_health_output_are_kept_with_the_run(repo: Path, cli,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scenario(monkeypatch, "qualifying")
    r = cli("--repo", repo, "--json", "run")
    assert r.code == 0, r.err
    record = json.loads(git(repo, "show", f"{OPS}:{json.loads(r.out)['run']['record']}"))
    results = {c["name"]: c for c in record["session"]["check_results"]}
    assert '"healthy": true' in results["health"]["evidence"]
    assert results["client-id"]["data"]["held"] == [17]
    assert record["ibkr"]["client_id"] == 18



def test_attempts_in_one_second_are_both_recorded(repo: Path, cli,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  pinned_now: str) -> None:
    """The check before a run builds a trial attempt named as `record` would name it: an
    attempt recorded in the same second is no rewrite of evidence (it refused the second
    run, "nothing run", when two fast failures fell in one second)."""
    scenario(monkeypatch, "connect-refused")
    for _ in range(2):
        r = cli("--repo", repo, "run", "--skip-checks")
        assert r.code == 4, r.err
    names = git(repo, "ls-tree", "--name-only", OPS, "reports/evidence/step1a/").split()
    stem = f"reports/evidence/step1a/{pinned_now.replace('-', '').replace(':', '')}-failed-infra"
    assert {f"{stem}.json", f"{stem}-2.json"} <= set(names)
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


@pytest.mark.parametrize(("end", "retried"), [("16:00", True), ("09:40", False)])
def test_a_retry_that_would_end_past_the_window_is_not_made(tmp_path: Path, cli, gateway_port: int,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            end: str, retried: bool) -> None:
    """Adversary 44a: a 502 near the window's end was retried into a session past the
    close, recorded non-qualifying (the streak broken); the failure alone is neutral."""
    config = demo_config(port=gateway_port, report=REPORT).replace(
        'start = "00:00"\nend = "00:00"', f'start = "08:00"\nend = "{end}"')
    repo = write_repo(tmp_path / "bot", extra={"evidencebot.toml": config,
                                               ".gitignore": "reports/uk_tax/step1a_burnin/\n"})
    monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-11-25T09:06:00Z")  # (35 min to 09:41)
    scenario(monkeypatch, "connect-refused")
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 4 and trailers(repo)["Evidence-Outcome"] == "failed-infra", r.err
    reason = json.loads(r.out)["error"]["message"]
    assert ("not retried: a 2100 s run started at 09:06 UTC would end at 09:41, after the "
            "window closes at 09:40" in reason) is not retried, reason
    assert trailers(repo)["Burnin-Streak"] == "0/3"
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0  # (as recorded)


def test_a_run_meeting_the_streak_on_another_ops_branch_pushes_and_says_why_it_stays_open(  # type: ignore[no-untyped-def]
        repo: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adversary 44b: a closure made on the working tree's ops/burnin failed CI for good
    (verify renders it with the base's branch). The run that meets the streak there makes
    none, says why, and pushes its own commit as any run does."""
    from evidencebot.sim.demo import make_remote

    remote = make_remote(tmp_path)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    cfg = repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "[ops]\n", '[ops]\nbranch = "ops/burnin"\n', 1), encoding="utf-8")
    scenario(monkeypatch, "qualifying")
    for hour in (9, 10, 11):
        monkeypatch.setenv("EVIDENCEBOT_NOW", f"2026-11-25T{hour:02d}:05:00Z")
        r = cli("--repo", repo, "run", "--skip-checks")
        assert r.code == 0, r.err
    assert "the streak is met, but MO-2 cannot close on ops/burnin" in r.out + r.err
    assert trailers(repo, "ops/burnin")["Burnin-Streak"] == "3/3"  # (the run, no closure)
    assert git(remote, "rev-parse", "ops/burnin") == git(repo, "rev-parse", "ops/burnin")
