"""`record` against real git: the commit, its trailers, the documents, the operator's tree."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git

from evidencebot.sim.trading_repo import report, write_report

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
OPS = "ops/evidence"


@pytest.fixture(autouse=True)
def _clock(pinned_now: str) -> None:
    pass


def rep(tmp_path: Path, name: str = "r.json", *, hours_ago: float = 2, bom: bool = False,
        **kw: object) -> Path:
    doc = report(finished=NOW - timedelta(hours=hours_ago), **kw)  # type: ignore[arg-type]
    return write_report(tmp_path / name, doc, bom=bom)


def trailers(repo: Path, rev: str = OPS) -> dict[str, str]:
    msg = git(repo, "log", "-1", "--format=%B", rev)
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=msg,
                            capture_output=True, text=True, check=True).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines())


def body(repo: Path, rev: str = OPS) -> list[str]:
    """The lines of the commit message between its subject and its trailer block."""
    return git(repo, "log", "-1", "--format=%B", rev).split("\n\n")[1].splitlines()


def snapshot(repo: Path) -> tuple[str, str, str, str]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "symbolic-ref", "HEAD"),
            git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
            git(repo, "diff", "--cached", "--binary") + git(repo, "diff", "--binary"))


def test_record_commits_record_row_and_entry_with_trailers(trading_repo: Path, tmp_path: Path,
                                                           cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", trading_repo, "record", rep(tmp_path))
    assert r.code == 0, r.err
    assert "qualifying" in r.out and "streak 1/3" in r.out
    assert r.out.splitlines()[-1] == "  not pushed: there is no remote 'origin' yet (git " \
        "remote add origin <url of the trading repository>, or set [ops] remote to the " \
        "remote you push to)"  # (record leaves pushing)
    t = trailers(trading_repo)
    path = t["Evidence-Record"]
    blob = subprocess.run(["git", "-C", str(trading_repo), "show", f"{OPS}:{path}"],
                          capture_output=True, check=True).stdout
    record = json.loads(blob)
    assert t["Evidence-Record-Sha256"] == hashlib.sha256(blob).hexdigest()
    assert t["Evidence-Kind"] == "step1a-burnin" and t["Session-Type"] == "OPS"
    assert t["Evidence-Run-Id"] == record["run_id"] == path.rsplit("/", 1)[1][:-5]
    assert t["Evidence-Outcome"] == record["outcome"] == "qualifying"
    assert t["Burnin-Paper-Duration-Seconds"] == str(record["metrics"]["paper_duration_seconds"])
    assert t["Burnin-Filled-Orders"] == "2"
    assert t["Burnin-Symbol-Data-Availability-Ratio"] == "0.857"
    assert t["Burnin-Min-Bars-Per-Symbol"] == "240"
    assert t["Burnin-Streak"] == "1/3"
    assert t["Code-Commit"] == git(trading_repo, "rev-parse", "main").strip()
    # Recorded by hand: the code is main as of the run's start, its dirtiness unknown.
    assert t["Code-Dirty"] == "unknown" and t["Ibkr-Client-Id"] == "18"
    config = git(trading_repo, "show", "main:evidencebot.toml").encode()
    assert t["Config-Sha256"] == hashlib.sha256(config).hexdigest() and t["Evidencebot-Version"]
    changed = git(trading_repo, "diff", "--name-only", "main", OPS).split()
    assert sorted(changed) == sorted(["IMPLEMENTATION_BACKLOG.md", "SESSION_LOG.md", path])
    assert git(trading_repo, "log", "-1", "--format=%an <%ae>", OPS).strip() == \
        "evidencebot <evidencebot@localhost>"
    assert body(trading_repo) == [  # (no line for thresholds when none failed)
        f"Run {record['run_id']} recorded by evidencebot: qualifying (2 filled, data ratio "
        "0.857, min bars 240).", "Streak 1/3 toward MO-2."]


def test_documents_change_only_where_they_should(trading_repo: Path, tmp_path: Path,
                                                 cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("--repo", trading_repo, "record", rep(tmp_path)).code == 0
    diff = git(trading_repo, "diff", "-U0", "main", OPS, "--", "IMPLEMENTATION_BACKLOG.md")
    changes = [ln for ln in diff.splitlines()
               if ln[:1] in "+-" and not ln.startswith(("---", "+++"))]
    assert len(changes) == 1 and changes[0].startswith("+| 2 | 2026-11-25 |")
    assert changes[0].endswith("| qualifying | reports/evidence/step1a/20261125T142958Z.json |")
    # a run that ends the streak rewrites the streak line, and nothing else but its row
    assert cli("--repo", trading_repo, "record", rep(tmp_path, "b.json", hours_ago=1,
                                                     filled=0)).code == 0
    diff = git(trading_repo, "diff", "-U0", f"{OPS}~1", OPS, "--", "IMPLEMENTATION_BACKLOG.md")
    changes = [ln for ln in diff.splitlines()
               if ln[:1] in "+-" and not ln.startswith(("---", "+++"))]
    assert changes[0].startswith("+| 3 |")
    assert changes[1:] == ["-Consecutive qualifying runs: 1 of 3",
                           "+Consecutive qualifying runs: 0 of 3"]
    log_old = git(trading_repo, "show", "main:SESSION_LOG.md")
    log_new = git(trading_repo, "show", f"{OPS}:SESSION_LOG.md")
    assert log_new.startswith(log_old)
    assert "— OPS — Step 1A burn-in" in log_new[len(log_old):]


@pytest.mark.parametrize(("newline", "bom"), [(b"\r\n", False), (b"\n", True), (b"\r\n", True)])
def test_crlf_and_bom_documents_stay_byte_exact(tmp_path: Path, cli, newline: bytes,
                                               bom: bool) -> None:  # type: ignore[no-untyped-def]
    from evidencebot.sim.trading_repo import BACKLOG, SESSION_LOG, write_repo

    def enc(text: str) -> bytes:
        return (b"\xef\xbb\xbf" if bom else b"") + text.encode().replace(b"\n", newline)

    repo = write_repo(tmp_path / "bot", extra={"IMPLEMENTATION_BACKLOG.md": enc(BACKLOG),
                                               "SESSION_LOG.md": enc(SESSION_LOG),
                                               ".gitattributes": "* -text\n"})
    assert cli("--repo", repo, "record", rep(tmp_path)).code == 0
    for name, original in (("IMPLEMENTATION_BACKLOG.md", enc(BACKLOG)),
                           ("SESSION_LOG.md", enc(SESSION_LOG))):
        new = subprocess.run(["git", "-C", str(repo), "show", f"{OPS}:{name}"],
                             capture_output=True, check=True).stdout
        assert new.startswith(b"\xef\xbb\xbf") == bom
        body = new[3:] if bom else new
        lines = body.splitlines(keepends=True)
        assert all(ln.endswith(newline) for ln in lines), name
        old_lines = (original[3:] if bom else original).splitlines(keepends=True)
        kept = [ln for ln in old_lines if ln in lines]
        assert len(kept) >= len(old_lines) - 1  # at most the streak line was rewritten


def test_documents_moved_by_docs_settings_are_evidence_there(trading_repo: Path, tmp_path: Path,
                                                             cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: with the documents moved to docs/ by `[docs]`, every record was
    refused as touching no evidence path. The documents `[docs]` names are evidence paths,
    judged by the document rules as ever: a hand edit outside their sections is refused."""
    names = ("IMPLEMENTATION_BACKLOG.md", "SESSION_LOG.md", "PROJECT_DESIGN.md")
    (trading_repo / "docs").mkdir()
    git(trading_repo, "mv", *names, "docs/")
    config = trading_repo / "evidencebot.toml"
    config.write_text(config.read_text() + "\n[docs]\n" + "".join(
        f'{key} = "docs/{name}"\n' for key, name in zip(("backlog", "session_log", "design"),
                                                       names, strict=True)))
    git(trading_repo, "commit", "-qam", "documents under docs/")
    r = cli("--repo", trading_repo, "record", rep(tmp_path))
    assert r.code == 0, r.err
    changed = git(trading_repo, "diff", "--name-only", f"main..{OPS}", "--", "docs").split()
    assert changed == ["docs/IMPLEMENTATION_BACKLOG.md", "docs/SESSION_LOG.md"]
    assert cli("--repo", trading_repo, "verify", "--range", f"main..{OPS}").code == 0
    git(trading_repo, "switch", "-q", OPS)
    design = trading_repo / "docs" / "PROJECT_DESIGN.md"
    design.write_text("# Edited by hand\n" + design.read_text())
    # (and the old name is no evidence path: found by an adversary, a design at the top
    # saying MO-2 closed passed there)
    (trading_repo / "PROJECT_DESIGN.md").write_text("| MO-2 | CLOSED |\n")
    git(trading_repo, "add", "-A")
    git(trading_repo, "commit", "-qm", "x", "--no-verify")
    v = cli("--repo", trading_repo, "--json", "verify", "--range", f"main..{OPS}")
    found = {(x["rule"], x["path"]) for x in json.loads(v.out)["violations"]}
    assert v.code == 1 and found >= {("section-heading-changed", "docs/PROJECT_DESIGN.md"),
                                     ("path-not-allowed", "PROJECT_DESIGN.md")}, v.out


