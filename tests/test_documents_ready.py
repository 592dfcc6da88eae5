"""`run` asks whether the documents can take a session's evidence, and the milestone's
closure, before it starts the wrapper: a missing document or section found after a real
half hour on paper would lose that session (`record` and `close` refuse there)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import git

from evidencebot.sim.trading_repo import BACKLOG, DESIGN

WRAPPER = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('ran')\n"


@pytest.fixture
def repo(trading_repo: Path, tmp_path: Path) -> Path:
    """The demo's repository with a wrapper that leaves a mark when it runs."""
    (tmp_path / "wrapper.py").write_text(WRAPPER)
    (trading_repo / "evidencebot.toml").write_text(
        "[burnin]\n"
        f"command = [{json.dumps(sys.executable)}, {json.dumps(str(tmp_path / 'wrapper.py'))},"
        f" {json.dumps(str(tmp_path / 'ran'))}]\n"
        'report = "latest.json"\n')
    git(trading_repo, "commit", "-qam", "a wrapper")
    return trading_repo


RUN = "a run's evidence on ops/evidence: the ops commit would break the scope rules: "
CLOSE = "MO-2's closure would break the scope rules on ops/evidence: "
# (document, what is taken out of it, what the refusal says)
BROKEN = [
    pytest.param("SESSION_LOG.md", None, "SESSION_LOG.md is not on ops/evidence",
                 id="no-session-log"),
    pytest.param("IMPLEMENTATION_BACKLOG.md", ("| # | Date (UTC) | Run ID |", "| # | Date (UTC) | Run |"),
                 "IMPLEMENTATION_BACKLOG.md: the first table in 'Step 1A Burn-In Tracker' "
                 "has no 'Run ID' column", id="tracker-without-run-id"),
    pytest.param("IMPLEMENTATION_BACKLOG.md", ("## MO-* Status", "## Milestones"),
                 "IMPLEMENTATION_BACKLOG.md: ", id="no-status-section"),
    pytest.param("PROJECT_DESIGN.md", ("| MO-2 |", "| MO-9 |"), "PROJECT_DESIGN.md: ",
                 id="no-mo-2-row-in-the-design"),
    # found by an adversary: documents the sections are in, but where a run's commit
    # breaks the scope rules (the streak line under an HTML block; a NUL byte)
    pytest.param("IMPLEMENTATION_BACKLOG.md", ("Consecutive qualifying runs: 1 of 3",
                                               "<div>\nConsecutive qualifying runs: 1 of 3"),
                 RUN, id="streak-line-under-an-html-block"),
    pytest.param("IMPLEMENTATION_BACKLOG.md", ("## Later", "## Later\0"), RUN,
                 id="a-nul-byte-in-the-backlog"),
    # and where the closure's would (a reviewer: a NUL byte in the design; an adversary:
    # HTML in a cell of the milestone's row that close rewrites)
    pytest.param("PROJECT_DESIGN.md", ("## 9. Operational Milestones Tracker\n",
                                       "## 9. Operational Milestones Tracker\n\0\n"),
                 CLOSE, id="a-nul-byte-in-the-design"),
    pytest.param("PROJECT_DESIGN.md", ("three qualifying paper runs in a row",
                                       "three qualifying<br>paper runs in a row"),
                 CLOSE, id="html-in-the-milestone-s-row"),
    pytest.param("IMPLEMENTATION_BACKLOG.md", ("| MO-3 | OPEN |", "| MO-2 | OPEN |"),
                 "IMPLEMENTATION_BACKLOG.md: two rows 'MO-2' in the table of 'MO-* Status'",
                 id="two-rows-for-the-milestone"),
]


def break_it(repo: Path, name: str, edit: tuple[str, str] | None) -> None:
    if edit is None:
        git(repo, "rm", "-q", name)
    else:
        text = {"IMPLEMENTATION_BACKLOG.md": BACKLOG, "PROJECT_DESIGN.md": DESIGN}[name]
        assert edit[0] in text
        (repo / name).write_text(text.replace(edit[0], edit[1]))
    git(repo, "commit", "-qam", f"{name} as it stands")


@pytest.mark.parametrize(("name", "edit", "said"), BROKEN)
def test_run_refuses_before_the_wrapper_where_the_evidence_could_not_go(
        repo: Path, cli, name: str, edit: tuple[str, str] | None, said: str) -> None:  # type: ignore[no-untyped-def]
    break_it(repo, name, edit)
    before = git(repo, "for-each-ref")
    r = cli("--repo", repo, "run", "--skip-checks")
    assert r.code == 2 and r.err.startswith(f"evidencebot: error: nothing run: {said}"), r.err
    if edit is None:  # (the run's and the closure's, one document missing: said once)
        assert r.err.count(said) == 1, r.err
    assert r.err.splitlines()[-1].startswith(("Fix: mend it on the base branch",
                                              "Fix: commit", "Fix: mend the documents"))
    assert not (repo.parent / "ran").exists() and git(repo, "for-each-ref") == before
    as_json = json.loads(cli("--repo", repo, "--json", "run", "--skip-checks").out)["error"]
    assert as_json["exit_code"] == 2 and as_json["fix"] == r.err.splitlines()[-1][len("Fix: "):]
    dry = cli("--repo", repo, "--json", "run", "--dry-run", "--skip-checks")
    checks = {c["name"]: c for c in json.loads(dry.out)["checks"]}
    assert dry.code == 3 and checks["documents"]["status"] == "FAIL"
    assert said in checks["documents"]["reason"]


def test_the_dry_run_says_the_documents_take_the_evidence(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    dry = cli("--repo", repo, "--json", "run", "--dry-run", "--skip-checks")
    checks = {c["name"]: c for c in json.loads(dry.out)["checks"]}
    assert checks["documents"]["status"] == "PASS"
    assert "MO-2's status row" in checks["documents"]["reason"]


def test_the_dry_run_warns_of_text_on_the_base_that_says_the_milestone_closed(  # type: ignore[no-untyped-def]
        repo: Path, cli) -> None:
    """Found by a newcomer: a sentence on main read as "MO-2 closed" made every ops merge
    request's verify fail, while the dry run said the documents were fine. It warns (the
    runs still record), naming the line and wordings read as open."""
    design = repo / "PROJECT_DESIGN.md"
    design.write_text(design.read_text() + "\nOnce MO-2 is closed, the live rehearsal starts.\n")
    git(repo, "commit", "-qam", "a note")
    line = len(design.read_text().splitlines())
    dry = cli("--repo", repo, "--json", "run", "--dry-run", "--skip-checks")
    documents = {c["name"]: c for c in json.loads(dry.out)["checks"]}["documents"]
    assert documents["status"] == "WARN", documents
    assert documents["reason"].startswith(f"PROJECT_DESIGN.md:{line} says MO-2 closed")
    assert '"MO-2 will be closed"' in documents["fix"]
    v = cli("--repo", repo, "--json", "verify", "--range", "main..main")
    assert [x["rule"] for x in json.loads(v.out)["violations"]] == ["milestone-closed-by-hand"]
