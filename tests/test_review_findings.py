"""Holes a review found, each closed: a hand-written tracker row flipped or deleted on the
ops branch; a wrapper, health check or kill switch swapped in the working tree's config;
`record --log` reading anything; loosely typed report numbers; run ids Windows cannot
hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git

from evidencebot.guard.install import install_hooks
from evidencebot.sim.trading_repo import report, write_report

OPS = "ops/evidence"
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
HAND_ROW = ("| 2 | 2026-11-20 | 20261120T090000Z | 1800 | 0 | 0.9 | 200 | 21 | "
            "non-qualifying: 0 filled | copied by hand |")
CHECK_MSG = ("tidy the tracker\n\nEvidence-Kind: check\nCheck-Failed: window\n"
             "Session-Type: OPS\nEvidencebot-Version: 0.1.0\nConfig-Sha256: {sha}\n")


def rep(tmp_path: Path, day: int, **kw: object) -> Path:
    doc = report(finished=datetime(2026, 11, day, 10, 30, tzinfo=UTC), **kw)  # type: ignore[arg-type]
    return write_report(tmp_path / f"r{day}.json", doc)


@pytest.mark.parametrize("edit", ["delete", "flip"])
def test_a_hand_written_row_cannot_be_flipped_or_deleted_on_the_ops_branch(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str, edit: str) -> None:  # type: ignore[no-untyped-def]
    backlog = trading_repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text()
    last = [x for x in text.splitlines() if x.startswith("| 1 |")][0]
    backlog.write_text(text.replace(last, last + "\n" + HAND_ROW))
    git(trading_repo, "commit", "-qam", "a run recorded by hand before evidencebot")
    for day in (19, 23, 24):
        assert cli("--repo", trading_repo, "record", rep(tmp_path, day)).code == 0
    assert "MO-2: 2/3" in cli("--repo", trading_repo, "status").out  # the row breaks it
    install_hooks(trading_repo, base="main", force=True)
    git(trading_repo, "switch", "-q", OPS)
    text = backlog.read_text()
    backlog.write_text(text.replace(HAND_ROW + "\n", "") if edit == "delete" else
                       text.replace("non-qualifying: 0 filled", "qualifying"))
    sha = git(trading_repo, "log", "-1", "--format=%(trailers:key=Config-Sha256,valueonly)"
              ).strip()
    msg = CHECK_MSG.format(sha=sha)
    hooked = subprocess.run(["git", "-C", str(trading_repo), "commit", "-qa", "-F", "-"],
                            input=msg, text=True, capture_output=True)
    assert hooked.returncode == 1 and "(tracker-append-only)" in hooked.stderr
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-qa", "--no-verify", "-F", "-"],
                   input=msg, text=True, check=True)
    r = cli("--repo", trading_repo, "verify")
    assert r.code == 1 and "(tracker-append-only)" in r.out
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 1


def test_run_uses_the_reviewed_wrapper_not_the_working_trees(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "fake.py"
    fake.write_text("open('fake-ran', 'w').write('yes')\n")
    (trading_repo / "evidencebot.toml").write_text(
        "[ops]\nallow_pinned_clock = true\n"
        f"[burnin]\ncommand = [{json.dumps(sys.executable)}, {json.dumps(str(fake))}]\n"
        "timeout_seconds = 2400\n")  # uncommitted: main does not run this wrapper
    r = cli("--repo", trading_repo, "--json", "run", "--dry-run", "--skip-checks")
    doc = json.loads(r.out)
    assert str(fake) not in " ".join(doc["command"])  # the base branch's command, reviewed
    assert "pwsh" in doc["command"][0] or "run_step1a" in " ".join(doc["command"])
    other = tmp_path / "other.toml"
    other.write_text((trading_repo / "evidencebot.toml").read_text())
    r = cli("--repo", trading_repo, "--config", other, "--json", "run", "--dry-run",
            "--skip-checks")
    assert str(fake) not in " ".join(json.loads(r.out)["command"])


@pytest.mark.skipif(os.name == "nt", reason="FIFOs and /dev/zero are POSIX")
@pytest.mark.parametrize("log", ["fifo", "/dev/zero", "big"])
def test_record_log_is_bounded_and_regular(trading_repo: Path, tmp_path: Path, log: str,
                                          pinned_now: str) -> None:
    if log == "fifo":
        path = tmp_path / "log.fifo"
        os.mkfifo(path)
    elif log == "big":
        path = tmp_path / "big.log"
        with open(path, "wb") as f:
            f.truncate(17 * 1024 * 1024)
    else:
        path = Path(log)
    before = git(trading_repo, "branch", "--list", OPS)
    proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(trading_repo),
                           "record", str(rep(tmp_path, 24)), "--log", str(path)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "EVIDENCEBOT_NOW": pinned_now})
    assert proc.returncode == 2 and proc.stderr.startswith("evidencebot: error: ")
    assert "Traceback" not in proc.stderr
    assert git(trading_repo, "branch", "--list", OPS) == before


@pytest.mark.parametrize(("field", "value"), [
    (("orders", "filled"), True),
    (("symbol_data_availability_ratio",), "0.9"),
    (("paper_duration_seconds",), True),
    (("runs_completed",), 1.5),
])
def test_report_numbers_must_be_numbers(trading_repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                        pinned_now: str, field: tuple[str, ...],
                                        value: object) -> None:
    doc = report(finished=NOW - timedelta(hours=2))
    target = doc
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    r = cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 2 and r.err.startswith("evidencebot: error: ")
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_duplicate_keys_in_a_report_are_bad_input(trading_repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                  pinned_now: str) -> None:
    text = json.dumps(report(finished=NOW - timedelta(hours=2)))
    path = tmp_path / "dup.json"
    path.write_text(text[:-1] + ', "passed": false}')
    r = cli("--repo", trading_repo, "record", path)
    assert r.code == 2 and "twice" in r.err


@pytest.mark.parametrize("run_id", ["CON", "nul.txt", "x.", "-rf"])
def test_run_ids_windows_cannot_hold_are_bad_input(trading_repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                   pinned_now: str, run_id: str) -> None:
    doc = report(finished=NOW - timedelta(hours=2), run_id=run_id)
    r = cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 2 and "run_id" in r.err


def test_a_run_id_equal_to_a_recorded_one_but_for_case_is_bad_input(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    first = report(finished=NOW - timedelta(hours=4), run_id="run-a")
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "a.json",
                                                              first)).code == 0
    twin = report(finished=NOW - timedelta(hours=2), run_id="RUN-A")
    r = cli("--repo", trading_repo, "record", write_report(tmp_path / "b.json", twin))
    assert r.code == 2 and "RUN-A" in r.err and "run-a" in r.err
