"""`verify` finds what slipped past the hook: forged trailers, forged records, early CLOSED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import git

from evidencebot.sim.trading_repo import report, write_report

OPS = "ops/evidence"
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


@pytest.fixture
def recorded(trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> Path:  # type: ignore[no-untyped-def]
    for i, filled in enumerate((2, 3)):
        doc = report(finished=NOW - timedelta(hours=5 - i), filled=filled)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{i}.json", doc)).code == 0
    git(trading_repo, "switch", "-q", OPS)
    return trading_repo


def amend_message(repo: Path, old: str, new: str) -> None:
    msg = git(repo, "log", "-1", "--format=%B")
    assert old in msg
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--amend", "--no-verify", "-F", "-"],
                   input=msg.replace(old, new), text=True, check=True)


def test_clean_ops_branch_passes(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", recorded, "--json", "verify")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["ok"] and len(doc["runs"]) == 2 and doc["commits"] == 2


@pytest.mark.parametrize(("old", "new", "key"), [
    ("Burnin-Filled-Orders: 3", "Burnin-Filled-Orders: 5", "Burnin-Filled-Orders"),
    ("Burnin-Streak: 2/3", "Burnin-Streak: 3/3", "Burnin-Streak"),
    ("Code-Dirty: unknown", "Code-Dirty: false", "Code-Dirty"),
    ("Burnin-Symbol-Data-Availability-Ratio: 0.857", "Burnin-Symbol-Data-Availability-Ratio: 0.9",
     "Burnin-Symbol-Data-Availability-Ratio"),
])
def test_forged_trailer_is_caught(recorded: Path, cli, old: str, new: str, key: str) -> None:  # type: ignore[no-untyped-def]
    amend_message(recorded, old, new)
    r = cli("--repo", recorded, "verify")
    assert r.code == 1
    assert f"{key}: trailer says" in r.out and "(trailer-mismatch)" in r.out


def test_forged_record_sha_is_caught(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    msg = git(recorded, "log", "-1", "--format=%B")
    sha = next(ln.split(": ")[1] for ln in msg.splitlines() if ln.startswith("Evidence-Record-Sha256"))
    amend_message(recorded, sha, "0" * 64)
    r = cli("--repo", recorded, "verify")
    assert r.code == 1 and "Evidence-Record-Sha256" in r.out


def test_record_whose_outcome_does_not_follow_from_its_metrics(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # A self-consistent forgery of the outcome: record and trailers agree, thresholds do not.
    path = git(recorded, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)").strip()
    git(recorded, "reset", "-q", "--hard", "HEAD~1")
    rec = json.loads(git(recorded, "show", f"ORIG_HEAD:{path}"))
    rec["metrics"]["filled_orders"] = 0
    (recorded / path).parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(rec, indent=2) + "\n").encode()
    (recorded / path).write_bytes(data)
    import hashlib

    msg = git(recorded, "log", "-1", "--format=%B", "ORIG_HEAD")
    old_sha = next(ln.split(": ")[1] for ln in msg.splitlines() if ln.startswith("Evidence-Record-Sha256"))
    msg = msg.replace(old_sha, hashlib.sha256(data).hexdigest()).replace(
        "Burnin-Filled-Orders: 3", "Burnin-Filled-Orders: 0")
    git(recorded, "add", path)
    subprocess.run(["git", "-C", str(recorded), "commit", "-q", "--no-verify", "-F", "-"],
                   input=msg, text=True, check=True)
    r = cli("--repo", recorded, "verify")
    assert r.code == 1 and "(outcome-mismatch)" in r.out
    # and the metric itself is not what the record's own report gives
    assert "filled_orders: the record says 0, its report gives 3" in r.out
    assert r.out.count("(metrics-mismatch)") == 1


def test_hand_made_early_closed_is_caught(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    p = recorded / "PROJECT_DESIGN.md"
    p.write_text(p.read_text().replace("100 bars) | OPEN", "100 bars) | CLOSED"))
    msg = ("close MO-2\n\nEvidence-Kind: milestone\nMilestone: MO-2\nMilestone-Status: CLOSED\n"
           "Milestone-Evidence: a, b, c\nSession-Type: OPS\nEvidencebot-Version: 0.1.0\n"
           "Config-Sha256: none\n")
    subprocess.run(["git", "-C", str(recorded), "commit", "-qa", "--no-verify", "-F", "-"],
                   input=msg, text=True, check=True)
    r = cli("--repo", recorded, "--json", "verify")
    doc = json.loads(r.out)
    rules = {v["rule"] for v in doc["violations"]}
    assert r.code == 1 and "milestone-closed-early" in rules
    v = next(v for v in doc["violations"] if v["path"] == "PROJECT_DESIGN.md")
    assert v["section"] == "9. Operational Milestones Tracker" and v["lines"] and v["fix"]


def test_commit_without_trailers_on_the_ops_branch_is_caught(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(recorded, "commit", "-q", "--allow-empty", "--no-verify", "-m", "just a note")
    r = cli("--repo", recorded, "verify")
    assert r.code == 1 and "(not-an-ops-commit)" in r.out


def test_passes_on_main_after_a_merge_commit_and_finds_every_run(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(recorded, "switch", "-q", "main")
    git(recorded, "merge", "-q", "--no-ff", OPS, "-m", "Merge ops/evidence")
    r = cli("--repo", recorded, "--json", "verify")
    doc = json.loads(r.out)
    assert r.code == 0 and len(doc["runs"]) == 2 and not doc["squashed"]


def test_squash_merge_is_reported_plainly(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(recorded, "switch", "-q", "main")
    git(recorded, "merge", "-q", "--squash", OPS)
    git(recorded, "commit", "-q", "-m", "Squashed ops")
    r = cli("--repo", recorded, "verify")
    assert r.code == 1 and "the history was squashed" in r.out
    assert "nothing to judge" not in r.out  # (no ops commit is left to judge: that is why)


def test_a_squash_is_found_in_the_configured_evidence_folder(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text() + '\n[docs]\nevidence_dir = "reports/burnin"\n')
    git(trading_repo, "commit", "-qam", "records under reports/burnin")
    doc = report(finished=NOW - timedelta(hours=5))
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    git(trading_repo, "merge", "-q", "--squash", OPS)
    git(trading_repo, "commit", "-q", "-m", "Squashed ops")
    r = cli("--repo", trading_repo, "verify")
    assert r.code == 1 and "(history-squashed)" in r.out


def test_bad_range_is_a_usage_error(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", recorded, "verify", "--range", "nope..HEAD")
    assert (r.code, r.err) == (2, "evidencebot: error: --range 'nope..HEAD': no commit 'nope'\n"
                                  "Fix: give two existing commits as A..B, e.g. --range "
                                  "main..HEAD\n")
    both = cli("--repo", recorded, "--json", "verify", "--range", "nope..gone")
    assert json.loads(both.out)["error"]["message"] == \
        "--range 'nope..gone': no commit 'nope' and no commit 'gone'"
    assert "not of the form A..B" in cli("--repo", recorded, "verify", "--range", "main").err
    # a reflog entry or a search that names nothing ends git's object reader: said the same
    for side in ("ops/evidence@{99}", ":/no such subject"):
        r = cli("--repo", recorded, "verify", "--range", f"main..{side}")
        assert (r.code, r.err.splitlines()[0]) == (
            2, f"evidencebot: error: --range 'main..{side}': no commit '{side}'"), r.err
    ok = cli("--repo", recorded, "verify", "--range", "main..ops/evidence")
    assert ok.code == 0


def test_rules_come_from_the_base_branch_not_the_ops_branch(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # Loosening the rules on the ops branch (two commits: config, then a src/ edit) fails.
    (recorded / "evidencebot.toml").write_text('[scope]\nallowed_paths = ["**"]\nforbidden_paths = []\n')
    git(recorded, "add", "evidencebot.toml")
    git(recorded, "commit", "-q", "--no-verify", "-m", "widen")
    (recorded / "src" / "broker" / "session.py").write_text("x = 2\n")
    git(recorded, "commit", "-qa", "--no-verify", "-m", "code")
    r = cli("--repo", recorded, "verify")
    assert r.code == 1
    assert "evidencebot.toml" in r.out and "src/broker/session.py" in r.out


def test_orphan_ops_history_is_reported_not_crashed_on(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A root commit in the range (an orphan branch holding the ops tree) is judged like any
    other commit: a finding per rule, never a git error."""
    tree = git(recorded, "rev-parse", f"{OPS}^{{tree}}").strip()
    root = git(recorded, "commit-tree", tree, "-m", "orphan with the ops tree").strip()
    git(recorded, "branch", "-f", "ops/orphan", root)
    git(recorded, "switch", "-q", "ops/orphan")
    r = cli("--repo", recorded, "--json", "verify")
    doc = json.loads(r.out)
    rules = {v["rule"] for v in doc["violations"]}
    assert r.code == 1 and "Traceback" not in r.err
    # (no trailers on it: a code range, whose commit writes the evidence folder)
    assert {"evidence-in-code", "not-from-base"} <= rules


