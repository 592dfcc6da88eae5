"""`evidencebot void RUN --reason TEXT`: a reviewable commit saying a run must not count.
Real git, the real CLI, the real hook; the void can only make the evidence stricter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, other_operator, record_run

from evidencebot.guard.install import install_hooks
from evidencebot.sim.demo import make_remote
from evidencebot.sim.trading_repo import write_repo

OPS = "ops/evidence"


@pytest.fixture(autouse=True)
def _clock(pinned_now: str) -> None:
    pass


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": '[ops]\nprovider = "none"\n'})


record = record_run  # run n of a burn-in, recorded through the CLI


def trailers(repo: Path, rev: str = OPS) -> dict[str, str]:
    text = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    return dict(line.split(": ", 1) for line in text.splitlines() if line)


def streak(cli, repo: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    mo = json.loads(cli("--repo", repo, "--json", "status").out)["milestones"][0]
    return {**mo["streak"], "runs": [r["run_id"] for r in mo["runs"]]}


def test_a_voided_run_never_counts_and_still_breaks_the_streak(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    a, b = record(cli, repo, 0), record(cli, repo, 1)
    assert streak(cli, repo)["count"] == 2
    r = cli("--repo", repo, "void", a, "--reason", "wrong account in the report")
    assert r.code == 0, r.err
    assert f"voided run {a}" in r.out and "MO-2: 1/3" in r.out
    assert r.out.splitlines()[-1].startswith("  not pushed: ")
    t = trailers(repo)
    assert t["Evidence-Kind"] == "void" and t["Evidence-Run-Id"] == a
    assert t["Void-Reason"] == "wrong account in the report"
    changed = git(repo, "diff", "--name-status", f"{OPS}~1", OPS).split("\n")
    assert sorted(filter(None, changed)) == [
        "A\treports/evidence/voids/" + a + ".json", "M\tIMPLEMENTATION_BACKLOG.md",
        "M\tSESSION_LOG.md"]
    doc = json.loads(git(repo, "show", f"{OPS}:reports/evidence/voids/{a}.json"))
    assert doc["run_id"] == a and doc["reason"] == "wrong account in the report"
    assert doc["record"] == f"reports/evidence/step1a/{a}.json"
    assert git(repo, "show", f"{OPS}:reports/evidence/step1a/{a}.json")  # the record stays
    log = git(repo, "show", f"{OPS}:SESSION_LOG.md")
    assert f"UTC — OPS — run {a} voided\n" in log and "- Reason: wrong account" in log
    assert "Consecutive qualifying runs: 1 of 3" in git(repo, "show",
                                                        f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    assert [streak(cli, repo)[k] for k in ("count", "runs")] == [1, [b]]
    status = cli("--repo", repo, "status").out
    assert f"voided runs (never count, still break a streak): {a} (wrong account" in status
    entries = json.loads(cli("--repo", repo, "--json", "history").out)["entries"]
    assert (entries[0]["kind"], entries[0]["run_id"]) == ("void", a)
    assert [e["voided"] for e in entries if e["kind"] == "step1a-burnin"] == [False, True]
    assert "void: wrong account in the report" in cli("--repo", repo, "history").out
    record(cli, repo, 2)
    assert cli("--repo", repo, "close", "MO-2").code == 1  # 2/3: a, voided, broke it
    record(cli, repo, 3)
    ok = cli("--repo", repo, "--json", "close", "MO-2")
    assert ok.code == 0, ok.err
    assert a not in [r["run_id"] for r in json.loads(ok.out)["runs"]]
    description = git(repo, "show", f"{OPS}:reports/evidence/milestones/MO-2.md")
    assert f"| {a} | qualifying (voided) |" in description
    assert "| void | " + a + " | void | voids the run: wrong account in the report |" in description
    git(repo, "switch", "-q", OPS)
    v = cli("--repo", repo, "verify")
    assert v.code == 0, v.out


def test_voiding_twice_adds_nothing(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    a = record(cli, repo, 0)
    assert cli("--repo", repo, "void", a, "--reason", "first").code == 0
    tip = git(repo, "rev-parse", OPS)
    again = cli("--repo", repo, "--json", "void", a, "--reason", "second")
    assert again.code == 0
    doc = json.loads(again.out)
    assert doc["status"] == "unchanged" and doc["reason"] == "first"
    assert doc["schema"] == "evidencebot.void/1"
    assert doc["streak"] == {"milestone": "MO-2", "count": 0, "needed": 3, "closed": False}
    assert git(repo, "rev-parse", OPS) == tip


def test_a_voided_run_keeps_its_session_taken(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A void says a run must not count; its time stays taken, so a second report for the
    same session is refused, and the refusal does not send the operator to void it."""
    from datetime import datetime, timedelta

    from conftest import PINNED

    from evidencebot.sim.trading_repo import report, write_report

    a = record(cli, repo, 0)
    assert cli("--repo", repo, "void", a, "--reason", "wrong account").code == 0
    tip = git(repo, "rev-parse", OPS)
    finished = datetime.fromisoformat(PINNED) - timedelta(minutes=35 * 10 - 5)  # (5 min on)
    r = cli("--repo", repo, "record", write_report(repo.parent / "again.json",
                                                   report(finished=finished)))
    assert r.code == 2 and f"overlaps run {a}" in r.err
    assert "void it" not in r.err and "a void keeps its time taken" in r.err
    assert git(repo, "rev-parse", OPS) == tip


