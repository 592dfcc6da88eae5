"""A merge request from any branch but the ops branch is code, and CI runs `verify` on it
too (the jobs `init --ci` writes run on every merge request: one that asked for the ops
branch's name would skip a look-alike, and a skipped job passes). A range that holds no
ops commit is judged as code: it writes nothing under the evidence folders and closes
no milestone; everything else is the code review's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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


def code_change(cli, repo: Path, write: Callable[[Path], None], branch: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def,type-arg]
    """``write`` committed on a code branch ``branch`` from main, and verify's (exit code,
    JSON) of it as CI runs it on the merge request."""
    git(repo, "switch", "-q", "-c", branch)
    write(repo)
    commit_all(repo, "notes")
    return verify(cli, repo, branch)


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
    # the line the change adds and the status cell it changes (the tip's text, read again,
    # says the same line: said once, found by an adversary)
    assert [(v["rule"], v["path"]) for v in doc["violations"]] == [
        ("milestone-closed-by-hand", "PROJECT_DESIGN.md"), ("status-kept", "PROJECT_DESIGN.md")]


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


MO2_ROW = "| MO-2 | Step 1A burn-in |"


def design_row(repo: Path, status: str, extra: str = "") -> None:
    design = repo / "PROJECT_DESIGN.md"
    text = design.read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith(MO2_ROW))
    design.write_text(text.replace(row, row.replace("| OPEN |", f"| {status} |")) + extra)


def rewritten_in_two(repo: Path) -> None:
    """The design deleted in one commit, added back saying CLOSED in the next: neither
    change has both sides."""
    text = (repo / "PROJECT_DESIGN.md").read_text()
    git(repo, "rm", "-q", "PROJECT_DESIGN.md")
    commit_all(repo, "drop the design")
    (repo / "PROJECT_DESIGN.md").write_text(text.replace("| OPEN | Step 1A", "| CLOSED | Step 1A"))


def moved_by_the_config(repo: Path) -> None:
    """The same commit points [docs] design at a new file that says CLOSED."""
    text = (repo / "PROJECT_DESIGN.md").read_text()
    (repo / "DESIGN.md").write_text(text.replace("| OPEN | Step 1A", "| CLOSED | Step 1A"))
    config = repo / "evidencebot.toml"
    config.write_text(config.read_text() + '\n[docs]\ndesign = "DESIGN.md"\n')


def turned_around(repo: Path) -> None:
    """IDs in one row, statuses in the next: no line says both."""
    design = repo / "PROJECT_DESIGN.md"
    lines = design.read_text().splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("| ID |"))
    end = next(i for i in range(at, len(lines)) if not lines[i].startswith("|"))
    lines[at:end] = ["| ID | MO-1 | MO-2 | MO-3 |", "|---|---|---|---|",
                     "| Status | CLOSED | CLOSED | OPEN |"]
    design.write_text("\n".join(lines) + "\n")


def linked(repo: Path) -> None:
    """The design moved, a symbolic link in its place, the moved copy saying CLOSED."""
    (repo / "docs").mkdir()
    text = (repo / "PROJECT_DESIGN.md").read_text()
    (repo / "docs" / "design.md").write_text(text.replace("| OPEN | Step 1A", "| CLOSED | Step 1A"))
    (repo / "PROJECT_DESIGN.md").unlink()
    (repo / "PROJECT_DESIGN.md").symlink_to("docs/design.md")


CLOSINGS: dict[str, Callable[[Path], None]] = {
    "status-spelt-closed": lambda r: design_row(r, "Closed"),
    "status-in-bold": lambda r: design_row(r, "**CLOSED**"),
    "status-with-a-tick": lambda r: design_row(r, "CLOSED \u2705"),
    "status-with-a-new-heading": lambda r: design_row(r, "CLOSED", "\n## 11. Risks\n"),
    "a-session-log-entry": lambda r: (r / "SESSION_LOG.md").write_text(
        (r / "SESSION_LOG.md").read_text() + "\n## 2026-11-26 09:00 UTC — DEV — tidy\n\n"
        "- Note: MO-2 CLOSED\n"),
    "a-character-reference": lambda r: design_row(r, "CLOSE&#68;"),
    "an-html-comment-inside": lambda r: design_row(r, "CLO<!-- -->SED"),
    "a-zero-for-the-o": lambda r: (r / "PROJECT_DESIGN.md").write_text(
        (r / "PROJECT_DESIGN.md").read_text() + "\nM0-2: closed.\n"),
    "a-paragraph-over-two-lines": lambda r: (r / "PROJECT_DESIGN.md").write_text(
        (r / "PROJECT_DESIGN.md").read_text() + "\nAs of today MO-2 is\nclosed.\n"),
    "the-table-turned-around": turned_around,
    "a-symbolic-link": linked,
    "deleted-then-added": rewritten_in_two,
    "the-config-moves-the-design": moved_by_the_config,
    "escaped-tildes-around-it": lambda r: design_row(r, "OPEN \\~x → CLOSED \u2705 x\\~"),
    "code-spans-around-it": lambda r: (r / "PROJECT_DESIGN.md").write_text(
        (r / "PROJECT_DESIGN.md").read_text() + "\nLatency `x~1` MO-2 is CLOSED `y~2`.\n"),
}


BY_HAND, STATUS = "milestone-closed-by-hand", "status-kept"
# What each says (the tip's text read again, the same finding, is one of them)
SAID = {**dict.fromkeys(["status-spelt-closed", "status-in-bold", "status-with-a-tick",
                         "status-with-a-new-heading", "deleted-then-added",
                         "the-config-moves-the-design"], {BY_HAND, STATUS}),
        **dict.fromkeys(["a-session-log-entry", "a-zero-for-the-o",
                         "a-paragraph-over-two-lines"], {BY_HAND}),
        **dict.fromkeys(["a-character-reference", "an-html-comment-inside"],
                        {"html-in-document", BY_HAND, STATUS}),
        "the-table-turned-around": {STATUS}, "a-symbolic-link": {"regular-files-only"},
        "escaped-tildes-around-it": {BY_HAND, STATUS}, "code-spans-around-it": {BY_HAND}}


@pytest.mark.parametrize("close_it", CLOSINGS.values(), ids=CLOSINGS.keys())
def test_a_code_merge_request_closes_no_milestone_however_it_says_so(
        trading_repo: Path, cli, close_it: Callable[[Path], None],  # type: ignore[no-untyped-def]
        request: pytest.FixtureRequest) -> None:
    git(trading_repo, "switch", "-q", "-c", "feature/tidy")
    close_it(trading_repo)
    commit_all(trading_repo, "tidy")
    code, doc = verify(cli, trading_repo, "feature/tidy")
    assert code == 1 and doc["code"]
    assert {v["rule"] for v in doc["violations"]} == SAID[request.node.callspec.id]


def test_a_code_merge_request_keeps_every_tracker_row_that_breaks(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A hand-written row that breaks the streak, removed (or its outcome changed), would
    take the break out of it; a row added is a run written by hand, as before, and a
    qualifying hand-written row (which neither counts nor breaks) may be taken back. An
    evil merge is no way round: the change is judged from where it left the base."""
    backlog = trading_repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text()
    row = next(ln for ln in text.splitlines() if "| 20261116T081500Z |" in ln)
    failed = row.replace("| 1 |", "| 2 |").replace("20261116T081500Z", "20261117T081500Z") \
        .replace("qualifying", "non-qualifying")
    git(trading_repo, "switch", "-q", "-c", "feature/rows")
    backlog.write_text(text.replace(row, row + "\n" + failed))
    commit_all(trading_repo, "a failed session written by hand")
    assert verify(cli, trading_repo, "feature/rows")[0] == 0
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", "feature/rows", "-m", "the row")
    git(trading_repo, "switch", "-q", "-c", "feature/tidy")
    backlog.write_text(text.replace(row, failed))
    commit_all(trading_repo, "the qualifying row taken back")
    assert verify(cli, trading_repo, "feature/tidy")[0] == 0
    # a side commit that adds a row, and a merge that drops both it and the failed one
    tip = git(trading_repo, "rev-parse", "HEAD").strip()
    git(trading_repo, "switch", "-q", "-c", "feature/side")
    backlog.write_text(text.replace(row, failed + "\n" + failed.replace("20261117", "20261118")))
    commit_all(trading_repo, "another failed one")
    tree_text = text.replace(row, "")
    backlog.write_text(tree_text)
    git(trading_repo, "add", "-A")
    tree = git(trading_repo, "write-tree").strip()
    side = git(trading_repo, "rev-parse", "HEAD").strip()
    merge = git(trading_repo, "commit-tree", tree, "-p", tip, "-p", side, "-m", "merge").strip()
    git(trading_repo, "branch", "-f", "feature/evil", merge)
    code, doc = verify(cli, trading_repo, "feature/evil")
    assert code == 1
    assert [(v["rule"], v["section"]) for v in doc["violations"]] == [
        ("breaking-row-kept", "Step 1A Burn-In Tracker")]


