"""A merge request from any branch but the ops branch is code, and CI runs `verify` on it
too (the jobs `init --ci` writes run on every merge request: one that asked for the ops
branch's name would skip a look-alike, and a skipped job passes). A range that holds no
ops commit is judged as code: it writes nothing under the evidence folders and closes
no milestone; everything else is the code review's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import git

from evidencebot.sim.trading_repo import report, write_report

OPS = "ops/evidence"
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
LOOK_ALIKE = "\u043eps/evidence"  # (a Cyrillic o: no ops branch to evidencebot)


def verify(cli, repo: Path, branch: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def,type-arg]
    r = cli("--repo", repo, "--json", "verify", "--base", "main", "--range", f"main..{branch}")
    return r.code, json.loads(r.out)


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def test_a_code_branch_passes_as_code(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", "feature/sizing")
    (trading_repo / "src" / "sizing.py").write_text("LOT = 100\n")
    (trading_repo / "README.md").write_text("notes\n")
    commit_all(trading_repo, "sizing")
    code, doc = verify(cli, trading_repo, "feature/sizing")
    assert (code, doc["ok"], doc["code"], doc["commits"]) == (0, True, True, 1)
    text = cli("--repo", trading_repo, "verify", "--base", "main", "--range",
               "main..feature/sizing")
    assert "judged as code" in text.out and text.code == 0


def test_a_milestone_closed_by_hand_on_a_look_alike_branch_is_caught(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", LOOK_ALIKE)
    design = trading_repo / "PROJECT_DESIGN.md"
    text = design.read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith("| MO-2 "))
    design.write_text(text.replace(row, row.replace("OPEN", "CLOSED")))
    commit_all(trading_repo, "evidence(milestone): close MO-2")
    code, doc = verify(cli, trading_repo, LOOK_ALIKE)
    assert code == 1 and doc["code"]
    assert [(v["rule"], v["path"]) for v in doc["violations"]] == [
        ("milestone-closed-by-hand", "PROJECT_DESIGN.md")]


def test_evidence_written_by_a_code_commit_is_caught(trading_repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                     pinned_now: str) -> None:
    doc = report(finished=NOW - timedelta(hours=3))
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    record = git(trading_repo, "diff", "--name-only", f"main..{OPS}", "--",
                 "reports/evidence/step1a/*.json").split()
    git(trading_repo, "switch", "-q", "-c", "feature/backfill", "main")
    git(trading_repo, "checkout", OPS, "--", *record)  # the record, without its ops commit
    commit_all(trading_repo, "backfill")
    code, found = verify(cli, trading_repo, "feature/backfill")
    assert code == 1 and found["code"]
    assert [(v["rule"], v["path"]) for v in found["violations"]] == [
        ("evidence-in-code", record[0])]


def test_a_code_branch_that_merged_main_s_evidence_in_passes(trading_repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             cli, pinned_now: str) -> None:
    """A merge's change against its first parent holds the other side's: the evidence
    merged into main is no commit of the code branch's."""
    git(trading_repo, "switch", "-q", "-c", "feature/older", "main")
    (trading_repo / "src" / "older.py").write_text("A = 1\n")
    commit_all(trading_repo, "older")
    doc = report(finished=NOW - timedelta(hours=3))
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", OPS, "-m", "Merge ops/evidence")
    git(trading_repo, "switch", "-q", "feature/older")
    git(trading_repo, "merge", "-q", "--no-ff", "main", "-m", "Merge main")
    code, found = verify(cli, trading_repo, "feature/older")
    assert (code, found["code"], found["violations"]) == (0, True, [])


def test_a_range_with_an_ops_commit_is_no_code_range(trading_repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                     pinned_now: str) -> None:
    """Ops commits under another name (a code merge request carrying runs) are judged as
    ops commits, and the code beside them is then out of place."""
    doc = report(finished=NOW - timedelta(hours=3))
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    git(trading_repo, "switch", "-q", "-c", "feature/data", OPS)
    (trading_repo / "src" / "data.py").write_text("B = 2\n")
    commit_all(trading_repo, "data")
    code, found = verify(cli, trading_repo, "feature/data")
    assert code == 1 and not found["code"] and len(found["runs"]) == 1
    assert "not-an-ops-commit" in {v["rule"] for v in found["violations"]}