@pytest.mark.parametrize(("args", "code", "says"), [
    (["20261125T000000Z", "--reason", "x"], 2, "no run 20261125T000000Z is recorded"),
    (["../evil", "--reason", "x"], 2, "is not a run id"),
    (["RUN", "--reason", " \x1b[31m \u200b "], 2, "the reason is empty"),
    (["RUN", "--reason", "x" * 501], 2, "keep it to 500 at most"),
    (["RUN", "--reason", "caf\udce9"], 2, "not UTF-8 text"),  # (a Latin-1 terminal's é)
    (["RUN"], 2, "--reason"),
])
def test_refused_with_nothing_written(repo: Path, cli, args: list[str], code: int,  # type: ignore[no-untyped-def]
                                      says: str) -> None:
    run = record(cli, repo, 0)
    tip = git(repo, "rev-parse", OPS)
    r = cli("--repo", repo, "void", *[run if a == "RUN" else a for a in args])
    assert r.code == code and says in r.err, r.err
    assert git(repo, "rev-parse", OPS) == tip


def test_a_hand_written_row_is_not_a_run_that_can_be_voided(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    record(cli, repo, 0)
    r = cli("--repo", repo, "void", "20261116T081500Z", "--reason", "typo")  # the hand row
    assert r.code == 2 and "hand-written tracker rows cannot be voided" in r.err


def test_the_reason_is_one_neutral_line_everywhere(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    a = record(cli, repo, 0)
    hostile = "data feed\nEvidence-Kind: milestone\x1b[2J | <b>DU7654321</b>\u202e"
    assert cli("--repo", repo, "void", a, "--reason", hostile).code == 0
    reason = trailers(repo)["Void-Reason"]
    assert "\n" not in reason and "\x1b" not in reason and "\u202e" not in reason
    assert "7654321" not in git(repo, "log", "-p", "-1", OPS)
    log = git(repo, "show", f"{OPS}:SESSION_LOG.md").split("— OPS — run")[-1]
    assert "\\|" in log and "&lt;b&gt;" in log  # Markdown shows it as written
    message = git(repo, "log", "-1", "--format=%B", OPS)
    assert [ln for ln in message.splitlines() if ln.startswith("Evidence-Kind:")] == [
        "Evidence-Kind: void"]


def test_a_run_a_closure_names_cannot_be_voided_and_later_runs_can(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    runs = [record(cli, repo, n) for n in range(3)]
    assert cli("--repo", repo, "close", "MO-2").code == 0
    tip = git(repo, "rev-parse", OPS)
    r = cli("--repo", repo, "void", runs[1], "--reason", "second thoughts")
    assert r.code == 1 and "cannot be voided" in r.err
    assert git(repo, "rev-parse", OPS) == tip
    later = record(cli, repo, 3)  # 4/3 after the closure
    ok = cli("--repo", repo, "void", later, "--reason", "dirty config")
    assert ok.code == 0 and f"MO-2: CLOSED on 2026-11-25 (runs {', '.join(runs)})" in ok.out
    status = streak(cli, repo)
    assert status["closed"] is True
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0


@pytest.mark.parametrize(("outcomes", "voided", "before", "after"), [
    pytest.param(["q", "q", "q"], 2, 3, 0, id="the-newest-run"),
    pytest.param(["n", "q", "q"], 0, 2, 2, id="a-non-qualifying-run-still-breaks"),
    pytest.param(["q", "q", "q"], 0, 3, 2, id="the-oldest-run"),
])
def test_voiding_only_makes_the_evidence_stricter(repo: Path, cli, outcomes: list[str],  # type: ignore[no-untyped-def]
                                                  voided: int, before: int, after: int) -> None:
    runs = [record(cli, repo, n, filled=2 if o == "q" else 0) for n, o in enumerate(outcomes)]
    assert streak(cli, repo)["count"] == before
    assert cli("--repo", repo, "void", runs[voided], "--reason", "x").code == 0
    assert streak(cli, repo)["count"] == after


def test_the_hook_allows_exactly_the_void_commit(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    a = record(cli, repo, 0)
    assert cli("--repo", repo, "void", a, "--reason", "bad data").code == 0
    git(repo, "switch", "-q", OPS)
    install_hooks(repo, base="main", force=True)
    void = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "reset", "-q", "--soft", "HEAD~1")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-C", void],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    # the void record is evidence too: never rewritten afterwards
    path = repo / "reports" / "evidence" / "voids" / f"{a}.json"
    path.write_text(path.read_text().replace("bad data", "nothing wrong"))
    git(repo, "add", "-A")
    proc = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-C", void],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "(evidence-immutable)" in proc.stderr


def forge(repo: Path, files: dict[str, str], run_id: str, reason: str = "forged") -> None:
    """A void commit made by hand past the hook (`git commit --no-verify`)."""
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m",
        f"void by hand\n\nEvidence-Kind: void\nEvidence-Run-Id: {run_id}\n"
        f"Void-Reason: {reason}\nSession-Type: OPS\nEvidencebot-Version: 0.1.0\n"
        "Config-Sha256: none\n")


def void_record(repo: Path, run_id: str, reason: str = "forged") -> str:
    import hashlib

    path = f"reports/evidence/step1a/{run_id}.json"
    data = (repo / path).read_bytes() if (repo / path).exists() else b""
    return json.dumps({"schema": 1, "kind": "void", "run_id": run_id, "reason": reason,
                       "voided_at": "2026-11-25T16:00:00Z", "record": path,
                       "record_sha256": hashlib.sha256(data).hexdigest()}, indent=2) + "\n"


@pytest.mark.parametrize("attempt", ["closed-run", "unknown-run", "wrong-reason",
                                     "other-record", "stray-file", "twice"])
def test_verify_catches_a_forged_void(repo: Path, cli, attempt: str) -> None:  # type: ignore[no-untyped-def]
    runs = [record(cli, repo, n) for n in range(3)]
    if attempt == "closed-run":
        assert cli("--repo", repo, "close", "MO-2").code == 0
    if attempt == "twice":
        assert cli("--repo", repo, "void", runs[0], "--reason", "forged").code == 0
    git(repo, "switch", "-q", OPS)
    target = runs[0]
    voids = f"reports/evidence/voids/{target}.json"
    rule = {"closed-run": "void-of-closed-run", "unknown-run": "void-unknown-run",
            "wrong-reason": "void-record", "other-record": "void-record",
            "stray-file": "stray-void", "twice": "void-twice"}[attempt]
    if attempt == "unknown-run":
        target = "20261125T050000Z"
        forge(repo, {f"reports/evidence/voids/{target}.json": void_record(repo, target)}, target)
    elif attempt == "wrong-reason":
        forge(repo, {voids: void_record(repo, target, "other")}, target)
    elif attempt == "other-record":
        forge(repo, {voids: void_record(repo, runs[1]).replace(runs[1], target, 1)}, target)
    elif attempt == "stray-file":
        (repo / "reports/evidence/voids").mkdir(parents=True)
        (repo / voids).write_text(void_record(repo, target))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--no-verify", "-m", "x\n\nEvidence-Kind: check\n"
            "Check-Failed: window\nSession-Type: OPS\nEvidencebot-Version: 0.1.0\n"
            "Config-Sha256: none\n")
    elif attempt == "twice":
        forge(repo, {"reports/evidence/voids/again.txt": "x\n"}, target)
    else:
        forge(repo, {voids: void_record(repo, target)}, target)
    r = cli("--repo", repo, "verify")
    assert r.code == 1 and f"({rule})" in r.out, r.out


def two_operators(tmp_path: Path, cli, *, provider: str) -> tuple[Path, Path, str]:  # type: ignore[no-untyped-def]
    """Our repository with run a recorded and pushed, and another operator's clone of the
    remote with the ops branch; (ours, theirs, a)."""
    remote = make_remote(tmp_path)
    repo = write_repo(tmp_path / "bot",
                      extra={"evidencebot.toml": f'[ops]\nprovider = "{provider}"\n'})
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    a = record(cli, repo, 0)
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    return repo, other, a


def test_a_push_race_replays_the_void_and_rechecks_it_on_the_new_tip(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo, other, a = two_operators(tmp_path, cli, provider="gitlab")
    record(cli, other, 1)  # another operator records and pushes first
    git(other, "push", "-q", "origin", OPS)
    assert cli("--repo", repo, "void", a, "--reason", "bad feed").code == 0
    record(cli, repo, 2)  # recorded on the old tip, then run pushes: rebuilt on theirs
    from evidencebot.cli.app import State
    from evidencebot.milestone.publish import push_evidence

    ctx = State(repo, None, False).context()
    assert push_evidence(ctx).status == "pushed"
    kinds = git(repo, "log", "--format=%(trailers:key=Evidence-Kind,valueonly)", OPS).split()
    assert kinds[:3] == ["step1a-burnin", "void", "step1a-burnin"]
    assert git(repo, "show", f"{OPS}:reports/evidence/voids/{a}.json")
    assert "Consecutive qualifying runs: 1 of 3" in git(repo, "show", f"{OPS}~1:IMPLEMENTATION_BACKLOG.md")
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0


def test_a_void_the_remote_made_impossible_is_refused_on_replay(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """We void run a; meanwhile another operator closed MO-2 on a, b, c and pushed first.
    The rebuild makes the void again on their tip, where a closure names the run: refused,
    and our branch stays as it was."""
    from evidencebot.cli.app import State
    from evidencebot.errors import PolicyViolation
    from evidencebot.milestone.publish import push_evidence

    repo, other, a = two_operators(tmp_path, cli, provider="none")
    record(cli, other, 1)
    record(cli, other, 2)
    assert cli("--repo", other, "close", "MO-2", "--no-push").code == 0
    git(other, "push", "-q", "origin", OPS)
    assert cli("--repo", repo, "void", a, "--reason", "bad feed").code == 0
    ours = git(repo, "rev-parse", OPS)
    with pytest.raises(PolicyViolation, match="cannot be voided"):
        push_evidence(State(repo, None, False).context())
    assert git(repo, "rev-parse", OPS) == ours
    assert git(repo, "rev-parse", f"origin/{OPS}") == git(other, "rev-parse", OPS)


def test_history_marks_a_run_voided_after_its_entry_was_kept(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """history keeps each commit's own part of its entry in a shortcut file; a void that
    comes later still shows, and the file gives what a cold read gives."""
    a = record(cli, repo, 0)
    record(cli, repo, 1)
    before = json.loads(cli("--repo", repo, "--json", "history").out)["entries"]
    assert not any(e["voided"] for e in before)
    shortcut = repo / ".git" / "evidencebot" / "entries-cache.bin"
    assert shortcut.is_file()
    assert cli("--repo", repo, "void", a, "--reason", "wrong account").code == 0
    warm = json.loads(cli("--repo", repo, "--json", "history").out)["entries"]
    assert [e["voided"] for e in warm if e["kind"] == "step1a-burnin"] == [False, True]
    assert [e["outcome"] for e in warm if e["kind"] == "void"] == ["wrong account"]  # as the table
    shortcut.unlink()
    assert json.loads(cli("--repo", repo, "--json", "history").out)["entries"] == warm
    shortcut.write_bytes(b"garbage")
    assert json.loads(cli("--repo", repo, "--json", "history").out)["entries"] == warm


def test_an_operator_s_commit_encoding_does_not_label_the_evidence(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """With i18n.commitEncoding set to Latin-1, git labels the commits it writes so; our
    UTF-8 messages would then read wrongly for good ('café' as 'cafÃ©') and fail verify.
    evidencebot's commits carry no such label, and verify passes them."""
    a = record(cli, repo, 0)
    git(repo, "config", "i18n.commitEncoding", "ISO-8859-1")
    assert cli("--repo", repo, "void", a, "--reason", "Gateway wobble — café £5").code == 0
    git(repo, "config", "--unset", "i18n.commitEncoding")
    raw = git(repo, "cat-file", "commit", OPS)
    assert "\nencoding " not in raw.split("\n\n", 1)[0] and "café £5" in raw
    git(repo, "switch", "-q", OPS)
    r = cli("--repo", repo, "verify")
    assert r.code == 0, r.out


def test_a_merge_that_commits_conflict_markers_is_no_plain_merge(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Two voids made apart both append to the session log: git cannot merge them without
    conflict markers. A merge commit holding git's conflicted tree is a change of its own,
    whatever conflict style the verifier's git uses."""
    a, b = record(cli, repo, 0), record(cli, repo, 1)
    tip = git(repo, "rev-parse", OPS).strip()
    assert cli("--repo", repo, "void", a, "--reason", "first").code == 0
    left = git(repo, "rev-parse", OPS).strip()
    git(repo, "update-ref", f"refs/heads/{OPS}", tip)
    assert cli("--repo", repo, "void", b, "--reason", "second").code == 0
    right = git(repo, "rev-parse", OPS).strip()
    merged = subprocess.run(["git", "-C", str(repo), "merge-tree", "--write-tree", left, right],
                            capture_output=True, text=True)
    assert merged.returncode == 1  # conflicts: the tree holds the markers
    tree = merged.stdout.split("\n", 1)[0]
    assert "<<<<<<<" in git(repo, "show", f"{tree}:SESSION_LOG.md")
    merge = git(repo, "commit-tree", tree, "-p", left, "-p", right, "-m", "Merge").strip()
    git(repo, "update-ref", f"refs/heads/{OPS}", merge)
    git(repo, "switch", "-q", OPS)
    r = cli("--repo", repo, "--json", "verify")
    found = [(v["commit"], v["rule"]) for v in json.loads(r.out)["violations"]]
    assert r.code == 1 and (merge, "merge-with-changes") in found, r.out


@pytest.mark.parametrize("stray", [b"Session\rLog", b"Session Log\r\r"], ids=["cr-inside", "cr-cr-lf"])
def test_a_stray_cr_in_the_log_on_main_does_not_make_record_refuse_its_own_entry(
        tmp_path: Path, cli, stray: bytes) -> None:  # type: ignore[no-untyped-def]
    """A lone CR in the committed log (a \\r\\r\\n artefact, say) ends no line: the entries
    evidencebot appends keep the log's LF endings, pass its own rules and verify."""
    repo = write_repo(tmp_path / "bot", extra={"evidencebot.toml": '[ops]\nprovider = "none"\n'})
    log = (repo / "SESSION_LOG.md").read_bytes()
    assert b"Session Log" in log
    (repo / "SESSION_LOG.md").write_bytes(log.replace(b"Session Log", stray, 1))
    git(repo, "commit", "-qam", "A stray CR in the log")
    record(cli, repo, 0)
    record(cli, repo, 1)
    old_log = subprocess.run(["git", "-C", str(repo), "show", "main:SESSION_LOG.md"],
                             capture_output=True, check=True).stdout
    new_log = subprocess.run(["git", "-C", str(repo), "show", f"{OPS}:SESSION_LOG.md"],
                             capture_output=True, check=True).stdout
    assert new_log.startswith(old_log) and b"\r" not in new_log[len(old_log):]  # LF, as the log
    git(repo, "switch", "-q", OPS)
    r = cli("--repo", repo, "verify")
    assert r.code == 0, r.out


def test_an_operator_s_log_encoding_does_not_change_what_is_read(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """With i18n.logOutputEncoding set to Latin-1, git re-encodes the messages it shows:
    a void reason with 'café £5' would no longer equal its record's. evidencebot reads
    messages as UTF-8 whatever that setting says."""
    a = record(cli, repo, 0)
    assert cli("--repo", repo, "void", a, "--reason", "Gateway wobble café £5").code == 0
    git(repo, "config", "i18n.logOutputEncoding", "ISO-8859-1")
    git(repo, "switch", "-q", OPS)
    r = cli("--repo", repo, "verify")
    assert r.code == 0, r.out


def test_an_attempt_between_two_of_a_closure_s_runs_cannot_be_voided(  # type: ignore[no-untyped-def]
        repo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: a failed-market-data attempt between the first and second runs
    a closure named (neutral there) was voided, which breaks the streak where it falls, and
    verify said OK over a closure its own branch now contradicted."""
    from datetime import datetime, timedelta

    from conftest import PINNED

    from evidencebot.evidence.record import Outcome, SessionInfo
    from evidencebot.ledger.recorder import record_attempt
    from evidencebot.ledger.workspace import open_context

    runs = [record(cli, repo, n) for n in range(3)]  # each 30 min, 5 min apart
    gap_end = datetime.fromisoformat(PINNED) - timedelta(minutes=35 * 10 - 4)  # run 0 ends at -350
    ctx = open_context(repo, config_path=None, clock=lambda: gap_end)
    attempt = record_attempt(ctx, outcome=Outcome("failed-market-data"),
                             started=gap_end - timedelta(minutes=3),
                             session=SessionInfo(exit_code=1, ibkr_codes=(354,),
                                                 failure="market data unavailable (error 354)"),
                             log=b"Error 354, reqId 4: market data is not subscribed\n").run_id
    assert cli("--repo", repo, "close", "MO-2").code == 0
    status = json.loads(cli("--repo", repo, "--json", "status").out)
    assert status["milestones"][0]["closed_by"] == runs
    tip = git(repo, "rev-parse", OPS)
    r = cli("--repo", repo, "void", attempt, "--reason", "noise")
    assert r.code == 1 and "cannot be voided" in r.err
    assert git(repo, "rev-parse", OPS) == tip
    # Committed all the same by a `void` with its refusal taken out: verify blames it.
    from evidencebot.ledger import void as ledger_void

    monkeypatch.setattr(ledger_void, "target", lambda commits, run_id, branch: next(
        c for c in commits if c.run_id == run_id))
    assert cli("--repo", repo, "void", attempt, "--reason", "noise").code == 0
    v = cli("--repo", repo, "--json", "verify", "--range", f"main..{OPS}")
    rules = {x["rule"] for x in json.loads(v.out)["violations"]}
    assert v.code == 1 and "void-of-closed-run" in rules


def test_a_void_redacts_its_own_entry_not_the_log_before_it(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """An old entry on the base that holds an account number (written by hand, before
    redaction was a rule) is left as it is: redacting the whole log would rewrite it, and
    the append-only rule would refuse the void (as it did a refused check)."""
    log = repo / "SESSION_LOG.md"
    log.write_text(log.read_text(encoding="utf-8") + "\nOpened the account DU1234567 by hand.\n",
                   encoding="utf-8")
    git(repo, "commit", "-qam", "an old hand note")
    run = record_run(cli, repo, 0)
    r = cli("--repo", repo, "void", run, "--reason", "the report of account DU7654321")
    assert r.code == 0, r.err
    after = git(repo, "show", f"{OPS}:SESSION_LOG.md")
    assert "Opened the account DU1234567 by hand." in after  # (the base's text, kept)
    assert "DU7654321" not in after and "DU***" in after.split("Opened the account")[1]
