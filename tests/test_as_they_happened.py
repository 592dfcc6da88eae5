"""Runs as they happened: dates are run start times, why a run did not count is shown, and
after a closure the milestone reads CLOSED and nothing asks for a merge request again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import PINNED, git, record_run

from evidencebot.sim.burnin import SCENARIO_ENV
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import report, write_repo, write_report

OPS = "ops/evidence"
REPORT = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"


record = record_run  # run n of a burn-in, recorded through the CLI


def start_of(run_id: str) -> str:
    """"20261125T103958Z" -> "2026-11-25 10:39"."""
    return f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]} {run_id[9:11]}:{run_id[11:13]}"


@pytest.fixture
def repo(tmp_path: Path, pinned_now: str) -> Path:
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": '[ops]\nprovider = "none"\n'})


def test_dates_people_read_are_run_start_times(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    late = record(cli, repo, 3)  # recorded first, ran last
    early = [record(cli, repo, n) for n in (0, 1, 2)]  # recorded later, ran earlier
    status = cli("--repo", repo, "status").out
    assert f"last run: {late} qualifying, started {start_of(late)} UTC" in status
    table = cli("--repo", repo, "history").out
    for run in (late, *early):
        assert f"│ {start_of(run)} │ {run} │" in table, table
    assert "17:00" not in table.split("\n", 3)[3]  # the recording time is not shown for runs
    entries = json.loads(cli("--repo", repo, "--json", "history").out)["entries"]
    assert entries[-1]["run_id"] == late  # the history is git's: recording order
    assert entries[-1]["started_at"] == f"{start_of(late).replace(' ', 'T')}:{late[13:15]}Z"
    assert cli("--repo", repo, "close", "MO-2").code == 0
    description = git(repo, "show", f"{OPS}:reports/evidence/milestones/MO-2.md")
    streak = description.split("## The streak", 1)[1].split("##", 1)[0]
    for run in early[1:] + [late]:
        assert f"| {run} | {start_of(run)} |" in streak
    # Recorded after the fact: the reviewer is told the code state is not known.
    rows = [x for x in streak.splitlines() if x.startswith("| ") and x[2].isdigit()]
    assert len(rows) == 3 and all(" unknown | **hand** | `" in x for x in rows), rows
    attempts = description.split("## Every attempt", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in attempts.splitlines() if line.startswith("| 2026")]
    assert [r.split(" | ")[2] for r in rows] == [*early, late]  # in the order they ran


def test_why_a_run_did_not_count_is_shown(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    record(cli, repo, 0)
    bad = record(cli, repo, 1, filled=0)
    status = cli("--repo", repo, "status")
    assert f"last run: {bad} non-qualifying" in status.out
    assert "  why it does not count: 0 filled orders < 1" in status.out
    assert json.loads(cli("--repo", repo, "--json", "status").out)["last_run"]["reasons"] == [
        "0 filled orders < 1"]
    assert "non-qualifying: 0 filled orders < 1" in cli("--repo", repo, "history").out
    (entry, *_) = json.loads(cli("--repo", repo, "--json", "history").out)["entries"]
    assert entry["reasons"] == ["0 filled orders < 1"]
    csv = cli("--repo", repo, "history", "--csv").out.splitlines()
    assert csv[0].endswith(",started_at,reasons,voided") and "0 filled orders < 1" in csv[1]


def test_after_the_closure_status_and_history_say_closed_and_the_backlog_note_too(
        repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    runs = [record(cli, repo, n) for n in range(3)]
    assert cli("--repo", repo, "close", "MO-2").code == 0
    closed = f"MO-2: CLOSED on 2026-11-25 (runs {', '.join(runs)})"
    assert cli("--repo", repo, "status").out.splitlines()[0] == closed
    assert closed in cli("--repo", repo, "history").out
    backlog = git(repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    assert f"| MO-2 | CLOSED | 2026-11-25 | closed on 2026-11-25 by runs {', '.join(runs)} |" \
        in backlog
    later = report(finished=datetime.fromisoformat(PINNED) - timedelta(minutes=35 * 7))
    said = cli("--repo", repo, "record", write_report(repo.parent / "r3.json", later)).out
    # (a later run is evidence only: not "streak 4/3", which a newcomer read as a miscount)
    assert "streak 4; the milestone was closed before it)" in said and "4/3" not in said
    entry = git(repo, "show", f"{OPS}:SESSION_LOG.md").split("\n## ")[-1]
    assert "- Next: MO-2 is closed; this run is recorded as evidence only" in entry
    assert cli("--repo", repo, "status").out.splitlines()[0] == closed


@pytest.fixture
def gateway_port() -> Iterator[int]:
    with running_gateway(hold_client_ids={17}) as port:
        yield port


def test_runs_after_the_closure_say_nothing_more_about_the_merge_request(
        tmp_path: Path, gateway_port: int, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = write_repo(tmp_path / "bot", extra={
        "evidencebot.toml": demo_config(port=gateway_port, report=REPORT).replace(
            'provider = "gitlab"', 'provider = "none"'),
        ".gitignore": "state/\nreports/uk_tax/step1a_burnin/\n"})
    outputs = []
    for n, scenario in enumerate(["qualifying"] * 4 + ["code-bug"]):
        at = (datetime(2026, 11, 24, 9, 30, tzinfo=UTC) + timedelta(hours=n))
        monkeypatch.setenv("EVIDENCEBOT_NOW", at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        monkeypatch.setenv(SCENARIO_ENV, scenario)
        r = cli("--repo", repo, "run", "--skip-checks", "--no-push")
        outputs.append(r.out + r.err)
    assert "MO-2 closed in" in outputs[2] and "merge request" in outputs[2]
    assert "merge request" not in outputs[3] and "MO-2" not in outputs[3].split("\n", 1)[1]
    assert "merge request" not in outputs[4]
    kinds = git(repo, "log", "--format=%(trailers:key=Evidence-Kind,valueonly,separator=)",
                OPS).split()
    assert kinds.count("milestone") == 1
    handoff = git(repo, "log", "-1", "--format=%(trailers:key=Handoff,valueonly,separator=)",
                  OPS).strip()
    packet = git(repo, "show", f"{OPS}:{handoff}")
    assert "streak starts again" not in packet and "MO-2 is already closed" in packet


@pytest.mark.parametrize(("trailers", "shown"), [
    ({"Code-Commit": "a" * 40, "Code-Dirty": "false"}, f"`{'a' * 10}` clean"),
    ({"Code-Commit": "b" * 40, "Code-Dirty": "true"}, f"`{'b' * 10}` dirty"),
    ({"Code-Commit": "c" * 40, "Code-Dirty": "unknown"}, f"`{'c' * 10}` unknown"),
    ({"Code-Commit": "none", "Code-Dirty": "unknown"}, "unknown"),
    ({}, "unknown"),
])
def test_the_merge_request_shows_each_runs_code_state(trailers: dict[str, str],
                                                      shown: str) -> None:
    from evidencebot.milestone.describe import _code

    assert _code(trailers) == shown