def test_text_may_say_closed_once_a_closure_closed_it(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                       pinned_now: str,
                                                       trading_repo: Path) -> None:
    for hours in (7, 6, 5):
        doc = report(finished=NOW - timedelta(hours=hours))
        r = cli("--repo", trading_repo, "record", write_report(tmp_path / f"{hours}.json", doc))
        assert r.code == 0, r.err
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 0
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", OPS, "-m", "Merge ops/evidence")
    git(trading_repo, "switch", "-q", "-c", "feature/notes")
    backlog = trading_repo / "IMPLEMENTATION_BACKLOG.md"
    backlog.write_text(backlog.read_text() + "\nMO-2 closed on 2026-11-25; see the request.\n")
    commit_all(trading_repo, "a note")
    code, doc = verify(cli, trading_repo, "feature/notes")
    assert (code, doc["violations"]) == (0, [])


def test_an_ops_range_on_a_base_that_reads_closed_without_a_closure_fails(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """However the status got there (merged past its verify job), the ops branch's next
    merge request is where it is said: the reader would be shown a closed milestone with
    no runs."""
    design_row(trading_repo, "Closed")
    commit_all(trading_repo, "status")
    doc = report(finished=NOW - timedelta(hours=3))
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    code, found = verify(cli, trading_repo, OPS)
    assert code == 1 and not found["code"]
    assert [(v["rule"], v["path"]) for v in found["violations"]] == [
        ("milestone-closed-by-hand", "PROJECT_DESIGN.md")]


def test_what_the_base_already_said_is_not_the_change_s(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A claim the base's session log already holds (written before evidencebot, say) is
    no claim of a change that adds an unrelated entry, or moves the old one."""
    log = trading_repo / "SESSION_LOG.md"
    old = log.read_text() + "\n## 2026-11-01 09:00 UTC — DEV — plan\n\n- Note: MO-2 closed?\n"
    log.write_text(old)
    commit_all(trading_repo, "an old note")
    git(trading_repo, "switch", "-q", "-c", "feature/log")
    log.write_text(old + "\n## 2026-11-26 09:00 UTC — DEV — tidy\n\n- Note: ruff\n")
    commit_all(trading_repo, "a new entry")
    code, doc = verify(cli, trading_repo, "feature/log")
    assert (code, doc["violations"]) == (0, [])


@pytest.mark.parametrize(("text", "said"), [
    ("| ID | Status |\n|---|---|\n| MO-1 | CLOSED |\n| MO-2 | OPEN |", []),
    ("MO-2 is\n\u00a0\nclosed.", [("MO-2", 0, 2)]),  # (a line of NBSP is no blank line)
    ("As of today MO-2 is\n| closed |", [("MO-2", 0, 1)]),  # (no table: one paragraph)
    ("### MO-2\n\n**CLOSED**", [("MO-2", 0, 2)]),
    ("### MO-2 schedule\n\nNo runs while the LSE is closed.", []),
    ("## W-8 closed: done\n\n- Milestone: MO-2", []),
    ("- [x] W-3b issue #12 closed\n- [ ] W-9 MO-2 evidence page", []),
    ("M0-2 CLO<!-- -->SED", [("MO-2", 0, 0)]),
    # a setext heading and what is under it (its underline is no table's delimiter row)
    ("MO-2\n---\n\n**CLOSED**", [("MO-2", 0, 3)]),
    ("MO-2 status\n---\nCLOSED", [("MO-2", 0, 2)]),
    ("&#77;O-2: CLOSE&#68;", [("MO-2", 0, 0)]),
    # (adversary 45) what a page shows as written strikes nothing out and hides nothing
    ("Latency `x~1` MO-2 is CLOSED `y~2`.", [("MO-2", 0, 0)]),
    ("Jitter \\~2 ms; MO-2 is CLOSED (streak 3/3), drift 1\\~3 ms.", [("MO-2", 0, 0)]),
    ("Latency &#126;1 MO-2 is CLOSED x&#126;", [("MO-2", 0, 0)]),
    ("\\<!-- MO-2 is CLOSED -->", [("MO-2", 0, 0)]),
    ("`<!--` MO-2 is CLOSED `-->`", [("MO-2", 0, 0)]),
    ("MO-2 is ~~not~~ closed, `~~` aside", [("MO-2", 0, 0)]),
    # (adversary 46) struck-out text as GitHub pairs it; autolinks and code blocks as written
    ("Drift ~1 ms; MO-2 is CLOSED (3/3); jitter ~2~ ms.", [("MO-2", 0, 0)]),
    ('Latency x~~"MO-2 is CLOSED"~~x here.', [("MO-2", 0, 0)]),
    ("see <https://a.example/~~x> MO-2 is CLOSED <https://b.example/x~~> now.",
     [("MO-2", 0, 0)]),
    ("~~~\ngateway log: run~1 MO-2 is CLOSED (3/3)~ok\n~~~", [("MO-2", 0, 2)]),
    ("Log:\n\n    run~1 MO-2 is CLOSED (3/3)~ok", [("MO-2", 2, 2)]),
    # (adversary 47)
    ("Note ~a~~ MO-2 is CLOSED. x~", [("MO-2", 0, 0)]),
    ("| MO-2 | ~~OPEN.~~\\* ~a~~ CLOSED \u2705 x~ |", [("MO-2", 0, 0)]),
    ("[text](words with spaces) MO-2 is CLOSED", [("MO-2", 0, 0)]),
    ("Intro ~~a\n> b~~ MO-2 is CLOSED", [("MO-2", 1, 1)]),
    ("```text`\nMO-2 is ~~not~~ CLOSED\n```", [("MO-2", 0, 2)]),
    ("- item\n\n    MO-2 is ~~not~~ CLOSED", [("MO-2", 2, 2)]),  # (a list's paragraph)
    ("## Log\n    run~1 MO-2 is CLOSED (3/3)~ok", [("MO-2", 0, 1)]),  # (code under a heading)
    ("- a\n  ```\n  x\n  ```\n\nMO-2 is ~~not~~ CLOSED", [("MO-2", 5, 5)]),  # (fence ends)
    ("    MO-2 <!-- is CLOSED -->", [("MO-2", 0, 0)]),
    ("see https://h.example/~ops/ MO-2 is CLOSED (3/3) ~x~", [("MO-2", 0, 0)]),  # (bare links)
    ("www.h.example/~ops MO-2 is CLOSED x~", [("MO-2", 0, 0)]),
])
def test_what_reads_as_a_closure(text: str, said: list[tuple[str, int, int]]) -> None:
    from evidencebot.guard.prose import closed_claims

    assert closed_claims(text.split("\n"), {"MO-2"}) == said  # (MO-1 is not watched)


def test_a_decoy_table_first_hides_no_status(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    design = trading_repo / "PROJECT_DESIGN.md"
    text = design.read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith(MO2_ROW))
    decoy = "| ID | Status |\n|---|---|\n| MO-2 | OPEN |\n\n"
    git(trading_repo, "switch", "-q", "-c", "feature/decoy")
    design.write_text(text.replace("| ID | Milestone |", decoy + "| ID | Milestone |", 1)
                      .replace(row, row.replace("| OPEN |", "| DONE \u2705 |")))
    commit_all(trading_repo, "tables")
    code, doc = verify(cli, trading_repo, "feature/decoy")
    assert code == 1 and {v["rule"] for v in doc["violations"]} == {"status-kept"}


def test_a_branch_behind_the_base_is_judged_by_what_its_merge_brings(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Two merge requests, each harmless alone; the second, branched before the first was
    merged, is judged against the base as it is now (git's merge of the two), not
    against where it left it."""
    design = trading_repo / "PROJECT_DESIGN.md"
    text = design.read_text() + "\nThe burn-in milestone\nhas a checklist, and\nis open.\n"
    design.write_text(text)
    commit_all(trading_repo, "a paragraph")
    git(trading_repo, "switch", "-q", "-c", "feature/b")
    design.write_text(text.replace("is open.", "is now CLOSED."))
    commit_all(trading_repo, "b")
    assert verify(cli, trading_repo, "feature/b")[0] == 0  # (names no milestone)
    git(trading_repo, "switch", "-q", "main")
    design.write_text(text.replace("The burn-in milestone", "The burn-in milestone (MO-2)"))
    commit_all(trading_repo, "a")
    code, doc = verify(cli, trading_repo, "feature/b")
    assert code == 1 and "milestone-closed-by-hand" in {v["rule"] for v in doc["violations"]}


def test_a_merge_request_that_conflicts_with_the_base_is_not_judged_as_clean(
        trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """What a conflicted merge would write is not known: a finding, not a judgement of
    the branch against a merge base (which git picks by date in a criss-cross)."""
    notes = trading_repo / "NOTES.md"
    notes.write_text("one\n")
    commit_all(trading_repo, "notes")
    git(trading_repo, "switch", "-q", "-c", "feature/x")
    notes.write_text("two\n")
    commit_all(trading_repo, "x")
    git(trading_repo, "switch", "-q", "main")
    notes.write_text("three\n")
    commit_all(trading_repo, "main moved")
    code, doc = verify(cli, trading_repo, "feature/x")
    assert code == 1 and [v["rule"] for v in doc["violations"]] == ["merge-conflict"]


def test_a_document_moved_with_its_config_is_judged_where_it_went(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", "feature/move")
    (trading_repo / "docs").mkdir()
    git(trading_repo, "mv", "PROJECT_DESIGN.md", "docs/DESIGN.md")
    config = trading_repo / "evidencebot.toml"
    config.write_text(config.read_text() + '\n[docs]\ndesign = "docs/DESIGN.md"\n')
    commit_all(trading_repo, "move the design")
    assert verify(cli, trading_repo, "feature/move")[0] == 0
    design = trading_repo / "docs" / "DESIGN.md"
    row = next(ln for ln in design.read_text().splitlines() if ln.startswith(MO2_ROW))
    design.write_text(design.read_text().replace(row, row.replace("| OPEN |", "| CLOSED |")))
    commit_all(trading_repo, "and close it there")
    code, doc = verify(cli, trading_repo, "feature/move")
    assert code == 1 and {(v["rule"], v["path"]) for v in doc["violations"]} >= {
        ("milestone-closed-by-hand", "docs/DESIGN.md"), ("status-kept", "docs/DESIGN.md")}


@pytest.mark.parametrize("name", ['"a\\u0000b"', '"../x.md"', '"/etc/passwd"', '""'])
def test_a_document_name_no_path_can_be_is_none(trading_repo: Path, cli, name: str) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", "feature/odd")
    config = trading_repo / "evidencebot.toml"
    config.write_text(config.read_text() + f"\n[docs]\ndesign = {name}\n")
    commit_all(trading_repo, "odd")
    r = cli("--repo", trading_repo, "--json", "verify", "--base", "main", "--range",
            "main..feature/odd")
    assert r.code in (0, 1) and "Traceback" not in r.err and json.loads(r.out)["code"]


def test_a_branch_from_before_the_closure_may_say_it_once_the_base_holds_it(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "branch", "feature/old")  # (left the base before the closure)
    for hours in (7, 6, 5):
        doc = report(finished=NOW - timedelta(hours=hours))
        assert cli("--repo", trading_repo, "record",
                   write_report(tmp_path / f"{hours}.json", doc)).code == 0
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 0
    git(trading_repo, "merge", "-q", "--no-ff", OPS, "-m", "Merge ops/evidence")
    git(trading_repo, "switch", "-q", "feature/old")
    notes = trading_repo / "NOTES.md"
    notes.write_text("notes\n")
    design = trading_repo / "PROJECT_DESIGN.md"
    design.write_text(design.read_text() + "\nMO-2 closed: see the merge request.\n")
    commit_all(trading_repo, "a note")
    code, found = verify(cli, trading_repo, "feature/old")
    assert (code, found["violations"]) == (0, [])


@pytest.mark.parametrize(("status", "refused"), [
    ("IN PROGRESS", False), ("**Blocked**", False), ("on hold", False),
    ("IN PROGRESS (2/3)", False), ("BLOCKED: IB gateway", False), ("ON-HOLD", False),
    ("DONE \u2705", True), ("complete", True), ("Met", True), ("OPEN \u2705", True),
    ("IN PROGRESS \u2014 done", True),
    # (round 31: struck out, a stray "](" or an empty image hid what the page shows)
    ("~~OPEN~~", True), ("OPEN *\\](CLOSED 2026-11-27)*", True),
    ("OPEN CLO![](https://example.invalid/1.png)SED", True),
    # (round 41: a badge's picture, an emoji's short code, a slash of another shape)
    ("![OPEN](docs/status.svg)", True), ("![in progress][badge]", True),
    ("IN PROGRESS :white_check_mark:", True), ("IN PROGRESS (3\u20443)", True)])
def test_an_open_milestone_s_status_may_move_among_words_of_work_not_done(
        trading_repo: Path, cli, status: str, refused: bool) -> None:  # type: ignore[no-untyped-def]
    """The closure writes CLOSED and nothing else writes a status: OPEN to IN PROGRESS is
    a team's to write; any word that is not one of work not done is the closure's."""
    git(trading_repo, "switch", "-q", "-c", "feature/status")
    design_row(trading_repo, status)
    commit_all(trading_repo, "status")
    code, doc = verify(cli, trading_repo, "feature/status")
    rules = {v["rule"] for v in doc["violations"]}
    # (a status that says CLOSED is also text that says it: milestone-closed-by-hand)
    assert (code, "status-kept" in rules) == (1, True) if refused else (code, rules) == (0, set())



@pytest.mark.parametrize("text", [
    "MO-2 (Step 1A burn-in): *\\](CLOSED on 2026-11-27, live trading may start)*",
    "MO-2 (Step 1A burn-in) is CLO![](https://example.invalid/1x1.png)SED.",
    # (round 41: combining marks, a Greek san, letters in boxes, a ring for an o)
    "MO-2 (Step 1A burn-in) is C\u0332L\u0332O\u0332S\u0332E\u0332D\u0332 on 2026-11-26.",
    "MO-2 (Step 1A burn-in) is CL\u00d3SED.", "\u03faO-2 (Step 1A burn-in) is CLOSED.",
    "MO-2 (Step 1A burn-in): \U0001f172\U0001f17b\U0001f17e\U0001f182\U0001f174\U0001f173.",
    "M\u25cb-2 (Step 1A burn-in) is CLOSED.",
    # (round 43: Latin letters of other shapes)
    "MO-2 (Step 1A burn-in) is CL\u00d8SED.", "M\u00d8-2 (Step 1A burn-in) is closed.",
    "MO-2 (Step 1A burn-in): CL\u0275SED.",
])
def test_text_a_page_shows_is_what_is_read(trading_repo: Path, cli, text: str) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", "feature/hidden")
    design = trading_repo / "PROJECT_DESIGN.md"
    design.write_text(design.read_text() + "\n" + text + "\n")
    commit_all(trading_repo, "hidden")
    code, doc = verify(cli, trading_repo, "feature/hidden")
    assert code == 1 and "milestone-closed-by-hand" in {v["rule"] for v in doc["violations"]}


@pytest.mark.parametrize(("text", "refused"), [
    ("\u2c98O-2 (Step 1A burn-in) is CLOSED.", True),  # (a Coptic M: in no table)
    ("MO-2 (Step 1A burn-in) is CL\u2299SED.", True),  # (a circled dot for the O)
    ("\u2c98\u2c9e-2 (Step 1A burn-in) is CLOSED.", True),  # (Coptic both)
    ("Returns are \u03b4-hedged before costs.", False),  # (no milestone, nothing done)
    ("MO-2 waits 5\u00b5s between orders at 25\u00b0C.", False),
    # (round 42: engineering text beside MO-2; no letter stood in for would make a name
    # or a word of closure, or the word says it without the symbol)
    ("The position is \u03b4-hedged and MO-2 needs three runs.", False),
    ("MO-2 needs k\u03c3 below 2, ratio\u22650.80 and 2\u00d7speed; \u2713reviewed by "
     "\u00a9LSEG data. \u26a0\ufe0fMO-2 then \u2192MO-3.", False),
    # (round 43: a note in another language beside MO-2)
    ("MO-2 \u0435\u0449\u0451 \u043d\u0435 \u0437\u0430\u043a\u0440\u044b\u0442: "
     "\u043e\u0448\u0438\u0431\u043a\u043e\u0439 \u0448\u043b\u044e\u0437\u0430.", False),
    ("\u03a4\u03bf MO-2 \u03b4\u03b5\u03bd \u03ad\u03ba\u03bb\u03b5\u03b9\u03c3\u03b5 "
     "\u03b1\u03ba\u03cc\u03bc\u03b1.", False),
])
def test_a_word_mixing_scripts_beside_a_milestone_or_a_closure_is_refused(  # type: ignore[no-untyped-def]
        trading_repo: Path, cli, text: str, refused: bool) -> None:
    """A look-alike no table lists reads as what it looks like: a word mixing Latin letters
    with another script's letters or symbols, in text that names a milestone or says
    closed or done, is refused (found by an adversary, one letter after another)."""
    git(trading_repo, "switch", "-q", "-c", "feature/mixed")
    design = trading_repo / "PROJECT_DESIGN.md"
    design.write_text(design.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")
    commit_all(trading_repo, "mixed")
    code, doc = verify(cli, trading_repo, "feature/mixed")
    rules = {v["rule"] for v in doc["violations"]}
    assert (code, rules) == ((1, {"look-alike-characters"}) if refused else (0, set())), doc


def section_table(repo: Path, table: str) -> None:
    """A table of the design's milestones section, added under its heading."""
    design = repo / "PROJECT_DESIGN.md"
    text = design.read_text()
    design.write_text(text.replace("| ID | Milestone |", table + "\n\n| ID | Milestone |", 1))


def backlog_streak_line(repo: Path, said: str) -> None:
    backlog = repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("Consecutive qualifying runs:"))
    backlog.write_text(text.replace(line, said))


# Found by an adversary (round 32): a status-kept that read only a column headed "Status"
# in rows whose first cell was the id, and a streak line no code range was asked about.
DONE_ELSEWHERE: dict[str, Callable[[Path], None]] = {
    "a-number-column-first": lambda r: section_table(
        r, "| # | ID | Status |\n|---|---|---|\n| 1 | MO-2 | DONE \u2705 |"),
    "a-status-header-in-bold": lambda r: section_table(
        r, "| ID | **Status** |\n|---|---|\n| MO-2 | DONE \u2705 |"),
    "a-state-column": lambda r: section_table(
        r, "| Milestone | State (UTC) |\n|---|---|\n| Step 1A burn-in, MO-2 | complete |"),
    "a-count-that-meets-the-streak": lambda r: design_row(
        r, "IN PROGRESS (3/3 qualifying runs, awaiting sign-off)"),
    "a-note-that-says-met": lambda r: section_table(
        r, "| ID | Note |\n|---|---|\n| MO-2 | burn-in streak 3 of 3 |"),
    "the-streak-line": lambda r: backlog_streak_line(r, "Consecutive qualifying runs: 3 of 3"),
}


@pytest.mark.parametrize("write", DONE_ELSEWHERE.values(), ids=DONE_ELSEWHERE.keys())
def test_a_code_change_says_work_done_nowhere_an_open_milestone_s_row_is(
        trading_repo: Path, cli, write: Callable[[Path], None],  # type: ignore[no-untyped-def]
        request: pytest.FixtureRequest) -> None:
    git(trading_repo, "switch", "-q", "-c", "feature/sync")
    write(trading_repo)
    commit_all(trading_repo, "docs: sync the trackers")
    code, doc = verify(cli, trading_repo, "feature/sync")
    want = "streak-line-kept" if request.node.callspec.id == "the-streak-line" else "status-kept"
    assert code == 1 and {v["rule"] for v in doc["violations"]} == {want}, doc["violations"]


def test_work_not_done_and_what_a_row_said_before_pass(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A new table that says work not done on MO-2 (a count short of its streak among it),
    and a row that already said a word of work done moved about, are no claims."""
    design = trading_repo / "PROJECT_DESIGN.md"
    design.write_text(design.read_text() + "\n| Dependency | For |\n|---|---|\n"
                      "| data feed (done) | MO-2 |\n")
    commit_all(trading_repo, "a dependency, done")
    git(trading_repo, "switch", "-q", "-c", "feature/plan")
    section_table(trading_repo, "| # | ID | State |\n|---|---|---|\n| 1 | MO-2 | 2/3, running |")
    text = design.read_text()
    design.write_text(text.replace("| data feed (done) | MO-2 |", "| data feed (done) | MO-2 |"
                                   "\n| broker login | MO-2 |"))
    commit_all(trading_repo, "plan")
    code, doc = verify(cli, trading_repo, "feature/plan")
    assert (code, doc["violations"]) == (0, [])


def test_evidence_under_a_look_alike_folder_is_evidence_in_code(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a code change adding reports/evіdence/milestones/MO-2.md (a
    Cyrillic і) passed, as the folders were compared with case folded only."""
    git(trading_repo, "switch", "-q", "-c", "feature/copy")
    page = trading_repo / "reports" / "ev\u0456dence" / "milestones" / "MO-2.md"
    page.parent.mkdir(parents=True)
    page.write_text("# Close MO-2\n")
    commit_all(trading_repo, "a copy")
    code, doc = verify(cli, trading_repo, "feature/copy")
    assert code == 1 and [v["rule"] for v in doc["violations"]] == ["evidence-in-code"]


def append_design(text: str) -> Callable[[Path], None]:
    def write(repo: Path) -> None:
        design = repo / "PROJECT_DESIGN.md"
        design.write_text(design.read_text() + "\n" + text)
    return write


# Found by an adversary (round 33): what passed that says MO-2 closed, and honest text refused
SAID_CLOSED: dict[str, tuple[Callable[[Path], None], str]] = {
    "spelt-apart": (append_design("MO - 2: CLOSED on 2026-11-27.\n"), "milestone-closed-by-hand"),
    "two-dashes": (append_design("MO--2 is closed.\n"), "milestone-closed-by-hand"),
    "marked-after-a-negation": (append_design("Do not wait: MO-2 is marked closed.\n"),
                                "milestone-closed-by-hand"),
    # (round 37: a negation and a word of marking before "closed" say it closed too)
    "closed-beside-the-market": (append_design("MO-2 is closed; the market closed too.\n"),
                                 "milestone-closed-by-hand"),
    # (round 38: another thing that closes beside it)
    "with-its-ticket": (append_design("MO-2 and its tracking issue are closed.\n"),
                        "milestone-closed-by-hand"),
    "a-ticket-under-its-heading": (append_design("### MO-2\n\n**Ticket closed**\n"),
                                   "milestone-closed-by-hand"),
    "not-marked-again": (append_design("Do not mark MO-2 closed again: it already is.\n"),
                         "milestone-closed-by-hand"),
    "not-set-by-hand": (append_design("MO-2 was not set closed by hand but by the closure "
                                      "commit of 2026-11-25.\n"), "milestone-closed-by-hand"),
    "to-be-shown-as": (append_design("Reviewers: MO-2 must be shown as closed on every report "
                                     "from 2026-11-25 on.\n"), "milestone-closed-by-hand"),
    "has-been-closed": (append_design("MO-2 has been closed by its three runs.\n"),
                        "milestone-closed-by-hand"),
    "not-been-closed-by-hand": (append_design("MO-2 has not been closed by hand: it closed "
                                              "on its runs.\n"), "milestone-closed-by-hand"),
    # (round 42: a link by reference; a bidi override shows "DESOLC" reversed)
    "a-reference-link": (append_design("[MO-2 CLOSED][c] on 2026-11-26.\n\n[c]: "
                                       "https://example.invalid/x\n"), "milestone-closed-by-hand"),
    "reversed": (append_design("MO-2 is \u202eDESOLC\u202c.\n"), "hidden-characters"),
    "a-short-sentence-after": (append_design("MO-2, the burn-in. Closed.\n"),
                               "milestone-closed-by-hand"),
    "a-sentence-pointing-back": (append_design("MO-2 (Step 1A burn-in). This milestone is "
                                               "now closed after three runs.\n"),
                                 "milestone-closed-by-hand"),
    "beside-the-evidence-folders": (lambda r: (
        (r / "reports" / "evidence").mkdir(parents=True),
        (r / "reports" / "evidence" / "MO-2.md").write_text("# Close MO-2\n")),
        "evidence-in-code"),
}
HONEST: dict[str, Callable[[Path], None]] = {
    "not-closed-yet": append_design("MO-2 is not closed yet: two runs to go.\n"),
    # (found by a newcomer: a sentence of its own about the market)
    "another-sentence": append_design("MO-2 is not in review yet. The market closed early "
                                      "on 27/11.\n"),
    "to-be-closed": append_design("MO-2 will be closed once three runs qualify.\n"),
    # (round 41: "been", "neither")
    "not-been-closed": append_design("MO-2 has not been closed yet: the streak is 1 of 3. "
                                     "MO-2 hasn't yet been closed. MO-2 has never been "
                                     "closed.\n"),
    "neither-closed": append_design("MO-2 is neither closed nor in review.\n"),
    "words-inside-words": lambda r: section_table(
        r, "| ID | Note |\n|---|---|\n| MO-2 | already planned; before any live order; "
           "password rotated |"),
    "html-in-a-code-block": append_design("```sh\nevidencebot void <run-id> --reason TEXT\n```\n"),
    # (round 34: days and months, a ratio, beside the streak line)
    "dates-beside-the-streak-line": lambda r: (r / "IMPLEMENTATION_BACKLOG.md").write_text(
        (r / "IMPLEMENTATION_BACKLOG.md").read_text().replace(
            "Consecutive qualifying runs:", "Next desk review 27/11; gateway upgrade on 1/1; "
            "data ratio 0.80 of 1.\n\nConsecutive qualifying runs:", 1)),
}


@pytest.mark.parametrize("write", [w for w, _ in SAID_CLOSED.values()], ids=SAID_CLOSED.keys())
def test_what_says_closed_is_read_however_spelt(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                write: Callable[[Path], None],
                                                request: pytest.FixtureRequest) -> None:
    code, doc = code_change(cli, trading_repo, write, "feature/said")
    rule = SAID_CLOSED[request.node.callspec.id][1]
    assert code == 1 and rule in {v["rule"] for v in doc["violations"]}, doc["violations"]


@pytest.mark.parametrize("write", HONEST.values(), ids=HONEST.keys())
def test_honest_text_about_an_open_milestone_passes(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                    write: Callable[[Path], None]) -> None:
    code, doc = code_change(cli, trading_repo, write, "feature/honest")
    assert (code, doc["violations"]) == (0, [])


# Found by an adversary (round 33): a met streak said in words, or on a line of its own
MET: dict[str, Callable[[Path], None]] = {
    "in-words": lambda r: design_row(r, "IN PROGRESS (three of three qualifying)"),
    "hyphened": lambda r: design_row(r, "IN PROGRESS (3-of-3 qualifying)"),  # (round 42)
    "a-second-count-line": lambda r: (r / "IMPLEMENTATION_BACKLOG.md").write_text(
        (r / "IMPLEMENTATION_BACKLOG.md").read_text().replace(
            "Consecutive qualifying runs:", "Qualifying runs in a row (desk count): **3** of "
            "3\n\nConsecutive qualifying runs:", 1)),
    "met-said-beside-it": lambda r: (r / "IMPLEMENTATION_BACKLOG.md").write_text(
        (r / "IMPLEMENTATION_BACKLOG.md").read_text().replace(
            "Consecutive qualifying runs:", "Desk count: streak met; MO-2 complete.\n\n"
            "Consecutive qualifying runs:", 1)),
}


@pytest.mark.parametrize("write", MET.values(), ids=MET.keys())
def test_a_met_streak_is_said_by_no_code_change(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                               write: Callable[[Path], None]) -> None:
    code, doc = code_change(cli, trading_repo, write, "feature/met")
    assert code == 1 and {v["rule"] for v in doc["violations"]} & {"status-kept",
                                                                   "streak-line-kept"}, doc