def test_operator_tree_index_and_branch_are_untouched(trading_repo: Path, tmp_path: Path,
                                                      cli) -> None:  # type: ignore[no-untyped-def]
    git(trading_repo, "switch", "-q", "-c", "feature/x")
    (trading_repo / "README.md").write_text("edited, not staged\n")
    (trading_repo / "notes.txt").write_text("untracked\n")
    (trading_repo / "SESSION_LOG.md").write_text("staged rewrite\n")
    git(trading_repo, "add", "SESSION_LOG.md")
    before = snapshot(trading_repo)
    mtime = (trading_repo / "IMPLEMENTATION_BACKLOG.md").stat().st_mtime_ns
    assert cli("--repo", trading_repo, "record", rep(tmp_path)).code == 0
    assert snapshot(trading_repo) == before
    assert (trading_repo / "IMPLEMENTATION_BACKLOG.md").stat().st_mtime_ns == mtime
    assert git(trading_repo, "rev-parse", OPS) != git(trading_repo, "rev-parse", "main")


def record_once(cli, repo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("--repo", repo, "record", rep(tmp_path, "other.json", hours_ago=1)).code == 0


def test_same_run_twice_adds_nothing_and_different_content_is_refused(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    report_path = rep(tmp_path)
    assert cli("--repo", trading_repo, "record", report_path).code == 0
    tip = git(trading_repo, "rev-parse", OPS)
    again = cli("--repo", trading_repo, "record", report_path)
    assert again.code == 0 and "already recorded" in again.out
    assert git(trading_repo, "rev-parse", OPS) == tip
    # (--json names the commit that holds it, as `void` does: newcomer 16 read null)
    record_once(cli, trading_repo, tmp_path)  # (another run on top)
    said = json.loads(cli("--repo", trading_repo, "--json", "record", report_path).out)
    assert (said["status"], said["commit"], said["run"]["commit"]) == (
        "unchanged", tip.strip(), tip.strip())
    tip = git(trading_repo, "rev-parse", OPS)
    doc = json.loads(report_path.read_text())
    doc["orders"]["filled"] = 5
    write_report(report_path, doc)
    changed = cli("--repo", trading_repo, "record", report_path)
    assert changed.code == 2
    assert "different content" in changed.err and len(changed.err.splitlines()) == 1
    assert git(trading_repo, "rev-parse", OPS) == tip


@pytest.mark.parametrize("made", [b"[1]\n", b"[" * 5000 + b"]" * 5000])
def test_a_record_file_made_by_hand_is_refused_in_one_line(
        trading_repo: Path, tmp_path: Path, cli, made: bytes) -> None:  # type: ignore[no-untyped-def]
    """A file at the record's path that is no record object (committed by hand, without
    the hook): exit 2 in one line, no traceback, nothing written."""
    report_path = rep(tmp_path)
    assert cli("--repo", trading_repo, "record", report_path).code == 0
    path = git(trading_repo, "log", "-1", "--format=%(trailers:key=Evidence-Record,valueonly)",
               OPS).strip()
    git(trading_repo, "switch", "-q", OPS)
    (trading_repo / path).write_bytes(made)
    git(trading_repo, "commit", "-qam", "by hand", "--no-verify")
    tip = git(trading_repo, "rev-parse", OPS)
    again = cli("--repo", trading_repo, "record", report_path)
    assert again.code == 2 and "different content" in again.err
    assert len(again.err.splitlines()) == 1 and git(trading_repo, "rev-parse", OPS) == tip


def test_lying_passed_flag_is_overridden(trading_repo: Path, tmp_path: Path,
                                         cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", trading_repo, "--json", "record", rep(tmp_path, filled=0, passed=True))
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "non-qualifying" and doc["run"]["qualifying"] is False
    assert "passed=true" in doc["disagreement"]
    assert trailers(trading_repo)["Evidence-Outcome"] == "non-qualifying"
    said = body(trading_repo)  # (a line for the failed thresholds and one for the report)
    assert said[1:] == ["Failed thresholds: 0 filled orders < 1.",
                        f"Note: {doc['disagreement']}.", "Streak 0/3 toward MO-2."], said


def test_dirty_code_never_qualifies(trading_repo: Path, tmp_path: Path,
                                    cli) -> None:  # type: ignore[no-untyped-def]
    # The report says which code it ran ([report.fields] code_commit / code_dirty).
    (trading_repo / "evidencebot.toml").write_text(
        '[ops]\nallow_pinned_clock = true\n[report.fields]\ncode_commit = "/code/commit"\n'
        'code_dirty = "/code/dirty"\n')
    git(trading_repo, "commit", "-qam", "map the report's code state")
    doc = report(finished=NOW - timedelta(hours=2))
    doc["code"] = {"commit": git(trading_repo, "rev-parse", "main").strip(), "dirty": True}
    r = cli("--repo", trading_repo, "--json", "record", write_report(tmp_path / "d.json", doc))
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "non-qualifying" and "code under test was dirty" in doc["run"]["reasons"]
    t = trailers(trading_repo)
    assert t["Code-Dirty"] == "true" and t["Burnin-Streak"] == "0/3"


def test_record_never_judges_a_past_report_by_todays_working_tree(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (trading_repo / "src" / "broker" / "patch.py").write_text("x = 1\n")  # untracked code
    r = cli("--repo", trading_repo, "--json", "record", rep(tmp_path))
    assert json.loads(r.out)["run"]["outcome"] == "qualifying"
    t = trailers(trading_repo)
    assert t["Code-Dirty"] == "unknown"
    assert t["Code-Commit"] == git(trading_repo, "rev-parse", "main").strip()


def test_account_numbers_never_reach_a_commit(trading_repo: Path, tmp_path: Path,
                                              cli) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "run.log"
    log.write_text("connected to DU7654321 and U1234567\n")
    doc = report(finished=NOW - timedelta(hours=1), account="DU7654321")
    doc["note"] = "live account U1234567 was not used"
    path = write_report(tmp_path / "r.json", doc)
    assert cli("--repo", trading_repo, "record", path, "--log", log).code == 0
    dump = git(trading_repo, "log", "-p", "--format=%B", f"main..{OPS}")
    assert "7654321" not in dump and "1234567" not in dump
    assert "DU***" in dump and "U***" in dump


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_a_windows_log_is_read_as_its_text_and_redacted(trading_repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        cli, encoding: str) -> None:
    """Found by a newcomer: a log Windows PowerShell 5.1 redirected (UTF-16, its mark or
    none) was read as UTF-8: the account number in it went into git unredacted, the mark
    as two U+FFFD, a blank line after every line."""
    log = tmp_path / "run.log"
    log.write_bytes("Step 1A burn-in\r\nconnected to account DU1234567\r\ndone\r\n".encode(encoding))
    path = write_report(tmp_path / "r.json", report(finished=NOW - timedelta(hours=1)))
    assert cli("--repo", trading_repo, "record", path, "--log", log).code == 0
    kept = git(trading_repo, "diff", "--name-only", f"main..{OPS}", "--", "*.log").split()
    text = git(trading_repo, "show", f"{OPS}:{kept[0]}")
    assert text.splitlines() == ["Step 1A burn-in", "connected to account DU***", "done"]


def test_bad_report_exits_2_with_one_line_and_writes_nothing(trading_repo: Path, tmp_path: Path,
                                                             cli) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"run_id": "R1"}')
    future = rep(tmp_path, "future.json", hours_ago=-1)
    for path in (bad, future, tmp_path / "missing.json"):
        r = cli("--repo", trading_repo, "record", path)
        assert r.code == 2
        assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_bad_config_exits_2_naming_the_key(trading_repo: Path, tmp_path: Path,
                                           cli) -> None:  # type: ignore[no-untyped-def]
    (trading_repo / "evidencebot.toml").write_text("[qualify]\nmin_fills = 2\n")
    r = cli("--repo", trading_repo, "record", rep(tmp_path))
    assert r.code == 2
    assert r.err.strip() == "evidencebot: error: evidencebot.toml: unknown key [qualify] " \
        "min_fills (did you mean min_filled_orders?)"
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_bom_report_from_powershell_is_recorded(trading_repo: Path, tmp_path: Path,
                                                cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("--repo", trading_repo, "record", rep(tmp_path, bom=True)).code == 0


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_report_from_windows_powershell_out_file_is_recorded(  # type: ignore[no-untyped-def]
        trading_repo: Path, tmp_path: Path, cli, codec: str) -> None:
    """Found by an adversary: Windows PowerShell 5.1's `Out-File` writes UTF-16 with a
    byte-order mark by default, and the README said reports were read whatever the
    mark; they were refused. Read, as the same report as the UTF-8 one; without its mark
    UTF-16 is still refused, in one line."""
    plain = rep(tmp_path, "plain.json")
    utf16 = tmp_path / "utf16.json"
    mark = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    utf16.write_bytes(mark + plain.read_text(encoding="utf-8").encode(codec))
    r = cli("--repo", trading_repo, "--json", "record", utf16)
    assert r.code == 0, r.err
    t = trailers(trading_repo)
    record = json.loads(git(trading_repo, "show", f"{OPS}:{t['Evidence-Record']}"))
    given = json.loads(plain.read_text(encoding="utf-8"))
    given["ibkr"]["account"] = "DU***"  # (redacted in the record)
    assert record["report"] == given
    tip = git(trading_repo, "rev-parse", OPS)
    bare = tmp_path / "bare.json"
    bare.write_bytes(utf16.read_bytes()[2:])
    refused = cli("--repo", trading_repo, "record", bare)
    assert refused.code == 2 and refused.err.endswith(
        "bare.json: UTF-16 without its byte-order mark\nFix: write the report in UTF-8, or "
        "in UTF-16 with its mark\n"), refused.err
    wide = tmp_path / "utf32.json"
    wide.write_bytes(plain.read_text(encoding="utf-8").encode("utf-32"))  # (with its mark)
    refused = cli("--repo", trading_repo, "record", wide)
    assert refused.code == 2 and "utf32.json: UTF-32 text\n" in refused.err, refused.err
    assert git(trading_repo, "rev-parse", OPS) == tip


def test_hand_written_row_gets_no_second_row(trading_repo: Path, tmp_path: Path,
                                             cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("--repo", trading_repo, "record", rep(tmp_path, "a.json", hours_ago=5)).code == 0
    line = "\nConsecutive qualifying runs: {} of 3\n"
    assert line.format(1) in git(trading_repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    r = cli("--repo", trading_repo, "record", rep(tmp_path, run_id="20261116T081500Z"))
    assert r.code == 0 and "hand-written tracker row" in r.out
    tracker = git(trading_repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    assert tracker.count("20261116T081500Z") == 1
    # no second row, but the streak line reads the streak after the run all the same
    assert "Burnin-Streak: 2/3" in git(trading_repo, "log", "-1", "--format=%B", OPS)
    assert line.format(2) in tracker
    assert cli("--repo", trading_repo, "verify").code == 0


def test_ops_checkout_is_updated_when_clean_and_refused_when_dirty(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("--repo", trading_repo, "record", rep(tmp_path, "a.json", hours_ago=5)).code == 0
    wt = tmp_path / "ops-wt"
    git(trading_repo, "worktree", "add", "-q", str(wt), OPS)
    assert cli("--repo", trading_repo, "record", rep(tmp_path, "b.json", hours_ago=4)).code == 0
    assert git(wt, "status", "--porcelain") == ""
    assert git(wt, "rev-parse", "HEAD") == git(trading_repo, "rev-parse", OPS)
    assert "20261125T" in (wt / "SESSION_LOG.md").read_text() or len(
        list((wt / "reports/evidence/step1a").glob("*.json"))) == 2
    (wt / "SESSION_LOG.md").write_text("operator is editing\n")
    tip = git(trading_repo, "rev-parse", OPS)
    r = cli("--repo", trading_repo, "record", rep(tmp_path, "c.json", hours_ago=3))
    assert r.code == 2 and "uncommitted changes" in r.err
    assert git(trading_repo, "rev-parse", OPS) == tip
    assert (wt / "SESSION_LOG.md").read_text() == "operator is editing\n"


def test_works_without_a_git_identity(trading_repo: Path, tmp_path: Path, cli,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    assert cli("--repo", trading_repo, "record", rep(tmp_path)).code == 0
    assert git(trading_repo, "log", "-1", "--format=%cn", OPS).strip() == "evidencebot"


def test_the_ledger_judges_every_commit_and_a_refusal_moves_nothing(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # The base branch's rules allow no record files: the ledger's own judge refuses.
    (trading_repo / "evidencebot.toml").write_text(
        '[ops]\nallow_pinned_clock = true\n'
        '[scope]\nallowed_paths = ["SESSION_LOG.md", "IMPLEMENTATION_BACKLOG.md"]\n')
    git(trading_repo, "add", "evidencebot.toml")
    git(trading_repo, "commit", "-q", "-m", "narrow the ops scope")
    r = cli("--repo", trading_repo, "record", rep(tmp_path))
    assert r.code == 1 and "path-not-allowed" in r.err
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_second_runner_fails_clearly_while_the_lock_is_held(
        trading_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from evidencebot.errors import UsageError
    from evidencebot.ledger import lock

    with lock.hold(trading_repo):
        # Another process: simulated by a lock file held through a second FileLock.
        from filelock import FileLock, Timeout

        other = FileLock(str(trading_repo / ".git" / lock.LOCK_NAME), timeout=0.05)
        with pytest.raises(Timeout):
            other.acquire()
    with FileLock(str(trading_repo / ".git" / lock.LOCK_NAME)):
        with pytest.raises(UsageError, match="another evidencebot"):
            with lock.hold(trading_repo, wait=0.05):
                pass
    # a wait is said at once: silence would read as a hang
    assert capsys.readouterr().err == "waiting for another evidencebot (holder unknown) to " \
        "finish, up to 0.05 s ...\n"
    assert not (trading_repo / lock.LOCK_NAME).exists()  # the lock is never in the tree


def test_thresholds_come_from_the_base_branch_not_the_working_tree(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (trading_repo / "evidencebot.toml").write_text("[qualify]\nmin_filled_orders = 0\n")
    r = cli("--repo", trading_repo, "--json", "record", rep(tmp_path, filled=0))
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == "non-qualifying"  # main has no config: the runbook's 1 fill
    assert any("differs from the one committed on main" in n for n in doc["notes"])


def test_untracked_files_in_the_ops_checkout_do_not_block_a_record(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("--repo", trading_repo, "record", rep(tmp_path, "a.json", hours_ago=5)).code == 0
    git(trading_repo, "switch", "-q", OPS)  # the operator works on the ops branch itself
    (trading_repo / "latest-report.json").write_text("{}")  # untracked, as a wrapper leaves it
    assert cli("--repo", trading_repo, "record", rep(tmp_path, "b.json", hours_ago=4)).code == 0
    assert git(trading_repo, "status", "--porcelain") == "?? latest-report.json\n"
    assert git(trading_repo, "rev-parse", "HEAD") == git(trading_repo, "rev-parse", OPS)


def test_a_run_id_differing_only_in_case_is_refused(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Two records named alike but for case are one file on Windows and macOS."""
    from datetime import datetime, timedelta

    from conftest import PINNED, git

    from evidencebot.sim.trading_repo import report, write_report

    now = datetime.fromisoformat(PINNED)
    first = write_report(trading_repo.parent / "a.json",
                         report(finished=now - timedelta(hours=5), run_id="burnin-Alpha"))
    assert cli("--repo", trading_repo, "record", first).code == 0
    twin = write_report(trading_repo.parent / "b.json",
                        report(finished=now - timedelta(hours=2), run_id="burnin-ALPHA"))
    before = git(trading_repo, "rev-parse", "ops/evidence")
    r = cli("--repo", trading_repo, "record", twin)
    assert r.code == 2 and "differs only in case from the recorded burnin-Alpha" in r.err, r.err
    assert git(trading_repo, "rev-parse", "ops/evidence") == before


def test_a_streak_line_right_under_the_tracker_table_records_run_after_run(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """With no blank line between the tracker table and its streak line, a table parse
    counts the streak line as a row. The rule that keeps the table whole (no row changed
    or lost) must still let record rewrite that line: it is the one line that changes."""
    backlog = trading_repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text(encoding="utf-8")
    assert "|\n\nConsecutive qualifying runs" in text
    backlog.write_text(text.replace("|\n\nConsecutive qualifying runs",
                                    "|\nConsecutive qualifying runs"), encoding="utf-8")
    git(trading_repo, "commit", "-qam", "tighter tracker")
    for n in range(3):
        doc = report(finished=NOW - timedelta(hours=5 - n), filled=2)
        r = cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc))
        assert r.code == 0, r.err
    assert cli("--repo", trading_repo, "verify", "--range", "main..ops/evidence").code == 0


@pytest.mark.parametrize("hide", ["config", "gitmodules"])
def test_a_changed_submodule_under_the_code_paths_is_dirty_code(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path, hide: str) -> None:
    """A submodule under src/ with a change inside it is dirty code, even where the
    repository's config or .gitmodules tells git status to ignore submodules."""
    from evidencebot.ledger.checkout import code_state

    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    (lib / "strategy.py").write_text("EDGE = 1\n")
    git(lib, "add", "-A")
    git(lib, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "lib")
    git(trading_repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib),
        "src/lib")
    git(trading_repo, "commit", "-qm", "a submodule")
    assert not code_state(trading_repo, ["src/"]).dirty
    if hide == "config":
        git(trading_repo, "config", "submodule.src/lib.ignore", "all")
    else:
        git(trading_repo, "config", "-f", ".gitmodules", "submodule.src/lib.ignore", "dirty")
        git(trading_repo, "commit", "-qam", "ignore the submodule's changes")
    (trading_repo / "src" / "lib" / "strategy.py").write_text("EDGE = 99\n")
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and "src/lib" in state.dirty_paths


def test_a_staged_rename_names_both_paths_whole(trading_repo: Path) -> None:
    """`status --porcelain -z` writes a rename's source as an entry of its own: both
    paths are dirty, each as it is named."""
    from evidencebot.ledger.checkout import code_state

    git(trading_repo, "mv", "src/broker/session.py", "src/broker/renamed.py")
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and set(state.dirty_paths) == {"src/broker/renamed.py",
                                                      "src/broker/session.py"}


def test_ignored_code_under_the_code_paths_is_dirty_code(trading_repo: Path) -> None:
    """A package hidden by a line in .git/info/exclude shadows a reviewed module: dirty.
    What Python writes itself (__pycache__) and ignored files that are no code are not."""
    from evidencebot.ledger.checkout import code_state

    (trading_repo / ".gitignore").write_text("__pycache__/\n*.log\n")
    git(trading_repo, "add", ".gitignore")
    git(trading_repo, "commit", "-qm", "ignore caches and logs")
    cache = trading_repo / "src" / "broker" / "__pycache__"
    cache.mkdir(parents=True)
    (cache / "session.cpython-311.pyc").write_bytes(b"\x00")
    (trading_repo / "src" / "broker" / "run.log").write_text("noise\n")
    assert not code_state(trading_repo, ["src/"]).dirty
    shadow = trading_repo / "src" / "broker" / "session" / "__init__.py"
    shadow.parent.mkdir()
    shadow.write_text("RISK_LIMIT = None\n")
    (trading_repo / ".git" / "info").mkdir(exist_ok=True)
    (trading_repo / ".git" / "info" / "exclude").write_text("src/broker/session/\n")
    assert git(trading_repo, "status", "--porcelain") == ""  # (git shows nothing)
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and state.dirty_paths == ("src/broker/session/__init__.py",)


@pytest.mark.parametrize("hide", ["symlink", "nested-repository", "extension", "beside-main",
                                  "package-beside-main", "compiled-beside-main",
                                  "link-beside-main", "repository-beside-main",
                                  "extension-package-beside-main",
                                  "compiled-package-named-like-a-cache"])
def test_code_git_does_not_list_is_dirty_code(trading_repo: Path, tmp_path: Path,
                                              hide: str) -> None:
    """Ignored entries Python imports from without a .py of their own in git's list: a
    link to a package elsewhere, a repository of its own, an extension module; and a
    module beside main.py, which `python main.py` imports ahead of the standard library's
    (the top folder is no code path, main.py is)."""
    import os

    from evidencebot.ledger.checkout import code_state

    (trading_repo / "main.py").write_text("import json\n")
    git(trading_repo, "add", "main.py")
    git(trading_repo, "commit", "-qm", "main")
    (trading_repo / ".git" / "info").mkdir(exist_ok=True)
    (trading_repo / ".git" / "info" / "exclude").write_text("src/broker/session*\n")
    paths = ["src/", "main.py"]
    assert not code_state(trading_repo, paths).dirty
    where = trading_repo / "src" / "broker" / "session"
    if hide == "symlink":
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "__init__.py").write_text("RISK_LIMIT = None\n")
        os.symlink(tmp_path / "elsewhere", where)
        want = "src/broker/session"
    elif hide == "nested-repository":
        where.mkdir()
        git(where, "init", "-q")
        (where / "__init__.py").write_text("RISK_LIMIT = None\n")
        want = "src/broker/session/"
    elif hide == "extension":
        where.with_name("session.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
        want = "src/broker/session.cpython-311-x86_64-linux-gnu.so"
    elif hide == "package-beside-main":  # (found by an adversary; hidden by exclude too)
        (trading_repo / "json").mkdir()
        (trading_repo / "json" / "__init__.py").write_text("dumps = None\n")
        (trading_repo / ".git" / "info" / "exclude").write_text("json/\n")
        want = "json/__init__.py"
    elif hide == "link-beside-main":  # (found by an adversary, as the two below)
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "__init__.py").write_text("dumps = None\n")
        os.symlink(tmp_path / "elsewhere", trading_repo / "json")
        want = "json"
    elif hide == "repository-beside-main":
        (trading_repo / "json").mkdir()
        git(trading_repo / "json", "init", "-q")
        (trading_repo / "json" / "__init__.py").write_text("dumps = None\n")
        want = "json/"
    elif hide == "extension-package-beside-main":
        (trading_repo / "json").mkdir()
        (trading_repo / "json" / "__init__.abi3.so").write_bytes(b"\x7fELF")
        want = "json/__init__.abi3.so"
    elif hide == "compiled-package-named-like-a-cache":  # (only __pycache__ itself is one)
        (trading_repo / "json__pycache__").mkdir()
        (trading_repo / "json__pycache__" / "__init__.pyc").write_bytes(b"\x00")
        (trading_repo / ".git" / "info" / "exclude").write_text("json__pycache__/\n")
        want = "json__pycache__/__init__.pyc"
    elif hide == "compiled-beside-main":  # (a module without its source: imported as json)
        (trading_repo / "json.pyc").write_bytes(b"\x00")
        want = "json.pyc"
    else:
        (trading_repo / "json.py").write_text("dumps = None\n")
        want = "json.py"
    assert git(trading_repo, "status", "--porcelain", "--", "src/", "main.py") == ""
    state = code_state(trading_repo, paths)
    assert state.dirty and want in state.dirty_paths, state.dirty_paths


def test_a_module_at_the_top_is_code_without_a_main_py(trading_repo: Path) -> None:
    """Found by an adversary: a wrapper run as `python -m scripts.burnin` (no main.py at
    the top) imports from the checkout's top all the same: a json.py there shadowed the
    standard library's and the run was recorded clean."""
    from evidencebot.ledger.checkout import code_state

    git(trading_repo, "rm", "-q", "main.py")
    git(trading_repo, "commit", "-qm", "no main.py: a src layout")
    assert not code_state(trading_repo, ["src/", "main.py"]).dirty
    (trading_repo / "json.py").write_text("dumps = None\n")
    state = code_state(trading_repo, ["src/", "main.py"])
    assert state.dirty and state.dirty_paths == ("json.py",), state.dirty_paths


@pytest.mark.parametrize("how", ["edited", "untracked", "ignored"])
@pytest.mark.parametrize("module", ["strategies/edge.py", "edge2/signals.py",
                                    "strategies/deep/er/model.py"])
def test_a_module_inside_a_folder_at_the_top_is_code(trading_repo: Path, module: str,
                                                     how: str) -> None:
    """Found by an adversary: only a top folder's __init__ was looked at, so an edit left
    in strategies/edge.py (a package at the top, which no code path names) or in a
    namespace package's module (edge2/signals.py, no __init__) was recorded clean, and
    three such runs closed MO-2 on code no one reviewed."""
    from evidencebot.ledger.checkout import code_state

    (trading_repo / "strategies").mkdir()
    (trading_repo / "strategies" / "__init__.py").write_text("")
    git(trading_repo, "add", "strategies")
    git(trading_repo, "commit", "-qm", "a package")
    target = trading_repo / module
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("EDGE = 1\n")
    if how == "edited":
        git(trading_repo, "add", "-A")
        git(trading_repo, "commit", "-qm", "a strategy")
        assert not code_state(trading_repo, ["src/", "main.py"]).dirty
        target.write_text("EDGE = 2\n")
    elif how == "ignored":
        (trading_repo / ".git" / "info").mkdir(exist_ok=True)
        (trading_repo / ".git" / "info" / "exclude").write_text(module.split("/")[0] + "/\n")
    state = code_state(trading_repo, ["src/", "main.py"])
    if how == "ignored" and module != "strategies/edge.py":  # (ignored: in a package only)
        assert not state.dirty, state.dirty_paths
        return
    assert state.dirty and module in state.dirty_paths, state.dirty_paths


@pytest.mark.parametrize("left", ["build/lib/signals/__init__.py", "venv/bin/activate_this.py",
                                  "node_modules/flatted/python/flatted.py"])
def test_what_a_build_or_a_tool_leaves_ignored_is_no_dirty_code(trading_repo: Path,
                                                                left: str) -> None:
    """Found by an adversary: a setuptools build's build/lib/ copy, a virtualenv's
    activate_this.py or npm's Python, ignored, made every run dirty (none could qualify).
    What git ignores counts only inside a package (an __init__ in every folder on the
    way); the same left untracked and not ignored still counts."""
    from evidencebot.ledger.checkout import code_state

    target = trading_repo / left
    target.parent.mkdir(parents=True)
    target.write_text("X = 1\n")
    top = left.split("/")[0]
    assert code_state(trading_repo, ["src/", "main.py"]).dirty  # (untracked: git shows it)
    (trading_repo / ".git" / "info").mkdir(exist_ok=True)
    (trading_repo / ".git" / "info" / "exclude").write_text(f"{top}/\n")
    state = code_state(trading_repo, ["src/", "main.py"])
    assert not state.dirty, state.dirty_paths


def test_what_python_does_not_import_beside_main_is_no_dirty_code(trading_repo: Path,
                                                                 tmp_path: Path) -> None:
    """Beside main.py, a link to a data folder, a virtual environment (its modules below a
    folder no import names: python3.11, site-packages) and a worktree of the repository
    inside the checkout are not code a run imports (every run dirty would make none
    qualify)."""
    import os

    from evidencebot.ledger.checkout import code_state

    (trading_repo / "main.py").write_text("import json\n")
    git(trading_repo, "add", "main.py")
    git(trading_repo, "commit", "-qm", "main")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "prices.csv").write_text("x\n")
    os.symlink(tmp_path / "data", trading_repo / "state_data")
    for packages in ("venv/lib/python3.11/site-packages", "venv/Lib/site-packages"):
        (trading_repo / packages).mkdir(parents=True)  # (POSIX's layout, and Windows')
        (trading_repo / packages / "six.py").write_text("")
    git(trading_repo, "worktree", "add", "-q", "--detach", str(trading_repo / "ops_wt"))
    (trading_repo / ".git" / "info").mkdir(exist_ok=True)
    (trading_repo / ".git" / "info" / "exclude").write_text("venv/\nops_wt/\nstate_data\n")
    state = code_state(trading_repo, ["src/", "main.py"])
    assert not state.dirty, state.dirty_paths


@pytest.mark.parametrize("hide", ["clean-filter", "stat-only", "tracked-beside-main"])
def test_code_changed_behind_local_git_settings_is_dirty_code(trading_repo: Path,
                                                              hide: str) -> None:
    """Settings in .git/ no reviewer sees must not hide an edit: a clean filter that shows
    git HEAD's version (set in .git/info/attributes), git told to trust a file's stat (a
    same-size edit with its mtime put back); and a tracked module beside main.py, which
    `python main.py` imports, edited (the top folder is no code path, main.py is)."""
    import os

    from evidencebot.ledger.checkout import code_state

    (trading_repo / "main.py").write_text("import helpers\n")
    (trading_repo / "helpers.py").write_text("LIMIT = 1\n")
    git(trading_repo, "add", "main.py", "helpers.py")
    git(trading_repo, "commit", "-qm", "main")
    paths = ["src/", "main.py"]
    target = trading_repo / ("helpers.py" if hide == "tracked-beside-main" else
                             "src/broker/session.py")
    os.utime(target, (1_700_000_000, 1_700_000_000))  # (well before the index: not racy)
    git(trading_repo, "status", "--porcelain")  # (the index takes the file's stat)
    before = target.stat()
    if hide == "clean-filter":
        (trading_repo / ".git" / "info").mkdir(exist_ok=True)
        (trading_repo / ".git" / "info" / "attributes").write_text("src/** filter=keep\n")
        git(trading_repo, "config", "filter.keep.clean", "git show HEAD:%f")
    elif hide == "stat-only":
        git(trading_repo, "config", "core.trustctime", "false")
        git(trading_repo, "config", "core.checkStat", "minimal")
    # (a filter fails closed: whatever it shows, git compares what it makes of the file)
    assert code_state(trading_repo, paths).dirty == (hide == "clean-filter")
    text = target.read_bytes()  # (saved as editors save: a new file in its place)
    target.with_suffix(".new").write_bytes(text[:-2] + b"9\n")
    os.replace(target.with_suffix(".new"), target)
    assert target.stat().st_size == before.st_size and text.endswith(b"\n")
    if hide == "stat-only":
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    if hide != "tracked-beside-main":
        assert git(trading_repo, "status", "--porcelain") == ""  # (git shows nothing)
    state = code_state(trading_repo, paths)
    want = ".git/info/attributes" if hide == "clean-filter" else \
        target.relative_to(trading_repo).as_posix()
    assert state.dirty and want in state.dirty_paths, state.dirty_paths


@pytest.mark.parametrize("line", [
    "src/** filter=keep", "src/** ident", "src/** working-tree-encoding=UTF-7",
    "src/** eol=crlf", "[attr]quiet ident\nsrc/** quiet",  # (a macro)
    "src/version[.\x0c#]py ident",  # (git ends a line at LF only: no comment after \f)
])
def test_local_attributes_that_change_what_git_compares_are_dirty_code(trading_repo: Path,
                                                                       line: str) -> None:
    """An attribute in .git/info/attributes that changes what git compares of a file (a
    clean filter, $Id$ expansion, a working-tree encoding, line endings) can hide an edit
    from git status: the code state cannot be read through it, so it is dirty code. Lines
    that set none are no reason: a comment, an attribute unset or unspecified, a path that
    holds such a word, another attribute."""
    from evidencebot.ledger.checkout import code_state

    info = trading_repo / ".git" / "info"
    info.mkdir(exist_ok=True)
    (info / "attributes").write_text("# a comment names no attribute: filter\n  # nor: ident\n"
                                     "*.bin -text\n*.py !ident\nsrc/filter/** diff=python\n"
                                     "docs/text/** linguist-documentation\n")
    assert not code_state(trading_repo, ["src/"]).dirty
    (info / "attributes").write_text(f"{line}\n")
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and state.dirty_paths == (".git/info/attributes",), state.dirty_paths


def test_the_users_attributes_file_is_read_from_where_git_reads_it(trading_repo: Path,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    """core.attributesFile given relative is the top's (as git reads it), whatever folder
    evidencebot runs from (a scheduler's); an ignored .gitattributes applies all the same."""
    from evidencebot.ledger.checkout import code_state

    git(trading_repo, "config", "core.attributesFile", "attrs.local")
    (trading_repo / "attrs.local").write_text("src/** ident\n")
    (trading_repo / ".git" / "info").mkdir(exist_ok=True)
    (trading_repo / ".git" / "info" / "exclude").write_text("attrs.local\nsrc/.gitattributes\n")
    monkeypatch.chdir(tmp_path)
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and state.dirty_paths == ("attrs.local",), state.dirty_paths
    (trading_repo / "attrs.local").unlink()
    (trading_repo / "src" / ".gitattributes").write_text("version.py ident\n")
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and state.dirty_paths == ("src/.gitattributes",), state.dirty_paths


def test_the_repositorys_own_attributes_are_reviewed_code(trading_repo: Path) -> None:
    """A committed .gitattributes (Git LFS for data, git-crypt for secrets) is reviewed: no
    dirty code; one changed in the checkout, wherever it is, is."""
    from evidencebot.ledger.checkout import code_state

    (trading_repo / ".gitattributes").write_text(
        "backtest/data/*.csv filter=lfs diff=lfs merge=lfs -text\n"
        "config/secrets.toml filter=git-crypt diff=git-crypt\n")
    git(trading_repo, "add", ".gitattributes")
    git(trading_repo, "commit", "-qm", "attributes, reviewed")
    assert not code_state(trading_repo, ["src/", "backtest/", "config/"]).dirty
    (trading_repo / "docs").mkdir()
    (trading_repo / "docs" / ".gitattributes").write_text("*.py ident\n")
    state = code_state(trading_repo, ["src/"])
    assert state.dirty and state.dirty_paths == ("docs/.gitattributes",), state.dirty_paths


def test_a_number_cell_of_unicode_digits_is_no_row_number(trading_repo: Path, tmp_path: Path,
                                                          cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """"²" passes str.isdigit and int() refuses it: the hand-written row numbered so is
    read as unnumbered (the next row is the table's second), not as a traceback."""
    backlog = trading_repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text(encoding="utf-8")
    backlog.write_text(text.replace("| 1 | 2026-11-16 |", "| \u00b2 | 2026-11-16 |"),
                       encoding="utf-8")
    git(trading_repo, "commit", "-qam", "a superscript row number")
    for n in range(2):
        doc = report(finished=NOW - timedelta(hours=5 - n), filled=2)
        r = cli("--repo", trading_repo, "record", write_report(tmp_path / f"{n}.json", doc))
        assert r.code == 0, r.err
    rows = [x for x in git(trading_repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md").splitlines()
            if x.startswith("| ") and x.endswith(" |") and x.count(" | 2026") == 2]  # tracker
    assert [x.split("|")[1].strip() for x in rows] == ["\u00b2", "2", "3"]
    assert cli("--repo", trading_repo, "verify", "--range", "main..ops/evidence").code == 0


def test_a_failed_run_under_a_qualifying_hand_written_row_is_refused(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`record` adds no row beside a hand-written one: a row saying qualifying would stand
    for a failed run in the tracker. Refused (exit 2, nothing written) until the row is
    mended on the base; verify blames the same commit made by hand."""
    r = cli("--repo", trading_repo, "record",
            rep(tmp_path, run_id="20261116T081500Z", filled=0))
    assert r.code == 2 and "does not qualify, and a hand-written row" in r.err
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_a_record_file_no_run_commit_added_is_not_taken_for_a_recorded_run(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The evidence a killed record left staged in a checkout, committed by hand: the file
    is there, but no run commit recorded it. Recording the report again said "already
    recorded" (exit 0) while status counted nothing and verify failed."""
    first, second = rep(tmp_path, "a.json", hours_ago=3), rep(tmp_path, "b.json")
    assert cli("--repo", trading_repo, "record", first).code == 0
    assert cli("--repo", trading_repo, "record", second).code == 0
    tree = git(trading_repo, "rev-parse", f"{OPS}^{{tree}}").strip()
    by_hand = git(trading_repo, "commit-tree", tree, "-p", f"{OPS}~1", "-m", "evidence").strip()
    git(trading_repo, "update-ref", f"refs/heads/{OPS}", by_hand)
    r = cli("--repo", trading_repo, "record", second)
    assert r.code == 2 and "no run commit recorded it" in r.err and "Fix:" in r.err
    assert git(trading_repo, "rev-parse", OPS).strip() == by_hand
    again = cli("--repo", trading_repo, "record", first)  # (a recorded one: unchanged)
    assert again.code == 0 and "already recorded" in again.out
    assert git(trading_repo, "rev-parse", OPS).strip() == by_hand


def _dated(repo: Path, when: str, *args: str) -> str:
    """git ``args`` in ``repo`` with author and committer dated ``when``; HEAD after."""
    env = {**__import__("os").environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return git(repo, "rev-parse", "HEAD").strip()


def test_code_merged_after_the_session_did_not_run_reviewed(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Whether a run's code was reviewed is asked of the base as it stood when the run
    started (its first-parent commits dated by then), not when the report is recorded:
    sessions run on a feature commit merged at noon do not qualify, recorded before or
    after the merge, and whatever a commit above the merge says of its date; verify
    re-derives the same. A report without code information is
    taken to have run the base's commit of its start: the merge's parent, not the
    feature commit the merge brought in."""
    cfg = trading_repo / "evidencebot.toml"
    plain_cfg = cfg.read_text(encoding="utf-8")
    cfg.write_text(plain_cfg + '\n[report.fields]\ncode_commit = "/code_commit"\n',
                   encoding="utf-8")
    git(trading_repo, "add", "-A")
    before = _dated(trading_repo, "2026-11-25T07:00:00Z", "commit", "-qm", "report pointer")
    git(trading_repo, "switch", "-qc", "feature")
    (trading_repo / "src" / "limit.py").write_text("RISK_LIMIT = 10_000_000\n")
    git(trading_repo, "add", "-A")
    feature = _dated(trading_repo, "2026-11-25T07:30:00Z", "commit", "-qm", "raise the limit")
    git(trading_repo, "switch", "-q", "main")
    _dated(trading_repo, "2026-11-25T12:00:00Z", "merge", "-q", "--no-ff", "feature", "-m",
           "Merge feature (reviewed at noon)")
    # a commit on top dated early (a clock behind) lands no earlier than the merge below it
    _dated(trading_repo, "2026-11-25T08:00:00Z", "commit", "-q", "--allow-empty", "-m", "docs")
    for hour in (9, 10, 11):
        doc = report(finished=datetime(2026, 11, 25, hour, 40, tzinfo=UTC))
        doc["code_commit"] = feature
        r = cli("--repo", trading_repo, "--json", "record",
                write_report(trading_repo.parent / f"r{hour}.json", doc))
        run = json.loads(r.out)["run"]
        assert r.code == 0 and run["outcome"] == "non-qualifying"
        assert f"code {feature[:7]} was not on main when the run started" in run["reasons"]
    after = report(finished=datetime(2026, 11, 25, 13, 40, tzinfo=UTC))
    after["code_commit"] = feature
    r = cli("--repo", trading_repo, "--json", "record",
            write_report(trading_repo.parent / "r13.json", after))
    assert json.loads(r.out)["run"]["outcome"] == "qualifying"  # started after the merge
    git(trading_repo, "switch", "-q", OPS)
    assert cli("--repo", trading_repo, "verify", "--base", "main").code == 0
    git(trading_repo, "switch", "-q", "main")
    cfg.write_text(plain_cfg, encoding="utf-8")
    _dated(trading_repo, "2026-11-25T13:50:00Z", "commit", "-qam", "no report pointer")
    plain = report(finished=datetime(2026, 11, 25, 8, 40, tzinfo=UTC))
    r = cli("--repo", trading_repo, "--json", "record",
            write_report(trading_repo.parent / "r8.json", plain))
    assert r.code == 0, r.err
    assert git(trading_repo, "log", "-1", "--format=%(trailers:key=Code-Commit,valueonly)",
               OPS).strip() == before


def test_a_squash_merged_branch_s_tip_ran_reviewed_and_its_wip_did_not(  # type: ignore[no-untyped-def]
        trading_repo: Path, cli) -> None:
    """A branch squash-merged is not below the base, and its tip's tree is the squash
    commit's: the code the base held (a run on the tip the merge took as it was
    qualifies). A commit of it the merge did not take is not; nor is one taken back
    before the merge when the merge is a squash (below the base, it would count: git
    keeps no record of which commits a branch pointed at, README rule 5)."""
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[report.fields]\ncode_commit = '
                   '"/code_commit"\n', encoding="utf-8")
    git(trading_repo, "add", "-A")
    _dated(trading_repo, "2026-11-25T06:00:00Z", "commit", "-qm", "report pointer")
    git(trading_repo, "switch", "-qc", "feature")
    strategy = trading_repo / "src" / "fills.py"
    strategy.write_text("FILLS = 2  # fake fills\n")
    git(trading_repo, "add", "-A")
    wip = _dated(trading_repo, "2026-11-25T06:10:00Z", "commit", "-qm", "wip")
    strategy.write_text("FILLS = 0\n")
    tip = _dated(trading_repo, "2026-11-25T06:20:00Z", "commit", "-qam", "tidy up")
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--squash", "feature")
    _dated(trading_repo, "2026-11-25T07:00:00Z", "commit", "-qm", "Feature (squashed, reviewed)")
    for hour, commit, outcome in ((9, wip, "non-qualifying"), (10, tip, "qualifying")):
        doc = report(finished=datetime(2026, 11, 25, hour, 40, tzinfo=UTC))
        doc["code_commit"] = commit
        r = cli("--repo", trading_repo, "--json", "record",
                write_report(trading_repo.parent / f"r{hour}.json", doc))
        run = json.loads(r.out)["run"]
        assert (r.code, run["outcome"]) == (0, outcome), run
    assert f"code {wip[:7]} was not on main when the run started" in git(
        trading_repo, "log", "--format=%B", OPS)
    git(trading_repo, "switch", "-q", OPS)
    assert cli("--repo", trading_repo, "verify", "--base", "main").code == 0

def test_a_report_from_before_the_base_had_a_commit_says_so(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path, cli) -> None:
    """A newcomer read "code none (no commit) was not on main when the run started"."""
    doc = report(finished=datetime(2001, 1, 8, 10, 0, tzinfo=UTC))  # (a Monday, in hours)
    r = cli("--repo", trading_repo, "--json", "record", write_report(tmp_path / "old.json", doc))
    assert r.code == 0, r.err
    assert json.loads(r.out)["run"]["reasons"] == ["main had no commit yet when the run started"], r.out


@pytest.mark.parametrize("how", ["link", "repository"])
def test_a_link_or_a_repository_inside_a_package_is_dirty_code(trading_repo: Path,
                                                               tmp_path: Path, how: str) -> None:
    """Found by an adversary: strategies/edge, a link to a package elsewhere (or a
    repository of its own) beside the reviewed strategies/edge.py, is what `import
    strategies.edge` loads; only the checkout's top was looked at for them."""
    import os

    from evidencebot.ledger.checkout import code_state

    pkg = trading_repo / "strategies"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "edge.py").write_text("EDGE = 1\n")
    git(trading_repo, "add", "strategies")
    git(trading_repo, "commit", "-qm", "a strategy")
    assert not code_state(trading_repo, ["src/", "main.py"]).dirty
    if how == "link":
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "__init__.py").write_text("EDGE = 99\n")
        os.symlink(tmp_path / "elsewhere", pkg / "edge")
    else:
        (pkg / "edge").mkdir()
        git(pkg / "edge", "init", "-q")
        (pkg / "edge" / "__init__.py").write_text("EDGE = 99\n")
    state = code_state(trading_repo, ["src/", "main.py"])
    assert state.dirty and any(p.rstrip("/") == "strategies/edge" for p in state.dirty_paths), \
        state.dirty_paths


FULL_DISK_GIT = r'''#!{python}
import os, sys
if "update-ref" in sys.argv[1:] and any(a.startswith("refs/heads/ops/") for a in sys.argv):
    sys.stderr.write("fatal: update_ref failed: No space left on device\n"); sys.exit(128)
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
'''


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim")
def test_a_branch_git_could_not_move_is_said_as_such(trading_repo: Path, tmp_path: Path) -> None:
    """Found by an adversary: a full disk at the last step (the branch's update) was said
    as "ops/evidence moved while evidencebot was writing", another writer's doing. What
    git said is said; nothing is committed."""
    import shutil
    import sys

    shim = tmp_path / "shim" / "git"
    shim.parent.mkdir()
    shim.write_text(FULL_DISK_GIT.format(python=sys.executable, git=shutil.which("git")))
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(trading_repo),
                        "record", str(rep(tmp_path))], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "git could not move ops/evidence" in r.stderr, r.stderr
    assert "No space left on device" in r.stderr and "moved while" not in r.stderr
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_a_document_kept_elsewhere_is_named_with_the_setting(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: documents kept in docs/ were refused as missing, and the fix
    never named the [docs] setting."""
    (trading_repo / "docs").mkdir()
    git(trading_repo, "mv", "IMPLEMENTATION_BACKLOG.md", "docs/")
    git(trading_repo, "commit", "-qm", "docs in docs/")
    doc = report(finished=datetime(2026, 11, 25, 10, 40, tzinfo=UTC))
    r = cli("--repo", trading_repo, "record", write_report(trading_repo.parent / "r.json", doc))
    assert r.code == 2 and 'set [docs] backlog = "docs/IMPLEMENTATION_BACKLOG.md" in ' \
        "evidencebot.toml" in r.err, r.err
    assert git(trading_repo, "branch", "--list", OPS) == ""


def test_an_untracked_file_in_the_way_in_a_checkout_names_the_fix(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path, cli) -> None:
    """Found by a newcomer: git's error alone, with no fix, when an untracked file in a
    clean checkout of the ops branch stood where the evidence goes. Nothing is written."""
    from conftest import record_run

    record_run(cli, trading_repo, 7)
    wt = tmp_path / "ops checkout"
    git(trading_repo, "worktree", "add", "-q", str(wt), OPS)
    tip = git(trading_repo, "rev-parse", OPS)
    doc = report(finished=datetime(2026, 11, 25, 16, 25, tzinfo=UTC))
    in_the_way = wt / "reports" / "evidence" / "step1a" / f"{doc['run_id']}.json"
    in_the_way.write_text("mine\n")
    r = cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 2 and "cannot bring the checkout at" in r.err and \
        "nothing was written" in r.err and "Fix: move the files git names out of" in r.err, r.err
    assert git(trading_repo, "rev-parse", OPS) == tip and in_the_way.read_text() == "mine\n"


@pytest.mark.parametrize(("ratio", "written"), [(0.00005, "0.00005"), (-0.0, "0.0"),
                                                 (0.000001, "0.000001")])
def test_a_tiny_ratio_is_recorded_as_the_decimal_it_is(trading_repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       cli, ratio: float, written: str) -> None:
    """Adversary 48: a ratio under 1e-4 was written "5e-05" (-0.0 as "-0.0"), which the
    trailer's form refuses: a real session's report could not be recorded, and under
    `run` it became a code failure blaming the wrapper."""
    r = cli("--repo", trading_repo, "record", rep(tmp_path, ratio=ratio))
    assert r.code == 0, r.err
    assert trailers(trading_repo)["Burnin-Symbol-Data-Availability-Ratio"] == written
    assert "non-qualifying" in r.out and cli("--repo", trading_repo, "verify").code == 0
