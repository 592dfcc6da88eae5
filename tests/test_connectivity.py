"""Connectivity as evidence: a run's IBKR messages (its log and its report) sorted into benign,
disconnections and restorations; the counts in the record, the `Ibkr-Disconnects` trailer,
the history, and `[qualify] max_disconnects` in the verdict that `verify` re-derives."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git

from evidencebot.ibkr.codes import Connectivity, code_occurrences, connectivity, message_codes
from evidencebot.sim.trading_repo import report, write_repo, write_report

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
OPS = "ops/evidence"


@pytest.mark.parametrize(("log", "report_codes", "benign", "expected"), [
    pytest.param([2104, 2106, 2158], [], (), Connectivity(3, 0, 0, 0), id="farm-status-is-benign"),
    pytest.param([1100, 1102], [], (), Connectivity(0, 1, 1, 0), id="lost-and-restored"),
    pytest.param([1100, 1300, 2110, 10197], [], (), Connectivity(0, 4, 0, 0),
                 id="every-disconnection-kind"),
    pytest.param([1100, 1100], [1100], (), Connectivity(0, 2, 0, 0),
                 id="same-message-in-log-and-report-counts-once"),
    pytest.param([1100], [1100, 1100, 1101], (), Connectivity(0, 2, 1, 0),
                 id="the-source-showing-more-wins"),
    pytest.param([354, 2104], [], (), Connectivity(1, 0, 0, 1), id="market-data-is-other"),
    pytest.param([2110, 399], [], (2110, 399), Connectivity(2, 0, 0, 0),
                 id="benign-codes-extend-and-win"),
])
def test_connectivity_counts(log: list[int], report_codes: list[int], benign: tuple[int, ...],
                             expected: Connectivity) -> None:
    assert connectivity(log, report_codes, benign=benign) == expected


def test_code_occurrences_count_lines_not_distinct_codes() -> None:
    log = ("Error 1100, reqId -1: Connectivity between IB and TWS has been lost.\n"
           "Error 1102, reqId -1: Connectivity restored - data maintained.\n"
           "Error 1100, reqId -1: Connectivity between IB and TWS has been lost. code=1100\n")
    assert code_occurrences(log) == [1100, 1102, 1100]
    assert message_codes([{"code": 1100}, {"code": "x"}, "junk", {"code": True}]) == [1100]


@pytest.fixture(autouse=True)
def _clock(pinned_now: str) -> None:
    pass


def lossy_report(tmp_path: Path) -> Path:
    doc = report(finished=NOW - timedelta(hours=2))
    doc["ibkr_messages"] = [
        {"code": 2104, "message": "Market data farm connection is OK:usfarm"},
        {"code": 1100, "message": "Connectivity between IB and TWS has been lost."},
        {"code": 1102, "message": "Connectivity restored - data maintained."},
        {"code": 1100, "message": "Connectivity between IB and TWS has been lost."},
        {"code": 1101, "message": "Connectivity restored - data lost."},
    ]
    return write_report(tmp_path / "r.json", doc)


def repo_with(tmp_path: Path, config: str) -> Path:
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": config})


def trailer(repo: Path, key: str) -> str:
    return git(repo, "log", "-1", f"--format=%(trailers:key={key},valueonly)", OPS).strip()


def test_disconnections_are_counted_recorded_and_shown_in_history(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path, "")
    log = tmp_path / "run.log"
    log.write_text("Error 1100, reqId -1: Connectivity between IB and TWS has been lost.\n")
    r = cli("--repo", repo, "--json", "record", lossy_report(tmp_path), "--log", log)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "qualifying"  # max_disconnects unset: they do not count
    record = json.loads(git(repo, "show", f"{OPS}:{doc['run']['record']}"))
    assert record["ibkr"]["disconnects"] == 2  # the report shows two; the log's one is one of them
    assert record["ibkr"]["restorations"] == 2 and record["ibkr"]["benign_messages"] == 1
    assert trailer(repo, "Ibkr-Disconnects") == "2"
    (entry,) = json.loads(cli("--repo", repo, "--json", "history").out)["entries"]
    assert entry["disconnects"] == 2  # a number, as --json gives numbers
    assert "disconnects" in cli("--repo", repo, "history", "--csv").out.splitlines()[0]
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0


def test_max_disconnects_makes_them_part_of_the_verdict_and_verify_agrees(tmp_path: Path,
                                                                          cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path, "[qualify]\nmax_disconnects = 1\n")
    r = cli("--repo", repo, "--json", "record", lossy_report(tmp_path))
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "non-qualifying"
    assert doc["run"]["reasons"] == ["2 IBKR disconnection(s) > 1"]
    git(repo, "switch", "-q", OPS)
    v = cli("--repo", repo, "verify")
    assert v.code == 0, v.out + v.err


def test_benign_codes_from_the_base_config_keep_a_code_out_of_the_count(tmp_path: Path,
                                                                        cli) -> None:  # type: ignore[no-untyped-def]
    repo = repo_with(tmp_path, "[qualify]\nmax_disconnects = 1\n\n[ibkr]\nbenign_codes = [1100]\n")
    doc = json.loads(cli("--repo", repo, "--json", "record", lossy_report(tmp_path)).out)
    assert doc["run"]["outcome"] == "qualifying"
    assert trailer(repo, "Ibkr-Disconnects") == "0"


WRAPPER = r'''
import json, os, sys
from datetime import datetime, timedelta
now = datetime.fromisoformat(os.environ["EVIDENCEBOT_NOW"].replace("Z", "+00:00"))
start = now - timedelta(seconds=1800)
print("Error 2104, reqId -1: Market data farm connection is OK:usfarm")
print("Error 1100, reqId -1: Connectivity between IB and TWS has been lost.")
print("Error 1101, reqId -1: Connectivity restored - data lost.")
json.dump({"run_id": "20261125T163000Z", "started_at_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
  "finished_at_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "runs_requested": 1, "runs_completed": 1,
  "paper_duration_seconds": 1800, "orders": {"filled": 2}, "symbol_data_availability_ratio": 0.9,
  "preflight_bars_per_symbol": {"VOD.L": 200}, "ibkr": {"client_id": 18}}, open(sys.argv[1], "w"))
'''


def test_a_run_counts_the_disconnections_in_its_wrapper_log(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    repo = repo_with(tmp_path, "[burnin]\n"
                     f"command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "
                     '"latest.json"]\nreport = "latest.json"\ntimeout_seconds = 3600\n'
                     "[qualify]\nmax_disconnects = 0\n"
                     '[window]\nstart = "00:00"\nend = "00:00"\n')
    r = cli("--repo", repo, "--json", "run", "--skip-checks")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "non-qualifying" and doc["run"]["reasons"] == ["1 IBKR disconnection(s) > 0"]
    assert trailer(repo, "Ibkr-Disconnects") == "1"
