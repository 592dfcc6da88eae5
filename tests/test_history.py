from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import git

from evidencebot.evidence import history
from evidencebot.evidence.streak import streak
from evidencebot.sim.synth import add_ops_commits


def test_history_json_returns_every_one_of_1000_runs(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    main = git(trading_repo, "rev-parse", "main").strip()
    add_ops_commits(trading_repo, branch="ops/evidence", parent=main, count=1000)
    start = time.perf_counter()
    r = cli("--repo", trading_repo, "--json", "history")
    elapsed = time.perf_counter() - start
    assert r.code == 0
    entries = json.loads(r.out)["entries"]
    assert len(entries) == 1000
    assert len({e["run_id"] for e in entries}) == 1000
    assert entries[0]["run_id"] == "202600000999T000000Z"  # newest first
    assert not any(e["problems"] for e in entries)
    print(f"history --json over 1000 ops commits: {elapsed * 1000:.0f} ms")


def test_limit_and_csv(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    add_ops_commits(trading_repo, branch="ops/evidence",
                    parent=git(trading_repo, "rev-parse", "main").strip(), count=7)
    r = cli("--repo", trading_repo, "history", "--limit", "3", "--csv")
    rows = r.out.strip().splitlines()
    assert rows[0].startswith("commit,date,kind,run_id,outcome")
    assert len(rows) == 4 and "202600000006T000000Z" in rows[1]
    import csv

    read = list(csv.DictReader(r.out.splitlines()))
    assert {row["voided"] for row in read} == {"false"}  # booleans as the trailers write them


def test_streak_rules() -> None:
    def c(outcome: str, dirty: str = "false", kind: str = "step1a-burnin") -> history.OpsCommit:
        return history.OpsCommit("x", (), "a", "d", "s", {
            "Evidence-Kind": kind, "Evidence-Outcome": outcome, "Code-Dirty": dirty})

    q, n = c("qualifying"), c("non-qualifying")
    assert streak([q, q, n, q]) == 2
    assert streak([q, c("failed-infra"), q, c("failed-market-data"), q]) == 3
    assert streak([q, c("failed-code"), q]) == 1
    assert streak([q, c("qualifying", dirty="true"), q]) == 1
    assert streak([c("", kind="milestone"), q, q, q, q]) == 4


def test_a_malformed_ops_commit_is_reported_not_fatal(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", "ops/evidence")
    git(trading_repo, "commit", "-q", "--allow-empty", "-m",
        "evidence by hand\n\nEvidence-Kind: step1a-burnin\nEvidence-Outcome: maybe\n")
    git(trading_repo, "switch", "-q", "main")
    r = cli("--repo", trading_repo, "--json", "history")
    assert r.code == 0
    (entry,) = json.loads(r.out)["entries"]
    assert any("Evidence-Outcome" in p for p in entry["problems"])
    human = cli("--repo", trading_repo, "history")
    assert "MALFORMED" in human.out
    status = cli("--repo", trading_repo, "status")
    assert "MALFORMED ops commits" in status.out and "MO-2: 0/3" in status.out



def test_a_hand_commit_with_no_trailers_on_the_ops_branch_is_said(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: a `--no-verify` commit with no trailers on the ops branch was
    shown nowhere until CI's verify refused it (not-an-ops-commit)."""
    from conftest import record_run

    record_run(cli, trading_repo, 9)
    git(trading_repo, "switch", "-q", "ops/evidence")
    (trading_repo / "reports" / "note.txt").write_text("a note\n")
    git(trading_repo, "add", "-A")
    git(trading_repo, "commit", "-q", "--no-verify", "-m", "ops: a note")
    hand = git(trading_repo, "rev-parse", "HEAD").strip()
    git(trading_repo, "switch", "-q", "main")
    status = json.loads(cli("--repo", trading_repo, "--json", "status").out)
    assert status["malformed"] == [hand], status
    assert f"MALFORMED ops commits: {hand[:12]}" in cli("--repo", trading_repo, "status").out


def test_reasons_come_the_same_from_git_and_from_a_warm_or_damaged_cache(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from conftest import record_run

    record_run(cli, trading_repo, 7, filled=0)  # non-qualifying: its reasons are in its record
    record_run(cli, trading_repo, 8)
    cache = Path(git(trading_repo, "rev-parse", "--git-common-dir").strip())
    cache = (cache if cache.is_absolute() else trading_repo / cache) / "evidencebot" / "reasons-cache.bin"
    cold = json.loads(cli("--repo", trading_repo, "--json", "history").out)["entries"]
    assert cache.is_file()
    warm = json.loads(cli("--repo", trading_repo, "--json", "history").out)["entries"]
    assert warm == cold and any("filled" in " ".join(e["reasons"]) for e in cold)
    cache.write_bytes(b"\x00 not marshal")
    assert json.loads(cli("--repo", trading_repo, "--json", "history").out)["entries"] == cold


def test_the_tracker_shortcut_gives_the_streak_git_gives(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from conftest import record_run

    for n in (6, 7):
        record_run(cli, trading_repo, n)
    top = Path(git(trading_repo, "rev-parse", "--git-common-dir").strip())
    cache = (top if top.is_absolute() else trading_repo / top) / "evidencebot" / "tracker-cache.bin"
    cold = json.loads(cli("--repo", trading_repo, "--json", "status").out)
    assert cache.is_file() and cold["milestones"][0]["streak"]["count"] == 2
    assert json.loads(cli("--repo", trading_repo, "--json", "status").out) == cold
    cache.write_bytes(b"garbage")
    assert json.loads(cli("--repo", trading_repo, "--json", "status").out) == cold
    record_run(cli, trading_repo, 8)  # a new tracker: the old entry is not used
    after = json.loads(cli("--repo", trading_repo, "--json", "status").out)
    assert after["milestones"][0]["streak"]["count"] == 3


def test_the_history_shortcut_gives_what_git_gives(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from conftest import record_run, shortcut_read, shortcut_write

    for n in (5, 6, 7):
        record_run(cli, trading_repo, n, filled=0 if n == 6 else 2)
    top = Path(git(trading_repo, "rev-parse", "--git-common-dir").strip())
    cache = (top if top.is_absolute() else trading_repo / top) / "evidencebot" / "history-cache.bin"
    cold = cli("--repo", trading_repo, "--json", "history").out
    assert cache.is_file()
    assert cli("--repo", trading_repo, "--json", "history").out == cold  # warm
    key, (tip, rows) = shortcut_read(cache)
    good = cache.read_bytes()
    flipped = good[:-40] + bytes([good[-40] ^ 0xFF]) + good[-39:]  # one byte damaged
    older = [(*r[:5], tuple(r[5].items()), *r[6:]) for r in rows]  # the format before
    for damage in ("garbage", "flipped", "older", "short rows"):
        if damage in ("garbage", "flipped"):
            cache.write_bytes(b"garbage" if damage == "garbage" else flipped)
        else:
            shortcut_write(cache, key, (tip, older if damage == "older" else
                                        [r[:4] for r in rows]))
        assert cli("--repo", trading_repo, "--json", "history").out == cold, damage


def test_history_since_reads_the_parent_from_the_open_reader(trading_repo: Path) -> None:
    """A shortcut kept one commit ago is known to be an ancestor from the commit itself;
    a grandparent, a stranger or no open reader take git's own answer, and all agree."""
    from evidencebot import git as gitmod

    add_ops_commits(trading_repo, branch="ops/evidence",
                    parent=git(trading_repo, "rev-parse", "main").strip(), count=3)
    tip, parent, grand = (git(trading_repo, "rev-parse", f"ops/evidence~{k}").strip()
                          for k in range(3))
    stranger = git(trading_repo, "commit-tree", f"{tip}^{{tree}}", "-m", "not an ancestor").strip()
    bot = "evidencebot <evidencebot@localhost>"
    without = {o: history.since(trading_repo, o, tip, bot_author=bot)
               for o in (parent, grand, stranger)}
    with gitmod.reading(trading_repo):
        assert history._is_parent(trading_repo, parent, tip)
        assert not history._is_parent(trading_repo, grand, tip)
        assert not history._is_parent(trading_repo, tip, parent)
        assert not history._is_parent(trading_repo, parent, f"{tip}^{{tree}}")
        within = {o: history.since(trading_repo, o, tip, bot_author=bot)
                  for o in (parent, grand, stranger)}
    assert not history._is_parent(trading_repo, parent, tip)  # no reader open: ask git
    assert within == without
    assert [c.sha for c in within[parent] or []] == [tip]
    assert [c.sha for c in within[grand] or []] == [tip, parent]
    assert within[stranger] is None


def test_history_to_a_pipe_has_no_trailing_spaces(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """rich pads a left-justified title and caption to the table's width: in a log or a
    pipe those are only trailing spaces."""
    from conftest import record_run

    record_run(cli, trading_repo, 8)
    r = cli("--repo", trading_repo, "history")
    lines = r.out.splitlines()
    assert r.code == 0 and lines[0].startswith("ops/evidence history — MO-2: 1/3")
    assert len(lines) > 5 and [ln for ln in lines if ln != ln.rstrip()] == []


def test_csv_and_json_at_once_is_a_usage_error(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`--json history --csv` printed JSON and dropped --csv without a word."""
    for args in (("--json", "history", "--csv"), ("history", "--csv", "--json")):
        r = cli("--repo", trading_repo, *args)
        assert r.code == 2 and "--csv and --json" in r.err


@pytest.mark.parametrize(("started", "finished", "times"), [
    ("2026-11-25T09:00:00Z", "2026-11-25T09:30:00Z",
     ("2026-11-25T09:00:00Z", "2026-11-25T09:30:00Z")),
    ("2026-11-25T10:00:00+01:00", "2026-11-25T10:30:00.5+01:00",
     ("2026-11-25T09:00:00Z", "2026-11-25T09:30:00Z")),
    ("2026-11-25T09:00:00", "2026-11-25T09:30:00Z", None),  # no zone: no instant
    ("yesterday", "2026-11-25T09:30:00Z", None),
    (20261125, "2026-11-25T09:30:00Z", None),
])
def test_a_record_s_times_read_as_the_time_trailers_write_them(
        started: object, finished: object, times: tuple[str, str] | None) -> None:
    """Runs recorded before the time trailers take their times from their records: as
    UTC in the trailers' form, or not at all (verify then dates them by their commits),
    never a string a later comparison or parse fails on."""
    from evidencebot.evidence.history import _record_times

    data = json.dumps({"started_at": started, "finished_at": finished}).encode()
    assert _record_times(data) == times


NO_CONFIG_NOTE = ("evidencebot: note: no evidencebot config here or on main: the runbook's "
                  "defaults are in use (`evidencebot init` writes one)")


@pytest.mark.parametrize(("layout", "noted"), [
    pytest.param("nowhere", True, id="no-config-anywhere"),
    pytest.param("working-tree", False, id="only-in-the-working-tree"),
    pytest.param("base", False, id="only-committed-on-the-base"),
])
def test_status_and_history_say_when_no_config_is_anywhere(tmp_path: Path, cli, layout: str,  # type: ignore[no-untyped-def]
                                                           noted: bool) -> None:
    """A newcomer's repository without any config showed "MO-2: 0/3" and exit 0, as if
    the runbook's defaults (window, thresholds) were the repository's own."""
    repo = tmp_path / "bot"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "main.py").write_text("print('hi')\n")
    if layout == "base":
        (repo / "pyproject.toml").write_text('[tool.evidencebot.ops]\nbase = "main"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    if layout == "base":
        (repo / "pyproject.toml").unlink()  # (still committed on main)
    if layout == "working-tree":
        (repo / "evidencebot.toml").write_text('[ops]\nbase = "main"\n')
    for command in ("status", "history"):
        r = cli("--repo", repo, command)
        assert r.code == 0, r.err
        assert (NO_CONFIG_NOTE in r.err.splitlines()) is noted, (command, r.err)
        assert "MO-2: 0/3" in r.out and "note:" not in r.out
        as_json = cli("--repo", repo, "--json", command)
        assert as_json.code == 0 and "note:" not in as_json.err + as_json.out
        assert json.loads(as_json.out)["schema"] == f"evidencebot.{command}/1"
    # (newcomer 17: `run`, typed before `init`, said nothing of it)
    r = cli("--repo", repo, "run", "--dry-run", "--skip-checks")
    assert (NO_CONFIG_NOTE in r.err.splitlines()) is noted, r.err


def test_a_clone_with_nothing_checked_out_reads_the_base_at_origin(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 14: a bare remote whose HEAD names a branch it lacks (`git init --bare`
    without init.defaultBranch) gives a clone with an unborn HEAD; origin/main's committed
    config was ignored (the note above, then a Fix to set what it already set)."""
    from datetime import UTC, datetime

    from evidencebot.sim.trading_repo import report, write_repo, write_report

    repo = write_repo(tmp_path / "bot")
    (repo / "docs").mkdir()
    git(repo, "mv", "IMPLEMENTATION_BACKLOG.md", "docs/")
    with (repo / "evidencebot.toml").open("a", encoding="utf-8") as f:
        f.write('\n[docs]\nbacklog = "docs/IMPLEMENTATION_BACKLOG.md"\n')
    git(repo, "commit", "-qam", "the tracker in docs/")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "master", str(remote))
    git(repo, "push", "-q", str(remote), "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    assert not (clone / "evidencebot.toml").exists()  # (nothing checked out)
    said = cli("--repo", clone, "status")
    assert said.code == 0 and NO_CONFIG_NOTE not in said.err.splitlines(), said.err
    doc = report(finished=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    r = cli("--repo", clone, "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 0, r.err
    rows = git(clone, "show", "ops/evidence:docs/IMPLEMENTATION_BACKLOG.md")
    assert doc["run_id"] in rows


def test_csv_cells_a_spreadsheet_would_run_are_made_inert() -> None:
    """Found by a newcomer: a void's reason `=HYPERLINK(...)` came out of `history --csv`
    as a live formula. A cell starting with = + - @ gets a ' before it; numbers stay."""
    import csv

    from evidencebot.cli.output import HISTORY_COLUMNS, history_csv

    row = {c: "" for c in HISTORY_COLUMNS}
    row.update(problems=[], reasons=['=HYPERLINK("http://x","click")', "@SUM(A1)"],
               started_at=None, voided=True, outcome="+1", run_id="20261126T095958Z",
               filled=2)
    read = next(csv.DictReader(history_csv([row]).splitlines()))
    assert read["reasons"] == '\'=HYPERLINK("http://x","click"); @SUM(A1)'
    assert (read["outcome"], read["run_id"], read["filled"]) == ("'+1", "20261126T095958Z", "2")


def test_a_record_nested_past_the_parser_is_no_traceback(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    """Adversary 44b: a committed record nested 100,000 levels deep ended status and
    report with a RecursionError (json reads it as deep as the stack goes)."""
    from datetime import UTC, datetime

    from evidencebot.sim.trading_repo import report, write_report

    for n in (1, 2):
        doc = report(finished=datetime(2026, 11, 25, 9 + n, 0, tzinfo=UTC))
        assert cli("--repo", trading_repo, "record",
                   write_report(tmp_path / f"r{n}.json", doc)).code == 0
    git(trading_repo, "switch", "-q", "ops/evidence")
    path = git(trading_repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)"
               ).strip()
    (trading_repo / path).write_bytes(b"[" * 100_000 + b"]" * 100_000)
    git(trading_repo, "commit", "-q", "-a", "--amend", "--no-verify", "-C", "HEAD")
    git(trading_repo, "switch", "-q", "main")
    for args in (["status"], ["--json", "status"], ["report"], ["history"]):
        r = cli("--repo", trading_repo, *args)
        assert r.code == 0 and "Traceback" not in r.err and "Recursion" not in r.err, (args, r.err)