def test_orphan_merged_into_the_ops_branch_is_not_from_base(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """An unrelated history merged in: its commits are reachable from the ops tip but do not
    descend from the base, and git cannot re-make the merge."""
    tree = git(recorded, "rev-parse", f"{OPS}^{{tree}}").strip()
    root = git(recorded, "commit-tree", tree, "-m", "unrelated").strip()
    tip = git(recorded, "rev-parse", OPS).strip()
    merge = git(recorded, "commit-tree", tree, "-p", tip, "-p", root, "-m", "merge").strip()
    git(recorded, "update-ref", f"refs/heads/{OPS}", merge)
    r = cli("--repo", recorded, "--json", "verify")
    doc = json.loads(r.out)
    found = {(v["commit"], v["rule"]) for v in doc["violations"]}
    assert r.code == 1 and "Traceback" not in r.err
    assert (root, "not-from-base") in found
    assert (merge, "merge-with-changes") in found


def test_a_record_path_leaving_the_repository_is_a_finding(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`HEAD:../x` stops git's object reader altogether: verify must neither ask it nor go
    silent, and must report the forged commit."""
    msg = ("run: forged\n\nEvidence-Kind: step1a-burnin\nEvidence-Run-Id: forged-1\n"
           "Evidence-Outcome: qualifying\nEvidence-Record: ../x.json\n")
    subprocess.run(["git", "-C", str(recorded), "commit", "-q", "--allow-empty", "--no-verify",
                    "-m", msg], check=True)
    r = cli("--repo", recorded, "verify")
    assert r.code == 1 and "FAILED" in r.out, (r.out, r.err)



def test_on_the_base_branch_before_any_ops_commit_nothing_is_judged(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                                    cli) -> None:
    """History mode with no ops commit reachable judges no commit: not the base branch's
    own merges, nor its commits dated ahead of the clock."""
    git(trading_repo, "checkout", "-qb", "side")
    (trading_repo / "side.txt").write_text("side\n")
    git(trading_repo, "add", "side.txt")
    git(trading_repo, "commit", "-qm", "side")
    git(trading_repo, "checkout", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", "--no-commit", "side")
    (trading_repo / "extra.txt").write_text("not in either parent\n")
    git(trading_repo, "add", "extra.txt")
    git(trading_repo, "commit", "-qm", "merge, edited")
    git(trading_repo, "commit", "-q", "--allow-empty", "-m", "later", "--date",
        "2031-01-01T00:00:00Z")
    r = cli("--repo", trading_repo, "--json", "verify")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["commits"] == 0 and doc["violations"] == [], r.out
    said = cli("--repo", trading_repo, "verify").out.splitlines()
    assert said[1:] == ["nothing to judge here: run it on ops/evidence, or give the range, "
                        "e.g. --range main..ops/evidence", "OK"]
    reversed_ = cli("--repo", trading_repo, "verify", "--range", "HEAD..main").out
    assert "the range holds no commits: A..B is what B holds and A does not" in reversed_
    # a fresh clone has the ops branch at its remote only: the hint names that
    git(trading_repo, "update-ref", "refs/remotes/origin/ops/evidence", "HEAD")
    said = cli("--repo", trading_repo, "verify").out.splitlines()
    assert said[1].endswith("e.g. --range main..origin/ops/evidence"), said


def test_a_run_s_streak_counts_the_rows_before_it_not_a_row_added_beside_it(
        recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A hand-written non-qualifying row slipped into the last run's own commit (the
    tracker section takes any addition), dated between the two runs, would reset the
    streak; it does not count for that run's Burnin-Streak: the run was recorded against
    its parent's tracker, and verify re-derives the streak from that one."""
    def run_id(rev: str) -> datetime:
        stamp = git(recorded, "log", "-1", "--format=%(trailers:key=Evidence-Run-Id,valueonly)",
                    rev).strip()
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")

    hand = run_id("HEAD~1") + (run_id("HEAD") - run_id("HEAD~1")) / 2
    _add_hand_row(recorded, f"{hand:%Y-%m-%d}", f"{hand:%Y%m%dT%H%M%SZ}")
    git(recorded, "commit", "-q", "-a", "--amend", "--no-edit", "--no-verify")
    assert "Burnin-Streak: 2/3" in git(recorded, "log", "-1", "--format=%B")
    r = cli("--repo", recorded, "--json", "verify")
    assert "Burnin-Streak" not in r.out, r.out  # re-derived from the parent's tracker
    amend_message(recorded, "Burnin-Streak: 2/3", "Burnin-Streak: 1/3")
    r = cli("--repo", recorded, "--json", "verify")
    assert "Burnin-Streak: trailer says '1/3'" in r.out, r.out


def _add_hand_row(repo: Path, day: str, run_id: str) -> None:
    """A non-qualifying tracker row written by hand under the last row (60 s long)."""
    backlog = repo / "IMPLEMENTATION_BACKLOG.md"
    lines = backlog.read_text(encoding="utf-8").splitlines(keepends=True)
    last_row = max(i for i, ln in enumerate(lines) if ln.startswith("| ") and "Z |" in ln)
    lines.insert(last_row + 1, f"| x | {day} | {run_id} | 60 | 0 | 0.1 | 1 | 7 | "
                               "non-qualifying | by hand |\n")
    backlog.write_text("".join(lines), encoding="utf-8")


def test_a_range_that_starts_above_the_base_is_refused(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A range starting above the base (a tag named like the base branch did it once: git
    resolves `main` to the tag first; that is refused as ambiguous now) judged the last
    commit only, while the streak read the unjudged commits below it. A range must start
    on the base branch."""
    forged = "Burnin-Streak: 2/3"
    amend_message(recorded, forged, "Burnin-Streak: 3/3")  # caught when judged
    git(recorded, "commit", "-q", "--allow-empty", "--no-verify", "-m", "note")
    above = git(recorded, "rev-parse", "HEAD~1").strip()
    r = cli("--repo", recorded, "--json", "verify", "--range", f"{above}..ops/evidence")
    doc = json.loads(r.out)
    assert r.code == 1 and "range-not-from-base" in {v["rule"] for v in doc["violations"]}
    git(recorded, "tag", "main", "HEAD~1")
    assert cli("--repo", recorded, "verify", "--range", "main..ops/evidence").code == 2
    r = cli("--repo", recorded, "--json", "verify", "--range",
            "refs/heads/main..ops/evidence")  # the whole range: the forgery is found
    assert r.code == 1 and "Burnin-Streak: trailer says '3/3'" in r.out
    git(recorded, "tag", "-d", "main")
    base = git(recorded, "merge-base", "refs/heads/main", "ops/evidence").strip()
    r = cli("--repo", recorded, "--json", "verify", "--range", f"{base}..ops/evidence")
    assert "range-not-from-base" not in r.out  # the merge base is on the base


def test_a_replace_ref_does_not_show_verify_another_commit(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`git replace` (refs/replace/*, which a fetch can bring) made git show the genuine
    run commit in place of the branch's tip, a copy of it that also edits src/: verify
    read through it and said OK. Every git call now reads the objects themselves."""
    genuine = git(recorded, "rev-parse", "HEAD").strip()
    src = next(p for p in git(recorded, "ls-files", "src").split() if p.endswith(".py"))
    (recorded / src).write_text((recorded / src).read_text() + "# widened\n")
    git(recorded, "commit", "-q", "-a", "--amend", "--no-edit", "--no-verify")
    git(recorded, "replace", git(recorded, "rev-parse", "HEAD").strip(), genuine)
    assert "widened" not in git(recorded, "show", "HEAD")  # git itself shows the genuine one
    r = cli("--repo", recorded, "verify", "--range", "main..ops/evidence")
    assert r.code == 1 and f"{src}: ops commits may not touch src/" in r.out, r.out


def test_a_run_ending_a_fraction_of_a_second_after_the_window_agrees_everywhere(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """The record keeps whole seconds; `record` judged the window on the report's own
    times (16:00:00.9 is after a 16:00 close). verify judged the stored 16:00:00 and
    called the honest verdict an outcome-mismatch: CI failed for good. Both read the
    report's times now."""
    doc = report(finished=datetime(2026, 11, 25, 16, 0, tzinfo=UTC), filled=2)
    doc["started_at_utc"] = doc["started_at_utc"].replace("Z", ".5Z")
    doc["finished_at_utc"] = "2026-11-25T16:00:00.9Z"
    r = cli("--repo", trading_repo, "--json", "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 0 and json.loads(r.out)["run"]["outcome"] == "non-qualifying", r.out
    r = cli("--repo", trading_repo, "--json", "verify", "--range", "main..ops/evidence")
    assert r.code == 0, r.out


def _recommit_last_run(repo: Path, change: str) -> str:
    """A commit carrying the last run commit's message again, after ``change`` to its
    record ("none", "edit", "delete", "folder": the record's path becomes a folder)."""
    path = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)").strip()
    msg = git(repo, "log", "-1", "--format=%B")
    if change == "edit":
        (repo / path).write_bytes((repo / path).read_bytes() + b"\n")
    elif change == "delete":
        git(repo, "rm", "-q", path)
    elif change == "folder":
        git(repo, "rm", "-q", path)
        (repo / path).mkdir()
        (repo / path / "inner.txt").write_bytes(b"x\n")
    git(repo, "add", "-A")
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "--no-verify",
                    "-F", "-"], input=msg, text=True, check=True)
    return path


@pytest.mark.parametrize(("change", "rule"), [
    ("none", "record-not-new"),    # the record unchanged: asked of git by path
    ("edit", "record-not-new"),    # changed: both sides read from the commit's own diff
    ("delete", "record-missing"),
    ("folder", "record-missing"),  # git records a file becoming a folder as two changes
])
def test_a_run_commit_must_add_its_record(recorded: Path, cli, change: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    _recommit_last_run(recorded, change)
    head = git(recorded, "rev-parse", "HEAD").strip()
    r = cli("--repo", recorded, "--json", "verify")
    found = {(v["commit"], v["rule"]) for v in json.loads(r.out)["violations"]}
    assert r.code == 1 and (head, rule) in found, r.out
    assert {c for c, _ in found} == {head}  # the commits before it are still clean


def _write_tree(repo: Path, rows: list[tuple[str, str, str]]) -> str:
    """A tree object of ``rows`` (mode, id, name) exactly in that order, as a forger would
    write it (`hash-object --literally`: git's own commands would sort it)."""
    data = b"".join(f"{mode} {name}".encode() + b"\x00" + bytes.fromhex(oid)
                    for mode, oid, name in rows)
    return subprocess.run(["git", "-C", str(repo), "hash-object", "-t", "tree", "--literally",
                           "-w", "--stdin"], input=data, capture_output=True,
                          check=True).stdout.decode().strip()


def _rows(repo: Path, tree: str) -> list[tuple[str, str, str]]:
    out = []
    for line in git(repo, "ls-tree", tree).splitlines():
        meta, name = line.split("\t", 1)
        mode, _kind, oid = meta.split()
        out.append(("40000" if mode == "040000" else mode, oid, name))
    return out


def _swap_in(repo: Path, tree: str, path: list[str], leaf: list[tuple[str, str, str]]) -> str:
    """``tree`` with the folder at ``path`` replaced by a tree of ``leaf`` (written as is)."""
    if not path:
        return _write_tree(repo, leaf)
    rows = _rows(repo, tree)
    i = next(k for k, r in enumerate(rows) if r[2] == path[0])
    rows[i] = (rows[i][0], _swap_in(repo, rows[i][1], path[1:], leaf), rows[i][2])
    return _write_tree(repo, rows)


@pytest.mark.parametrize("shape", ["unsorted", "named-twice", "decoy"])
def test_a_hand_written_tree_git_would_not_write_is_a_finding(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                              shape: str) -> None:
    """In a tree out of git's order the diff shows a record that a lookup by path does not
    find; with a folder named twice the diff and a checkout see different folders. verify
    judges git's diff, so it refuses such trees outright."""
    record = git(recorded, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)").strip()
    folder = record.rsplit("/", 1)[0].split("/")
    head = git(recorded, "rev-parse", "HEAD").strip()
    top = git(recorded, "rev-parse", "HEAD^{tree}").strip()
    if shape in ("unsorted", "decoy"):
        leaf = _rows(recorded, f"{head}:{'/'.join(folder)}")
        assert len(leaf) >= 2
        tree = _swap_in(recorded, top, folder, leaf[::-1])
        where = {"/".join(folder) + "/"}
        if shape == "decoy":  # a top entry named like the folder: git log names it twice
            empty = _write_tree(recorded, [])
            tree = _write_tree(recorded, [*_rows(recorded, tree),
                                          ("40000", empty, "/".join(folder))])
            where.add("")
    else:  # the record alone in a second folder of the same name, after the first
        rows = _rows(recorded, top)
        blob = git(recorded, "rev-parse", f"{head}:{record}").strip()
        sub = _write_tree(recorded, [("100644", blob, record.rsplit("/", 1)[1])])
        for name in reversed(folder[1:]):
            sub = _write_tree(recorded, [("40000", sub, name)])
        tree = _write_tree(recorded, [*rows, ("40000", sub, folder[0])])
        where = {""}
    msg = git(recorded, "log", "-1", "--format=%B")
    forged = subprocess.run(["git", "-C", str(recorded), "commit-tree", tree, "-p", "HEAD~1",
                             "-F", "-"], input=msg, capture_output=True, text=True,
                            check=True).stdout.strip()
    git(recorded, "update-ref", f"refs/heads/{OPS}", forged)
    r = cli("--repo", recorded, "--json", "verify")
    found = [v for v in json.loads(r.out)["violations"] if v["rule"] == "tree-malformed"]
    assert r.code == 1 and {v["commit"] for v in found} == {forged}, r.out
    assert {v["path"] for v in found} == where, r.out


@pytest.mark.parametrize("shape", ["empty-name", "truncated"])
@pytest.mark.parametrize("ranged", [True, False], ids=["range", "from-merge-base"])
def test_a_tree_git_cannot_read_is_a_finding_not_an_error(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                         shape: str, ranged: bool) -> None:
    """A tree so malformed that git's own parser stops (`git log` dies on it) is a finding
    on the commit that holds it (exit 1), not a git error (exit 2); the commits before it
    are not accused."""
    record = git(recorded, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)").strip()
    folder = record.rsplit("/", 1)[0].split("/")
    head = git(recorded, "rev-parse", "HEAD").strip()
    top = git(recorded, "rev-parse", "HEAD^{tree}").strip()
    leaf = _rows(recorded, f"{head}:{'/'.join(folder)}")
    data = b"".join(f"{mode} {name}".encode() + b"\x00" + bytes.fromhex(oid)
                    for mode, oid, name in leaf)
    data = data + b"100644 \x00" + bytes(20) if shape == "empty-name" else data[:-7]
    bad = subprocess.run(["git", "-C", str(recorded), "hash-object", "-t", "tree", "--literally",
                          "-w", "--stdin"], input=data, capture_output=True,
                         check=True).stdout.decode().strip()
    rows = _rows(recorded, top)
    tree = top
    for depth in range(len(folder), 0, -1):  # the bad leaf, then each folder above it anew
        rows = _rows(recorded, f"{head}:{'/'.join(folder[:depth - 1])}") if depth > 1 else \
            _rows(recorded, top)
        rows = [(m, bad if n == folder[depth - 1] else o, n) for m, o, n in rows]
        bad = tree = _write_tree(recorded, rows)
    msg = git(recorded, "log", "-1", "--format=%B")
    forged = subprocess.run(["git", "-C", str(recorded), "commit-tree", tree, "-p", "HEAD~1",
                             "-F", "-"], input=msg, capture_output=True, text=True,
                            check=True).stdout.strip()
    git(recorded, "update-ref", f"refs/heads/{OPS}", forged)
    logged = subprocess.run(["git", "-C", str(recorded), "log", "--raw", "-r", "-t", OPS],
                            capture_output=True)
    assert logged.returncode != 0  # git itself cannot read it
    args = ["verify", "--range", f"main..{OPS}"] if ranged else ["verify"]
    r = cli("--repo", recorded, "--json", *args)
    found = [v for v in json.loads(r.out)["violations"] if v["rule"] == "tree-unreadable"]
    assert r.code == 1 and [v["commit"] for v in found] == [forged], r.out
    assert "git cannot read" in found[0]["message"] and found[0]["fix"], r.out
    # git's own complaint, not a hint it printed first
    assert "hint:" not in found[0]["message"] and "grafts" not in found[0]["message"], r.out


def test_a_shallow_clone_is_refused_with_the_fetch_that_mends_it(recorded: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  cli) -> None:
    """A shallow clone (CI's default checkout) cuts the ops history short: verify would
    find streaks and sessions that are not there, status and history would count wrong.
    Each says so and how to fetch the rest, and writes nothing; once unshallowed, the same
    range passes."""
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", "--no-single-branch",
                    recorded.as_uri(), str(clone)], check=True, capture_output=True)
    assert git(clone, "branch", "--show-current").strip() == OPS
    r = cli("--repo", clone, "verify", "--range", f"origin/main..{OPS}")
    assert r.code == 2 and "shallow" in r.err and "git fetch --unshallow" in r.err, r.err
    assert r.out == "" and "Traceback" not in r.err
    for command in ("status", "history"):  # every command reads the whole ops history
        r = cli("--repo", clone, command)
        assert r.code == 2 and "git fetch --unshallow" in r.err and r.out == "", (command, r)
    assert not (clone / ".git" / "evidencebot").exists()  # no shortcut made of a cut history
    git(clone, "fetch", "-q", "--unshallow")
    r = cli("--repo", clone, "verify", "--range", f"origin/main..{OPS}")
    assert r.code == 0 and r.out.rstrip().endswith("OK"), r.out


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_with_or_without_click_verify_says_the_same(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                     json_flag: list[str]) -> None:
    """A plain line runs without click (`fast`); `--` at the end sends the same line through
    click: same exit code, same bytes, findings or not."""
    line = ["--repo", recorded, *json_flag, "verify", "--range", f"main..{OPS}"]
    clean = cli(*line), cli(*line, "--")
    amend_message(recorded, "Burnin-Filled-Orders: 3", "Burnin-Filled-Orders: 5")
    forged = cli(*line), cli(*line, "--")
    for plain, through_click in (clean, forged):
        assert (plain.code, plain.out, plain.err) == \
            (through_click.code, through_click.out, through_click.err)
    assert clean[0].code == 0 and forged[0].code == 1 and "Burnin-Filled-Orders" in forged[0].out


def test_a_path_holding_escape_sequences_is_shown_inert(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A finding names paths from the commits: an escape sequence in one would reach the
    terminal (erase the line above, retitle the window) unless removed."""
    name = "notes\x1b[1A\x1b[2K\x1b]0;ok\x07x.md"
    (recorded / name).write_text("x\n", encoding="utf-8")
    git(recorded, "add", "--", name)
    git(recorded, "commit", "-q", "--no-verify", "-m", "notes")
    r = cli("--repo", recorded, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "notesx.md: not an evidence path" in r.out and "\x1b" not in r.out


def _evidencebot(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """`evidencebot ARGS` as a process of its own (its own stdout and stderr)."""
    return subprocess.run([sys.executable, "-m", "evidencebot", *map(str, args)],
                          check=False, **kwargs)


@pytest.mark.parametrize("tail", [[], ["--"]], ids=["plain", "click"])
def test_a_reader_gone_from_the_pipe_ends_verify_quietly(recorded: Path, tail: list[str]) -> None:
    """`verify | head -0`: exit 141 (a shell's for SIGPIPE, not 1: evidence refused), no
    traceback, either way."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before verify writes a line
    try:
        done = _evidencebot("--repo", recorded, "verify", *tail, stdout=write,
                            stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, b"")


@pytest.mark.parametrize("tail", [[], ["--"]], ids=["plain", "click"])
def test_verify_with_stdout_closed_still_says_its_verdict_by_exit_code(
        recorded: Path, tail: list[str]) -> None:
    probe = ("import sys\nsys.stdout = None  # what Python makes of a closed descriptor 1\n"
             "from evidencebot.__main__ import main\n"
             f"raise SystemExit(main({['--repo', str(recorded), 'verify', *tail]!r}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False)
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.parametrize("tail", [[], ["--"]], ids=["plain", "click"])
def test_an_ascii_locale_gets_the_error_in_utf_8(tmp_path: Path, tail: list[str]) -> None:
    """As click writes to a stream that claims ASCII: UTF-8, not a traceback."""
    where = tmp_path / "é"
    where.mkdir()
    done = _evidencebot("--json", "--repo", where, "verify", *tail, capture_output=True,
                        env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert done.returncode == 2 and b"Traceback" not in done.stderr
    assert json.loads(done.stdout.decode("utf-8"))["error"]["message"] == \
        f"{where} is not inside a git repository"


def test_a_bare_repository_is_named_so(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """--repo naming a bare repository (the demo's stand-in remote, say): said so."""
    git(tmp_path, "init", "-q", "--bare", "remote.git")
    r = cli("--repo", tmp_path / "remote.git", "status")
    assert r.code == 2 and r.err.startswith(
        f"evidencebot: error: {tmp_path / 'remote.git'} is a bare repository")


def test_a_repo_that_does_not_exist_is_named_so(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", tmp_path / "nope", "status")
    assert r.code == 2
    said = r.err.strip().splitlines()
    assert said[0] == f"evidencebot: error: {tmp_path / 'nope'} does not exist"
    assert said[1:] == ["Fix: run evidencebot inside the trading repository's checkout, or "
                        "name it with --repo PATH"]


@pytest.mark.parametrize(("where", "shown"), [
    ({}, "0123456789ab: m (r)."),
    ({"path": "p.md", "lines": (3, 4)}, "0123456789ab p.md:3: m (r)."),
    ({"section": "S"}, "0123456789ab [S]: m (r)."),
    ({"path": "p.md", "section": "S", "fix": "do x"}, "0123456789ab p.md [S]: m (r). Fix: do x"),
])
def test_a_finding_reads_commit_place_message_rule_fix(where: dict[str, Any], shown: str) -> None:
    """One line per finding, with no gap where a finding has no file (a commit's own)."""
    from evidencebot.ledger.findings import Finding

    assert Finding("0123456789ab" + "c" * 28, "r", "m", **where).render() == shown


@pytest.mark.parametrize(("args", "said", "fix"), [
    (["--base", "nope"], "no base branch 'nope' here or at origin (--base)", "--base main"),
    (["--base", "origin/main"], "no base branch 'origin/main'", "name the branch alone: --base main"),
    (["--range", f"main...{OPS}"], "A...B (three dots) is not a range", "A..B"),
])
def test_a_base_or_range_that_names_nothing_usable_is_a_usage_error(
        recorded: Path, cli, args: list[str], said: str, fix: str) -> None:  # type: ignore[no-untyped-def]
    """Not findings against good evidence (a base that is no branch made every run's code
    'not on main'): one error line, a Fix, exit 2."""
    r = cli("--repo", recorded, "verify", *args)
    assert r.code == 2 and said in r.err and "Fix: " in r.err and fix in r.err, r.err
    assert r.out == ""


def test_without_the_base_branch_verify_stops_rather_than_blame_good_runs(recorded: Path,  # type: ignore[no-untyped-def]
                                                                          cli) -> None:
    """Every rule and 'code on the base' is the base branch's: with the configured base
    gone (renamed, not fetched), verify says so, exit 2, instead of findings against
    honest runs."""
    git(recorded, "branch", "-m", "main", "trunk")
    r = cli("--repo", recorded, "verify")
    assert r.code == 2 and "no base branch 'main'" in r.err and "Fix:" in r.err, r.err
    assert r.out == ""
    assert cli("--repo", recorded, "verify", "--base", "trunk").code == 0


def _merge_with_trailers(repo: Path, block: str) -> str:
    """A merge of main into the ops branch (its tree unchanged) whose message ends in
    ``block``, made with plumbing, as a script could."""
    tip, main = git(repo, "rev-parse", OPS).strip(), git(repo, "rev-parse", "main").strip()
    new = subprocess.run(["git", "-C", str(repo), "commit-tree", f"{tip}^{{tree}}", "-p", tip,
                          "-p", main], input=f"Merge branch 'main'\n\n{block}\n", text=True,
                         capture_output=True, check=True).stdout.strip()
    git(repo, "update-ref", f"refs/heads/{OPS}", new, tip)
    return new


def test_a_merge_that_says_it_is_a_run_counts_for_nothing(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """verify judges a merge as a plain merge of its parents and no more: three merges
    carrying a qualifying run's trailers (no record, a Sunday night) must not make a
    streak, close MO-2 or pass verify."""
    git(recorded, "switch", "-q", "main")
    block = git(recorded, "log", "-1", "--format=%(trailers:only)", OPS)
    made = []
    for n in range(3):  # (trailers re-used with other ids and times)
        rid = f"2026112{n}T010000Z"
        made.append(_merge_with_trailers(recorded, "\n".join(
            f"Evidence-Run-Id: {rid}" if ln.startswith("Evidence-Run-Id:") else
            f"Evidence-Started-At: 2026-11-22T0{n}:00:00Z" if ln.startswith("Evidence-Started")
            else ln for ln in block.splitlines())))
    assert "MO-2: 2/3" in cli("--repo", recorded, "status").out  # (the two real runs)
    assert cli("--repo", recorded, "close", "MO-2", "--no-push").code == 1
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    doc = json.loads(r.out)
    assert r.code == 1 and len(doc["runs"]) == 2
    assert sorted(v["commit"] for v in doc["violations"]
                  if v["rule"] == "merge-with-trailers") == sorted(made)


def test_a_merge_that_says_it_is_a_closure_closes_nothing(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(recorded, "switch", "-q", "main")
    sha = _merge_with_trailers(recorded, "Evidence-Kind: milestone\nMilestone: MO-2\n"
                                         "Milestone-Evidence: a, b, c")
    assert "CLOSED" not in cli("--repo", recorded, "status").out
    r = cli("--repo", recorded, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and f"{sha[:12]}: a merge commit with evidence trailers" in r.out


def _forge_run(repo: Path, doc: dict[str, Any], *, connectivity: Any = "auto",
               code: Any = None, log: bytes | None = None, outcome: str = "") -> None:
    """``doc`` committed as a run through evidencebot's own commit path (the scope rules
    judge it), its record built from hand-chosen facts: ``connectivity=None`` leaves the
    IBKR counts out, ``code`` replaces the code state; the verdict follows from those
    facts, as a script would make it."""
    from evidencebot.evidence.record import Attachments, Outcome, SessionInfo, build_record
    from evidencebot.evidence.report import metrics_from
    from evidencebot.evidence.trust import RunFacts, run_reasons
    from evidencebot.evidence.verdict import verdict
    from evidencebot.ledger import recorder
    from evidencebot.ledger.messages import kept_log
    from evidencebot.ledger.workspace import open_context

    ctx = open_context(repo, config_path=None, clock=lambda: NOW)
    m = metrics_from(doc, ctx.rules.report.fields, source="forged")
    code = code or ctx.code_as_of(m.started_at)
    conn = recorder.run_connectivity(ctx, kept_log(log), doc.get("ibkr_messages")) \
        if connectivity == "auto" else connectivity
    facts = RunFacts(m.started_at, m.finished_at, m.paper_duration_seconds, code.commit,
                     ctx.on_base(code.commit), conn.disconnects if conn is not None else None)
    v = verdict(m, ctx.rules.qualify, code_dirty=code.dirty is True,
                extra=run_reasons(facts, window=ctx.window, qualify=ctx.rules.qualify,
                                  base=ctx.rules.ops.base))
    path = recorder.record_path(ctx.cfg, m.run_id)
    record = build_record(
        cfg=ctx.rules, run_id=m.run_id, outcome=Outcome(outcome or v.outcome), recorded_at=NOW,
        started_at=m.started_at, finished_at=m.finished_at, metrics=m, verdict=v, report=doc,
        code=code, session=SessionInfo(),
        attachments=Attachments(log=path[:-5] + ".log" if log is not None else None),
        connectivity=conn)
    recorder.commit_run(ctx, record, log=log, verdict_=v)


LOST = [{"code": 1100, "message": "Connectivity between IB and TWS has been lost."},
        {"code": 1101, "message": "Connectivity restored - data lost."}]


@pytest.mark.parametrize("log", [None, b"Error 1100, reqId -1: connectivity lost\n"])
def test_a_record_that_leaves_out_its_disconnections_is_caught(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str, log: bytes | None) -> None:  # type: ignore[no-untyped-def]
    """[qualify] max_disconnects = 0: `record` counts a report's 1100 and says
    non-qualifying; a record that counts nothing (its report and log unchanged) would
    qualify, and verify counts again from what the commit holds."""
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[qualify]\nmax_disconnects = 0\n",
                   encoding="utf-8")
    git(trading_repo, "commit", "-qam", "no disconnections allowed")
    doc = report(finished=NOW - timedelta(hours=5), filled=2)
    doc["ibkr_messages"] = LOST
    honest = cli("--repo", trading_repo, "--json", "record", write_report(tmp_path / "r.json", doc))
    assert json.loads(honest.out)["run"]["reasons"] == ["1 IBKR disconnection(s) > 0"]
    git(trading_repo, "branch", "-f", OPS, "main")  # (the forger starts again)
    _forge_run(trading_repo, doc, connectivity=None, log=log)
    assert "Evidence-Outcome: qualifying" in git(trading_repo, "log", "-1", "--format=%B", OPS)
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1
    assert "its log and report hold 1, 1 and 0 (connectivity-mismatch)" in r.out
    assert "give 'non-qualifying' (1 IBKR disconnection(s) > 0) (outcome-mismatch)" in r.out


def test_thresholds_changed_on_the_base_are_named_in_the_mismatch(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: [qualify] raised on main after a run was recorded re-judges
    it, and the finding said only "record the run again". It names the thresholds that
    moved, then and now, and the way out."""
    doc = report(finished=NOW - timedelta(hours=5), filled=2)
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[qualify]\nmin_filled_orders = 3\n",
                   encoding="utf-8")
    git(trading_repo, "commit", "-qam", "three fills now")
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1
    assert "give 'non-qualifying' (2 filled orders < 3); the base's [qualify] " \
        "min_filled_orders changed since it was recorded (1 then, 3 now) " \
        "(outcome-mismatch). Fix: the base's rules judge every run of the burn-in: if that " \
        "change made the difference, put [qualify] back through review" in r.out, r.out


@pytest.mark.parametrize("filled", [2, 3])
def test_record_and_status_say_when_the_base_s_thresholds_no_longer_qualify_the_streak(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str, filled: int) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: after a reviewed [qualify] tightening, `record` said "the
    streak is met: close" and `status` 3/3, while `verify` and `close` refused the runs
    recorded before it. They now name the runs today's rules no longer qualify (and say
    "close" where the tightening changes nothing)."""
    for n in range(2):
        doc = report(finished=NOW - timedelta(hours=6 - n), filled=filled)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[qualify]\nmin_filled_orders = 3\n",
                   encoding="utf-8")
    git(trading_repo, "commit", "-qam", "three fills now")
    doc = report(finished=NOW - timedelta(hours=3), filled=3)
    third = cli("--repo", trading_repo, "record", write_report(tmp_path / "2.json", doc))
    assert third.code == 0 and "streak 3/3" in third.out
    said = cli("--repo", trading_repo, "status").out
    verified = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    if filled == 3:
        assert "`evidencebot close MO-2` makes" in third.out and "no longer" not in said
        assert verified.code == 0, verified.out
        return
    assert "`evidencebot close MO-2` makes" not in third.out
    assert "(2 filled orders < 3), " in third.out and "no longer qualifies" in third.out
    assert "no longer qualifies: verify refuses it" in said and "(2 filled orders < 3)" in said
    assert verified.code == 1 and "(outcome-mismatch)" in verified.out


def test_a_record_whose_code_is_not_its_reports_is_judged_by_the_report(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """With [report.fields] code_commit/code_dirty mapped, the report says what code ran:
    a record naming main's commit, clean, beside a report naming dirty code that never
    reached main is judged by the report."""
    from evidencebot.evidence.record import CodeState

    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (before the run: reviewed)
        monkeypatch.setenv(key, (NOW - timedelta(days=1)).isoformat())

    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[report.fields]\ncode_commit = '
                   '"/code/commit"\ncode_dirty = "/code/dirty"\n', encoding="utf-8")
    git(trading_repo, "commit", "-qam", "the report says what code ran")
    main = git(trading_repo, "rev-parse", "main").strip()
    git(trading_repo, "switch", "-qc", "feature")
    (trading_repo / "src" / "feature.py").write_text("X = 1\n", encoding="utf-8")
    git(trading_repo, "add", "-A")
    git(trading_repo, "commit", "-qm", "unreviewed")
    feature = git(trading_repo, "rev-parse", "HEAD").strip()
    git(trading_repo, "switch", "-q", "main")
    doc = report(finished=NOW - timedelta(hours=5), filled=2)
    doc["code"] = {"commit": feature, "dirty": True}
    _forge_run(trading_repo, doc, code=CodeState(commit=main, dirty=False))
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1
    assert (f"give 'non-qualifying' (code under test was dirty; code {feature[:7]} was not on "
            "main when the run started) (outcome-mismatch)") in r.out


def test_a_run_commit_that_shows_another_result_than_its_record_is_caught(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """A non-qualifying run's commit rewritten by hand (records, trailers and streak left
    true): its row hidden in an HTML comment and one saying qualifying beside it, the
    session log's entry and the subject saying qualifying. The streak is right; what the
    reviewer reads is not."""
    doc = report(finished=NOW - timedelta(hours=5), filled=0)
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    git(trading_repo, "switch", "-q", OPS)
    backlog, log = trading_repo / "IMPLEMENTATION_BACKLOG.md", trading_repo / "SESSION_LOG.md"
    rid = doc["run_id"]
    row = next(ln for ln in backlog.read_text(encoding="utf-8").splitlines() if rid in ln)
    assert "non-qualifying" in row
    text = backlog.read_text(encoding="utf-8").replace(
        row + "\n", row.replace("non-qualifying", "qualifying").split(" 0 filled")[0] + "\n")
    backlog.write_text(text.replace("\nConsecutive", f"\n<!--\n{row}\n-->\nConsecutive", 1),
                       encoding="utf-8")
    log.write_text(log.read_text(encoding="utf-8").replace("non-qualifying", "qualifying"),
                   encoding="utf-8")
    git(trading_repo, "add", "-A")
    amend_message(trading_repo, f"{rid} non-qualifying\n", f"{rid} qualifying\n")
    r = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    rules = {v["rule"] for v in json.loads(r.out)["violations"]}
    assert r.code == 1
    assert {"tracker-row-mismatch", "session-entry-mismatch", "subject-mismatch"} <= rules


def test_a_completed_run_relabelled_a_failed_attempt_is_caught(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """failed-infra neither counts nor breaks a streak: a completed 0-fill run recorded
    as one (its report, metrics and verdict inside) would leave the streak alone. An
    attempt is what `run` records for one: no report, named <start>-<outcome>."""
    for n, filled in enumerate((2, 0, 2, 2)):
        doc = report(finished=NOW - timedelta(hours=6 - n), filled=filled)
        if filled:
            r = cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc))
            assert r.code == 0, r.err
        else:
            _forge_run(trading_repo, doc, outcome="failed-infra")
    assert "MO-2: 3/3" in cli("--repo", trading_repo, "status").out
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "(attempt-mismatch)" in r.out
    assert "holds a report, metrics, a verdict, a report_sha256" in r.out
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 1


def test_a_closure_whose_documents_say_more_than_close_writes_is_caught(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """The closure's description and page are re-rendered; so are its documents: a
    Note naming runs that were never recorded, a session-log entry saying more."""
    for n in range(3):
        doc = report(finished=NOW - timedelta(hours=5 - n), filled=2)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 0
    git(trading_repo, "switch", "-q", OPS)
    backlog, log = trading_repo / "IMPLEMENTATION_BACKLOG.md", trading_repo / "SESSION_LOG.md"
    backlog.write_text(backlog.read_text(encoding="utf-8").replace(
        "closed on ", "closed after a five-run streak on "), encoding="utf-8")
    log.write_text(log.read_text(encoding="utf-8") + "- Sign-off: given by the risk owner\n",
                   encoding="utf-8")
    git(trading_repo, "commit", "-qa", "--amend", "--no-verify", "--no-edit")  # (its date kept)
    r = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    found = {(v["rule"], v["message"].split(" ")[0]) for v in json.loads(r.out)["violations"]
             if v["rule"] != "future-commit"}  # (the amend's committer date is today's)
    assert r.code == 1
    assert found == {("closure-documents-mismatch", "IMPLEMENTATION_BACKLOG.md"),
                     ("closure-documents-mismatch", "SESSION_LOG.md")}


def main_merged_in(repo: Path) -> None:
    """A reviewed change on main, merged into the ops branch (a plain merge)."""
    git(repo, "switch", "-q", "main")
    (repo / "src" / "later.py").write_text("LATER = 1\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "reviewed change on main")
    git(repo, "switch", "-q", OPS)
    git(repo, "merge", "-q", "--no-edit", "--no-verify", "main")


def test_main_merged_into_the_ops_branch_moves_no_earlier_commit_off_the_base(
        recorded: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The base merged into the ops branch (a plain merge) after two runs: every commit
    still descends from it; an orphan history merged in does not."""
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (the tests' pinned clock)
        monkeypatch.setenv(key, NOW.isoformat())
    main_merged_in(recorded)
    r = cli("--repo", recorded, "verify", "--range", f"main..{OPS}")
    assert r.code == 0, r.out
    orphan = subprocess.run(["git", "-C", str(recorded), "commit-tree", "HEAD^{tree}", "-m",
                             "from elsewhere"], capture_output=True, text=True,
                            check=True).stdout.strip()
    git(recorded, "merge", "-q", "--no-edit", "--no-verify", "--allow-unrelated-histories",
        orphan)
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    blamed = [v["commit"] for v in json.loads(r.out)["violations"] if v["rule"] == "not-from-base"]
    assert r.code == 1 and blamed == [orphan]


def test_two_lines_of_ops_commits_merged_are_one_finding(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: two lines of runs, each recorded by evidencebot, joined by a
    plain merge (Markdown merged line by line, `merge=union`, reviewed on main). verify
    blamed an honest run's trailers on one line against the other's runs, and passed a
    merge whose tracker then held two streak lines. The join is the finding."""
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (the tests' pinned clock)
        monkeypatch.setenv(key, NOW.isoformat())
    (trading_repo / ".gitattributes").write_text("*.md merge=union\n")
    git(trading_repo, "add", "-A")
    git(trading_repo, "commit", "-qm", "Markdown merges line by line")

    def run(n: int) -> None:
        doc = report(finished=NOW - timedelta(hours=7 - n), filled=2)
        assert cli("--repo", trading_repo, "record",
                   write_report(tmp_path / f"{n}.json", doc)).code == 0

    run(0)
    git(trading_repo, "branch", "other", OPS)
    run(1)  # one line: runs 0 and 1
    git(trading_repo, "branch", "-f", "one", OPS)
    git(trading_repo, "branch", "-f", OPS, "other")
    run(2)  # the other: runs 0 and 2
    git(trading_repo, "switch", "-q", OPS)
    git(trading_repo, "merge", "-q", "--no-edit", "--no-verify", "one")
    r = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    found = json.loads(r.out)["violations"]
    merge = git(trading_repo, "rev-parse", OPS).strip()
    assert r.code == 1 and [(v["rule"], v["commit"]) for v in found
                            if v["rule"] == "ops-lines-merged"] == [("ops-lines-merged", merge)]
    # main merged into one line of them joins nothing
    git(trading_repo, "reset", "-q", "--hard", "one")
    main_merged_in(trading_repo)
    assert cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}").code == 0


def test_an_ops_branch_started_again_below_evidence_the_base_holds_is_caught(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A failed run reviewed and merged into main cannot be left out by moving the ops
    branch back below it and recording again: every ops commit main holds must be in
    the range's history."""
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (the tests' pinned clock)
        monkeypatch.setenv(key, NOW.isoformat())
    for n, filled in enumerate((2, 0)):
        doc = report(finished=NOW - timedelta(hours=7 - n), filled=filled)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    failed = git(trading_repo, "rev-parse", OPS).strip()
    git(trading_repo, "merge", "-q", "--no-ff", "--no-edit", OPS)  # (on main: reviewed)
    git(trading_repo, "branch", "-f", OPS, f"{OPS}~1")  # back below the failed run
    for n in (2, 3):
        doc = report(finished=NOW - timedelta(hours=7 - n), filled=2)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    r = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    blamed = [(v["commit"], v["rule"]) for v in json.loads(r.out)["violations"]]
    assert r.code == 1 and blamed == [(failed, "base-evidence-missing")]
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 1


@pytest.mark.parametrize(("old", "new", "said"), [
    ('"min_bars_per_symbol": 240', '"min_bars_per_symbol": NaN', "NaN is not a JSON number"),
    ('"min_bars_per_symbol": 240', '"min_bars_per_symbol": 240, "min_bars_per_symbol": 9',
     "appears twice"),
    ('"outcome": "', '"outcome": "\\ud83d', "lone UTF-16 surrogate"),
])
def test_a_record_json_that_record_would_refuse_is_unreadable(
        recorded: Path, cli, old: str, new: str, said: str) -> None:  # type: ignore[no-untyped-def]
    """Records are read as strictly as reports (`report.strict_loads`): Python's json
    writes NaN, and a minimum over a NaN skips it."""
    path = recorded / git(recorded, "log", "-1", "--format=%(trailers:key=Evidence-Record,"
                          "valueonly)").strip()  # (the last run's: its commit is amended)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    git(recorded, "add", "-A")
    git(recorded, "commit", "-q", "--amend", "--no-verify", "--no-edit")
    r = cli("--repo", recorded, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "(record-unreadable)" in r.out and said in r.out


def test_a_commit_that_breaks_the_streak_closes_nothing(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """At 3/3, the commit recording a failed run also sets MO-2 CLOSED: the hook sees the
    parent's streak (3/3); verify holds the status to the streak the commit leaves."""
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (the tests' pinned clock)
        monkeypatch.setenv(key, NOW.isoformat())
    for n, filled in enumerate((2, 2, 2, 0)):
        doc = report(finished=NOW - timedelta(hours=7 - n), filled=filled)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    git(trading_repo, "switch", "-q", OPS)
    design = trading_repo / "PROJECT_DESIGN.md"
    text = design.read_text(encoding="utf-8")
    assert "| OPEN | Step 1A Burn-In Tracker |" in text
    design.write_text(text.replace("| OPEN | Step 1A Burn-In Tracker |",
                                   "| CLOSED | Step 1A Burn-In Tracker |"), encoding="utf-8")
    git(trading_repo, "commit", "-qa", "--amend", "--no-verify", "--no-edit")
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1
    assert "MO-2 set to CLOSED with a streak of 0/3 in the history (milestone-closed-early)" in r.out


def test_a_status_set_closed_by_hand_with_the_streak_met_closes_nothing(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """At 3/3, MO-2's Status set CLOSED in a commit of its own (the runbook's manual step,
    not `close`): the hook refuses it, and verify blames it when it got past the hook. A
    status flipped by hand names no runs: a failed session recorded later, between the
    streak's runs, would contradict nothing while the branch still read CLOSED."""
    from evidencebot import __version__
    from evidencebot.guard.install import install_hooks

    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (the tests' pinned clock)
        monkeypatch.setenv(key, NOW.isoformat())
    for n in range(3):
        doc = report(finished=NOW - timedelta(hours=7 - 2 * n), filled=2)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    git(trading_repo, "switch", "-q", OPS)
    install_hooks(trading_repo, base="main", force=True)
    design = trading_repo / "PROJECT_DESIGN.md"
    text = design.read_text(encoding="utf-8")
    design.write_text(text.replace("| OPEN | Step 1A Burn-In Tracker |",
                                   "| CLOSED | Step 1A Burn-In Tracker |"), encoding="utf-8")
    message = ("ops: MO-2 closed\n\nEvidence-Kind: check\nCheck-Failed: window\n"  # (a check's block)
               f"Session-Type: OPS\nEvidencebot-Version: {__version__}\nConfig-Sha256: none\n")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    hooked = subprocess.run(["git", "-C", str(trading_repo), "commit", "-qa", "-m", message],
                            capture_output=True, text=True, env=env)
    assert hooked.returncode != 0 and "(milestone-closed-by-hand)" in hooked.stderr, hooked.stderr
    # with a page of its own beside it (what makes a change a closure), the commit-msg hook
    # holds the commit to being one: a check's trailer block adds no closure's page
    page = trading_repo / "reports" / "evidence" / "milestones" / "MO-2.md"
    page.parent.mkdir(parents=True)
    page.write_text("# MO-2 closed\n", encoding="utf-8")
    git(trading_repo, "add", "-A")
    hooked = subprocess.run(["git", "-C", str(trading_repo), "commit", "-q", "-m", message],
                            capture_output=True, text=True, env=env)
    assert hooked.returncode != 0 and "(stray-closure-file)" in hooked.stderr, hooked.stderr
    git(trading_repo, "rm", "-q", "--cached", str(page))
    page.unlink()
    git(trading_repo, "commit", "-qa", "-m", message, "--no-verify")
    late = report(finished=NOW - timedelta(hours=4), filled=0)  # between the 2nd and 3rd
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "late.json", late)).code == 0
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "(not-an-ops-commit)" not in r.out  # (a check commit's block)
    assert "MO-2 set to CLOSED in a commit that is not its closure" in r.out, r.out
    assert "(milestone-closed-by-hand)" in r.out and "evidencebot close MO-2" in r.out


def test_a_closure_dated_before_its_runs_is_caught(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The closure is re-rendered from its own date: dated before the runs it names, it
    would say so everywhere the reviewer looks."""
    for n in range(3):
        doc = report(finished=NOW - timedelta(hours=5 - n), filled=2)
        assert cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc)).code == 0
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 0
    git(trading_repo, "switch", "-q", OPS)
    early = "2026-11-20T09:00:00+00:00"
    monkeypatch.setenv("GIT_COMMITTER_DATE", early)
    git(trading_repo, "commit", "-q", "--amend", "--no-verify", "--no-edit", f"--date={early}")
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1
    assert "the closure is dated 2026-11-20 09:00 UTC, before the runs it names finished" in r.out


@pytest.mark.parametrize("name", [OPS, "main"])
def test_a_range_side_naming_a_branch_and_a_tag_is_refused(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                           name: str) -> None:
    """git reads the tag first: a tag left on a clean commit would have verify judge it,
    not the branch the merge request holds."""
    git(recorded, "tag", name, f"{OPS}~1")
    r = cli("--repo", recorded, "verify", "--range", f"main..{OPS}")
    assert r.code == 2 and f"{name!r} names 2 refs: refs/tags/{name}, refs/heads/{name} " \
        "(git reads the first)" in r.err, r.err
    named = cli("--repo", recorded, "--json", "verify", "--range",
                f"refs/heads/main..refs/heads/{OPS}")
    blamed = [v["rule"] for v in json.loads(named.out)["violations"]]
    # (a tag named like an ops branch, or the base, is blamed however the range is named)
    assert (named.code, blamed) == (1, ["branch-like-tag"])


@pytest.mark.parametrize("where", ["refs/ops/evidence", "ops/evidence", "linked-worktree"])
def test_a_range_side_that_git_reads_as_another_ref_is_refused(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                             where: str) -> None:
    """Found by an adversary: ``refs/ops/evidence`` (or a file ``.git/ops/evidence``,
    which git reads from the shared git folder from a linked worktree too) on a clean
    commit comes before the branch in git's reading of ``ops/evidence``: verify judged it
    and said OK while the branch ended in a commit to src/."""
    clean = git(recorded, "rev-parse", f"{OPS}~1").strip()
    at, named = recorded, where
    if where.startswith("refs/"):
        git(recorded, "update-ref", where, clean)
    else:
        (recorded / ".git" / "ops").mkdir()
        (recorded / ".git" / OPS).write_text(clean + "\n")
        named = ".git/ops/evidence"
        if where == "linked-worktree":
            at = recorded.parent / "linked"
            git(recorded, "worktree", "add", "-q", "--detach", str(at), "main")
            named = str(recorded / ".git" / OPS)
    r = cli("--repo", at, "verify", "--range", f"main..{OPS}~0")
    assert r.code == 2 and r.err.startswith(
        f"evidencebot: error: --range 'main..{OPS}~0': {OPS!r} names 2 refs: {named}, "
        f"refs/heads/{OPS} (git reads the first)"), r.err
    assert "Traceback" not in r.err
    assert cli("--repo", at, "verify", "--range", f"main..refs/heads/{OPS}").code == 0


@pytest.mark.parametrize("case", ["lower", "upper"])
def test_a_range_side_given_as_a_short_id_that_a_ref_is_named_after_is_refused(  # type: ignore[no-untyped-def]
        recorded: Path, cli, case: str) -> None:
    """Found by an adversary: a tag named as the ops tip's short id, on a clean commit:
    git reads the ref, not the commit (a CI line with $CI_COMMIT_SHORT_SHA would too);
    git reads an id in capitals as the same id."""
    tip = git(recorded, "rev-parse", OPS).strip()
    short = tip[:8] if case == "lower" else tip[:8].upper()
    git(recorded, "tag", short, f"{OPS}~1")
    r = cli("--repo", recorded, "verify", "--range", f"main..{short}")
    assert r.code == 2 and f"{short!r} names 2 refs: refs/tags/{short}, the commit id " \
        f"{short}… (git reads the first)" in r.err, r.err
    assert cli("--repo", recorded, "verify", "--range", f"main..{tip}").code == 0


def _smuggle(repo: Path, blocks: list[str]) -> list[str]:
    """A code branch merged into main whose empty commits end in evidence trailer blocks
    (no record, nothing else): a merge request that was no ops branch's, never verified.
    main is then merged into the ops branch."""
    git(repo, "switch", "-q", "-C", "feature/tidy", "main")
    made = []
    for block in blocks:
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "--no-verify",
                        "-F", "-"], input=f"tidy\n\n{block}\n", text=True, check=True)
        made.append(git(repo, "rev-parse", "HEAD").strip())
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature/tidy")
    git(repo, "switch", "-q", OPS)
    git(repo, "merge", "-q", "--no-edit", "main")  # (as base-evidence-missing asks)
    return made


def test_evidence_trailers_merged_into_main_with_code_are_judged(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Runs that reach main on code commits would make the ops branch's streak: verify
    of the ops range judges the base's ops commits its streak leans on (record-missing),
    and close refuses. A closure smuggled so is judged too."""
    block = git(recorded, "log", "-1", "--format=%(trailers:only)", OPS)
    ids = [f"2026112{n}T090000Z" for n in (3, 4)]
    forged = _smuggle(recorded, ["\n".join(
        f"Evidence-Run-Id: {rid}" if ln.startswith("Evidence-Run-Id:") else
        f"Evidence-Record: reports/evidence/step1a/{rid}.json"
        if ln.startswith("Evidence-Record:") else ln for ln in block.splitlines())
        for rid in ids])
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    blamed = {(v["commit"], v["rule"]) for v in json.loads(r.out)["violations"]}
    assert r.code == 1 and {(sha, "record-missing") for sha in forged} <= blamed
    assert cli("--repo", recorded, "close", "MO-2", "--no-push").code == 1
    git(recorded, "reset", "-q", "--hard", f"{OPS}~1")  # (the merge of main undone)
    git(recorded, "branch", "-q", "-f", "main", "main~1")
    closure = _smuggle(recorded, ["Evidence-Kind: milestone\nMilestone: MO-2\n"
                                  "Milestone-Evidence: a, b, c"])
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    blamed = {(v["commit"], v["rule"]) for v in json.loads(r.out)["violations"]}
    assert r.code == 1 and closure[0] in {sha for sha, _rule in blamed}


def test_a_code_commit_on_main_cannot_take_a_hand_written_break_away(
        trading_repo: Path, cli, pinned_now: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A failed session noted by hand on main breaks the streak; an empty code commit on
    main whose trailers name that row's run id as a (neutral) run would make the row the
    history's and take the break away: 3/3. verify judges the base's run commits whose
    rows fall inside the streak (record-missing), and close refuses."""
    from conftest import record_run

    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # (the tests' pinned clock)
        monkeypatch.setenv(key, NOW.isoformat())
    record_run(cli, trading_repo, 6)  # A, reviewed into main
    git(trading_repo, "merge", "-q", "--no-ff", "--no-edit", OPS)
    hand = "20261125T141500Z"  # after A started (14:10), before the runs after it
    _add_hand_row(trading_repo, "2026-11-25", hand)
    git(trading_repo, "commit", "-q", "-am", "tracker: the 14:15 session failed")
    git(trading_repo, "switch", "-q", OPS)
    git(trading_repo, "merge", "-q", "--no-edit", "main")
    for n in (7, 8):
        record_run(cli, trading_repo, n)
    assert "MO-2: 2/3" in cli("--repo", trading_repo, "status").out  # (the row breaks it)
    git(trading_repo, "switch", "-q", "-c", "feature/tidy", "main")
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-q", "--allow-empty",
                    "--no-verify", "-F", "-"], text=True, check=True,
                   input=f"chore: note\n\nEvidence-Kind: step1a-burnin\n"
                         f"Evidence-Run-Id: {hand}\nEvidence-Outcome: failed-infra\n")
    smuggled = git(trading_repo, "rev-parse", "HEAD").strip()
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", "--no-edit", "feature/tidy")
    git(trading_repo, "switch", "-q", OPS)
    git(trading_repo, "merge", "-q", "--no-edit", "main")
    r = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    blamed = {v["commit"] for v in json.loads(r.out)["violations"]}
    assert r.code == 1 and smuggled in blamed
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 1


def test_a_closure_page_that_comes_without_its_closure_is_caught(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A commit of another kind adding a milestone's page and description (copied from a
    closure elsewhere: "3 consecutive qualifying runs") would show the reviewer a closure
    the branch does not hold: only a closure adds them (stray-closure-file)."""
    pages = recorded / "reports" / "evidence" / "milestones"
    pages.mkdir(parents=True)
    (pages / "MO-2.md").write_text("MO-2 is ready to close: 3 consecutive qualifying runs\n")
    (pages / "MO-2.html").write_text("<!doctype html><title>MO-2 closed</title>\n")
    git(recorded, "add", "-A")
    said = {k: v for k, v in (ln.split(": ", 1) for ln in git(
        recorded, "log", "-1", "--format=%(trailers:only)", OPS).splitlines() if ": " in ln)
        if k in ("Session-Type", "Evidencebot-Version", "Config-Sha256")}
    subprocess.run(["git", "-C", str(recorded), "commit", "-q", "--no-verify", "-F", "-"],
                   text=True, check=True, input="evidence(handoff): summary\n\n"
                   "Evidence-Kind: handoff\n" + "".join(f"{k}: {v}\n" for k, v in said.items()))
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    blamed = sorted(v["message"].split(" ")[0] for v in json.loads(r.out)["violations"]
                    if v["rule"] == "stray-closure-file")
    assert r.code == 1 and blamed == ["reports/evidence/milestones/MO-2.html",
                                      "reports/evidence/milestones/MO-2.md"], r.out


@pytest.mark.parametrize(("tag", "blamed"), [("ops/burnin", True), ("OPS/evidence", True),
                                             ("v1.0", False)])
def test_a_tag_named_like_an_ops_branch_is_blamed(recorded: Path, cli, tag: str,  # type: ignore[no-untyped-def]
                                                  blamed: bool) -> None:
    """Found by an adversary: a tag `ops/burnin` on run 1 of a branch `ops/burnin` whose
    tip was a forged closure; a CI job checking the branch out by name landed on the tag
    (git takes a tag before making the branch from origin's) and verify said OK."""
    git(recorded, "tag", tag, f"{OPS}~1")
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    rules = [v["rule"] for v in json.loads(r.out)["violations"]]
    assert (r.code, rules) == ((1, ["branch-like-tag"]) if blamed else (0, []))


def test_the_branch_like_tag_fix_is_safe_to_paste(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A review found the tag's name (its maker's choice) pasted into the Fix unquoted."""
    name = "ops/$(touch${IFS}pwned)"
    git(recorded, "tag", name, f"{OPS}~1")
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    fix = next(v["fix"] for v in json.loads(r.out)["violations"] if v["rule"] == "branch-like-tag")
    assert f"git tag -d '{name}'" in fix and "origin ':refs/tags/" not in fix
    assert f"git push origin 'refs/tags/{name}'" not in fix and f":'refs/tags/{name}'" in fix


def test_a_run_id_naming_a_milestone_is_refused_and_a_closure_beside_a_record_is_caught(  # type: ignore[no-untyped-def]
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:
    """A report whose run id names a milestone ("…-mo-2-closed": its entry's heading, its
    row and its subject would read "MO-2 closed") is refused before anything is written,
    in one line (an adversary found such a run recorded at a streak of 1/3; an earlier one
    found it refused late, by the hook, as a claim). A run commit's entry and row are the
    rendering of its record, judged by verify line for line; a closure said by hand beside
    a record is not that rendering."""
    doc = report(finished=NOW - timedelta(hours=5), run_id="20261125T113000Z-mo-2-closed")
    refused = cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc))
    assert refused.code == 2 and "names a milestone" in refused.err, refused.err
    assert OPS not in git(trading_repo, "branch", "--list", OPS)  # (nothing written)
    doc = report(finished=NOW - timedelta(hours=5), run_id="20261125T113000Z-retry")
    r = cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 0, r.err
    git(trading_repo, "switch", "-q", OPS)
    assert cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}").code == 0
    # the same commit again, on its parent, with a closure said by hand in its entry
    git(trading_repo, "reset", "-q", "--soft", "HEAD~1")
    log = trading_repo / "SESSION_LOG.md"
    log.write_text(log.read_text(encoding="utf-8") + "- Status: CLOSED\n", encoding="utf-8")
    git(trading_repo, "add", "-A")
    message = git(trading_repo, "log", "-1", "--format=%B", "HEAD@{1}")
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-q", "--no-verify", "-F", "-"],
                   input=message, text=True, check=True)
    r = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    rules = {v["rule"] for v in json.loads(r.out)["violations"]}
    assert r.code == 1 and "session-entry-mismatch" in rules, r.out


@pytest.mark.parametrize("content", [b"ref: refs/heads/main\n", b"ref:\trefs/heads/main\n",
                                     b"ref:refs/heads/main\n", b"A" * 40 + b"\n",
                                     b"a" * 40 + b"\n"])
def test_every_form_git_reads_as_a_ref_in_the_git_folder_counts(tmp_path: Path,
                                                                content: bytes) -> None:
    """Found by an adversary: `ref:` without its space, or an id in capitals, in a file
    such as .git/MR_HEAD is read by git as a ref, and the ambiguity check did not."""
    from evidencebot.ledger.span import _names_a_commit

    (tmp_path / "MR_HEAD").write_bytes(content)
    assert _names_a_commit(tmp_path / "MR_HEAD")
    (tmp_path / "notes").write_bytes(b"reference: none\n")
    assert not _names_a_commit(tmp_path / "notes")
    (tmp_path / "LINKED").symlink_to("refs/heads/packed-away")  # (its target need not exist)
    assert _names_a_commit(tmp_path / "LINKED")


def test_refs_named_in_bytes_that_are_no_utf_8_are_refs_like_any_other(recorded: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a tag or a remote branch named in Latin-1 (git takes any
    bytes; anyone who may push can make one) stopped verify with a traceback, failing
    every merge request's job. git's names are read as the bytes they are."""
    latin1 = "\udce9"  # (the byte 0xE9, as Python's file-system encoding passes it to git)
    git(recorded, "tag", f"v1-{latin1}", f"{OPS}~1")
    git(recorded, "update-ref", f"refs/remotes/origin/feature-{latin1}", "main")
    git(recorded, "branch", f"x{latin1}", OPS)
    for args in (("verify", "--range", f"main..{OPS}"), ("--json", "verify", "--range",
                                                          f"main..x{latin1}")):
        r = cli("--repo", recorded, *args)
        assert (r.code, r.err) == (0, ""), r.err


@pytest.mark.parametrize(("said", "utc"), [
    ("2026-11-30T18:29:00+99:59", "2026-11-26T14:30:00Z"),  # (git writes zones to ±99:59)
    ("2026-11-30T18:29:00-99:59", "2026-12-04T22:28:00Z"),
    ("2026-11-30T18:29:00+01:00", "2026-11-30T17:29:00Z"),
    ("10000-01-01T00:00:00+00:00", "9999-12-31T00:00:00Z"),  # (past datetime's years: later)
])
def test_a_commit_date_is_read_as_git_wrote_it(said: str, utc: str) -> None:
    """Found by an adversary: a commit zone of +9959 (git writes, pushes and fscks it)
    stopped verify with a traceback: datetime holds offsets under a day."""
    from evidencebot.evidence.stamps import git_date, stamp

    assert stamp(git_date(said)) == utc


@pytest.mark.parametrize(("path", "rule"), [
    ("reports/evidence/checks/20261125T090000Z.json", "stray-check"),
    ("reports/ev\u0456dence/milestones/MO-2.md", "portable-names"),
])
def test_a_run_commit_adds_no_check_record_nor_a_look_alike_folder(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                                    path: str, rule: str) -> None:
    """Found by an adversary: a run commit that also added a refused check's record (read
    by the report page as one), or a copy of a closure's description under a folder whose
    name only looks like the evidence folder (a Cyrillic і), passed verify."""
    target = recorded / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"{}\n")
    git(recorded, "add", "-A")
    git(recorded, "commit", "-q", "--amend", "--no-edit", "--no-verify")
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    found = {v["rule"]: v["path"] + v["message"] for v in json.loads(r.out)["violations"]
             if v["rule"] != "future-commit"}  # (amended now, after the pinned clock)
    assert r.code == 1 and list(found) == [rule] and path in found[rule], r.out


@pytest.mark.parametrize("edited", [False, True], ids=["plain", "with-changes"])
def test_a_merge_of_the_base_into_the_ops_branch_goes_past_the_hooks_to_verify(
        recorded: Path, cli, edited: bool) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: `git merge main` on the ops branch with the hooks installed
    was refused by commit-msg (no trailer block) and by the scope guard (main's reviewed
    changes read as the operator's), though a plain merge of the base is what the README
    calls fine. The hooks leave a merge to `verify`, which passes the plain one and
    refuses one with changes."""
    from evidencebot.guard.install import install_hooks

    git(recorded, "switch", "-q", "main")
    (recorded / "src" / "sizing.py").write_text("LOT = 100\n")
    git(recorded, "add", "-A")
    git(recorded, "commit", "-qm", "reviewed sizing")
    git(recorded, "switch", "-q", OPS)
    install_hooks(recorded, base="main", force=True)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
           "GIT_AUTHOR_DATE": "2026-11-25T16:50:00Z",  # (before the pinned clock's now)
           "GIT_COMMITTER_DATE": "2026-11-25T16:50:00Z"}
    run = subprocess.run(["git", "-C", str(recorded), "merge", "--no-ff", "--no-commit", "main"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    if edited:
        (recorded / "SESSION_LOG.md").write_text((recorded / "SESSION_LOG.md").read_text()
                                                 + "\nan edit in the merge\n")
        git(recorded, "add", "-A")
    done = subprocess.run(["git", "-C", str(recorded), "commit", "-q", "--no-edit"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    r = cli("--repo", recorded, "--json", "verify", "--range", f"main..{OPS}")
    rules = [v["rule"] for v in json.loads(r.out)["violations"]]
    assert (r.code, rules) == ((1, ["merge-with-changes"]) if edited else (0, [])), r.out


@pytest.mark.parametrize("now", [4, 2])
def test_runs_recorded_before_a_reviewed_change_of_consecutive_stay_as_recorded(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str, now: int) -> None:  # type: ignore[no-untyped-def]
    """Adversary 48: [milestone.MO-2] consecutive changed on main through review made
    verify refuse every run already on the ops branch (8 findings for 2 runs, worded as
    tampering: their "1/3" and "2/3" were what `record` wrote then). A run's streak says
    what it needed when recorded; one no base ever had is still refused."""
    for hours in (5, 4):
        doc = report(finished=NOW - timedelta(hours=hours), filled=2)
        path = write_report(tmp_path / f"r{hours}.json", doc)
        assert cli("--repo", trading_repo, "record", path).code == 0
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"\n[milestone.MO-2]\nconsecutive = "
                   f"{now}\n", encoding="utf-8")
    git(trading_repo, "commit", "-qam", f"{now} runs close MO-2 now")
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 0, r.out
    status = cli("--repo", trading_repo, "status")
    assert f"MO-2: 2/{now}" in status.out, status.out
    # (a streak of a rule the base never had is what it was: forged)
    git(trading_repo, "switch", "-q", OPS)
    amend_message(trading_repo, "Burnin-Streak: 2/3", "Burnin-Streak: 2/5")
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "(trailer-mismatch)" in r.out, r.out


def test_a_streak_of_a_rule_the_base_had_before_is_refused_after_it(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Adversary 49: verify took any consecutive the base ever had, so a machine whose
    base still said 1 wrote "1 of 1: streak met" long after the base said 3. A commit's
    streak is of the rule its base had when the commit was made."""
    cfg = trading_repo / "evidencebot.toml"
    text = cfg.read_text(encoding="utf-8")

    def commit(consecutive: int, date: str) -> str:
        cfg.write_text(text + f"\n[milestone.MO-2]\nconsecutive = {consecutive}\n",
                       encoding="utf-8")
        subprocess.run(["git", "-C", str(trading_repo), "commit", "-qam", f"{consecutive}"],
                       check=True, env={**os.environ, "GIT_COMMITTER_DATE": date,
                                        "GIT_AUTHOR_DATE": date})
        return git(trading_repo, "rev-parse", "HEAD").strip()

    commit(1, "2026-11-01T10:00:00Z")
    three = commit(3, "2026-11-10T10:00:00Z")
    git(trading_repo, "reset", "-q", "--hard", "HEAD~1")  # (a machine that did not fetch)
    doc = report(finished=NOW - timedelta(hours=5), filled=2)
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    assert "Burnin-Streak: 1/1" in git(trading_repo, "log", "-1", "--format=%B", OPS)
    git(trading_repo, "reset", "-q", "--hard", three)
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "Burnin-Streak: trailer says '1/1'" in r.out, r.out


def test_a_streak_dated_before_the_base_it_stands_on_is_of_that_base_s_rule(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Adversary 50: a run commit re-dated to before the base it was made on (its date is
    the committer's word) said "1 of 3" where that base said 5, and verify read the rule
    of its date."""
    doc = report(finished=NOW - timedelta(hours=5), filled=2)
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    dated = git(trading_repo, "log", "-1", "--format=%cI", OPS).strip()
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[milestone.MO-2]\nconsecutive = 5\n",
                   encoding="utf-8")
    later = "2026-11-25T18:00:00Z"  # (after the run's commit, before the pinned clock's now)
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-qam", "5 runs"], check=True,
                   env={**os.environ, "GIT_COMMITTER_DATE": later, "GIT_AUTHOR_DATE": later})
    git(trading_repo, "switch", "-q", OPS)
    subprocess.run(["git", "-C", str(trading_repo), "rebase", "-q", "main"], check=True,
                   env={**os.environ, "GIT_COMMITTER_DATE": dated})
    assert "Burnin-Streak: 1/3" in git(trading_repo, "log", "-1", "--format=%B", OPS)
    r = cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}")
    assert r.code == 1 and "Burnin-Streak: trailer says '1/3'" in r.out, r.out
