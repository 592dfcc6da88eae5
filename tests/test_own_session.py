"""A report `run` hands in is of the session `run` started: one whose session began more
than the clock skew before `run` started the wrapper ran no session (a wrapper that
replays a report, say), and does not qualify; `verify` reads the same from the record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git

from evidencebot.sim.burnin import SCENARIO_ENV
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import write_repo

OPS = "ops/evidence"
REPORT = "state/latest.json"


@pytest.fixture
def port() -> Iterator[int]:
    with running_gateway() as p:
        yield p


def repo_at(tmp_path: Path, port: int, *, pinned: bool) -> Path:
    """The demo's repository (its window always open); ``pinned``: its config allows
    EVIDENCEBOT_NOW."""
    return write_repo(tmp_path / "bot", pinned_clock=pinned, extra={
        "evidencebot.toml": demo_config(port=port, report=REPORT), ".gitignore": "state/\n"})


def record_of(repo: Path) -> dict:  # type: ignore[type-arg]
    path = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)",
               OPS).strip()
    return json.loads(git(repo, "show", f"{OPS}:{path}"))


def test_a_report_of_a_half_hour_already_gone_does_not_qualify(
        tmp_path: Path, port: int, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The simulated wrapper returns at once with a report of the half hour that ends
    now: on a real clock, a session that began before `run` started it."""
    repo = repo_at(tmp_path, port, pinned=False)
    monkeypatch.setenv(SCENARIO_ENV, "qualifying")
    r = cli("--repo", repo, "run", "--skip-checks", "--no-push")
    assert r.code == 0, r.err
    record = record_of(repo)
    assert record["outcome"] == "non-qualifying"
    (reason,) = [x for x in record["verdict"]["reasons"] if "before `run` started it" in x]
    assert reason.startswith(f"the report's session started at {record['started_at']}, ")
    # (the session began when `run` started it, just before the report's half hour ended:
    # compared as times, not as text to the minute, which a run across a minute's turn
    # failed)
    from evidencebot.evidence.stamps import parse_stamp

    began, finished = parse_stamp(record["session"]["began"]), parse_stamp(record["finished_at"])
    assert 0 <= (finished - began).total_seconds() < 60
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


def test_verify_reads_the_session_s_start_from_the_record(
        tmp_path: Path, port: int, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Recorded qualifying by a `run` that did not ask (its rule taken out), the same
    run is an outcome mismatch to `verify`."""
    from evidencebot.ledger import recorder

    real = recorder.verdict_for
    monkeypatch.setattr(recorder, "verdict_for",
                        lambda *a, **k: real(*a, **{**k, "began": None}))
    repo = repo_at(tmp_path, port, pinned=False)
    monkeypatch.setenv(SCENARIO_ENV, "qualifying")
    assert cli("--repo", repo, "run", "--skip-checks", "--no-push").code == 0
    assert record_of(repo)["outcome"] == "qualifying"
    v = cli("--repo", repo, "--json", "verify", "--range", f"main..{OPS}")
    found = json.loads(v.out)["violations"]
    assert v.code == 1 and [x["rule"] for x in found] == ["outcome-mismatch"]
    assert "before `run` started it" in found[0]["message"]


def wrapped_repo(tmp_path: Path, wrapper: str, *, min_seconds: int) -> Path:
    """A repository whose [burnin] command is ``wrapper`` (a script writing latest.json),
    on a real clock, its window always open."""
    import sys

    import evidencebot

    script = tmp_path / "wrapper.py"
    script.write_text(wrapper)
    src = str(Path(evidencebot.__file__).parent.parent)
    return write_repo(tmp_path / "bot", pinned_clock=False, extra={
        "evidencebot.toml": "[burnin]\n"
        f"command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "
        f'"latest.json", {json.dumps(src)}]\n'
        f'report = "latest.json"\n[qualify]\nmin_paper_duration_seconds = {min_seconds}\n'
        '[window]\ndays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]\n'
        'start = "00:00"\nend = "00:00"\nholidays = ""\n',
        ".gitignore": "latest.json\n"})


FUTURE_WRAPPER = """\
import json, sys
from datetime import datetime, timedelta, timezone
sys.path.insert(0, sys.argv[2])
from evidencebot.sim.trading_repo import report
now = datetime.now(timezone.utc).replace(microsecond=0)
doc = report(finished=now + timedelta(seconds=200), duration=210)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(doc, f)
"""


def test_a_report_of_a_session_still_to_come_does_not_qualify(
        tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a wrapper that returns at once with a report finishing a few
    minutes ahead (inside what `record` allows a clock to run fast) claimed minutes on
    paper it never spent. `run` and its wrapper read one clock: the session finished no
    later than `run` recorded it."""
    repo = wrapped_repo(tmp_path, FUTURE_WRAPPER, min_seconds=200)
    r = cli("--repo", repo, "run", "--skip-checks", "--no-push")
    assert r.code == 0, r.err
    record = record_of(repo)
    assert record["outcome"] == "non-qualifying"
    assert [x for x in record["verdict"]["reasons"] if "after `run` recorded it" in x] == [
        f"the report's session finished at {record['finished_at']}, after `run` recorded it "
        f"at {record['recorded_at']}: a report of another session"]
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


STRETCHED_WRAPPER = """\
import json, sys
from datetime import datetime, timedelta, timezone
sys.path.insert(0, sys.argv[2])
from evidencebot.sim.trading_repo import report
now = datetime.now(timezone.utc).replace(microsecond=0)
doc = report(finished=now + timedelta(seconds=55), duration=165)
doc["started_at_utc"] = (now - timedelta(seconds=55)).strftime("%Y-%m-%dT%H:%M:%SZ")
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(doc, f)
"""


def test_the_allowances_of_a_run_s_times_do_not_add_up(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Adversary 48: a report may start a minute before `run` started the wrapper, finish
    a minute after `run` recorded it, and span a minute less than it claims: a wrapper
    that worked a second claimed three minutes of paper trading and qualified. It claims
    no more than `run` ran it for, a minute aside."""
    repo = wrapped_repo(tmp_path, STRETCHED_WRAPPER, min_seconds=160)
    r = cli("--repo", repo, "run", "--skip-checks", "--no-push")
    assert r.code == 0, r.err
    record = record_of(repo)
    reasons = record["verdict"]["reasons"]
    assert record["outcome"] == "non-qualifying" and len(reasons) == 1, reasons
    assert reasons[0].startswith("the report claims 165 s of paper trading, but `run` ran "
                                 "the session for "), reasons
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0
