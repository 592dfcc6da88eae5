"""Signed evidence: ops commits are signed where git signs commits, and `verify
--require-signed` (or `[ops] require_signed` on the base branch) refuses unsigned or
untrusted ones, checking against gpg.ssh.allowedSignersFile. The key is made here."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git

from evidencebot.sim.trading_repo import report, write_report

OPS = "ops/evidence"
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")


def ssh_key(tmp_path: Path, name: str) -> tuple[Path, str]:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True)
    return key, (tmp_path / f"{name}.pub").read_text().strip()


def sign_with(repo: Path, key: Path, allowed: Path) -> None:
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.ssh.allowedSignersFile", str(allowed))


def runner_signs(repo: Path, tmp_path: Path) -> None:
    """From here on, the runner's key (the one the allowed signers name) signs."""
    key, pub = ssh_key(tmp_path, "runner")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'runner@example.invalid namespaces="git" {pub}\n')
    sign_with(repo, key, allowed)


def record(cli, repo: Path, tmp_path: Path, hours_ago: int) -> None:  # type: ignore[no-untyped-def]
    doc = report(finished=NOW - timedelta(hours=hours_ago))
    r = cli("--repo", repo, "record", write_report(tmp_path / f"r{hours_ago}.json", doc))
    assert r.code == 0, r.err


def test_signed_ops_commits_pass_require_signed_and_unsigned_ones_do_not(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    key, pub = ssh_key(tmp_path, "operator")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'operator@example.invalid namespaces="git" {pub}\n')
    sign_with(trading_repo, key, allowed)
    record(cli, trading_repo, tmp_path, 3)
    assert git(trading_repo, "log", "-1", "--format=%G?", OPS).strip() == "G"
    git(trading_repo, "switch", "-q", OPS)
    assert cli("--repo", trading_repo, "verify", "--require-signed").code == 0

    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "config", "commit.gpgsign", "false")  # an unsigned run sneaks in
    record(cli, trading_repo, tmp_path, 2)
    git(trading_repo, "switch", "-q", OPS)
    assert cli("--repo", trading_repo, "verify").code == 0  # not required: fine
    r = cli("--repo", trading_repo, "--json", "verify", "--require-signed")
    doc = json.loads(r.out)
    assert r.code == 1
    assert [v["rule"] for v in doc["violations"]] == ["unsigned"]
    assert doc["violations"][0]["commit"] == git(trading_repo, "rev-parse", OPS).strip()


def test_a_key_git_does_not_trust_is_refused(trading_repo: Path, tmp_path: Path, cli,
                                             pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    key, _pub = ssh_key(tmp_path, "stranger")
    _other, other_pub = ssh_key(tmp_path, "operator")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'operator@example.invalid namespaces="git" {other_pub}\n')
    sign_with(trading_repo, key, allowed)
    record(cli, trading_repo, tmp_path, 3)
    assert git(trading_repo, "log", "-1", "--format=%G?", OPS).strip() != "G"
    git(trading_repo, "switch", "-q", OPS)
    r = cli("--repo", trading_repo, "verify", "--require-signed")
    assert r.code == 1 and "(unsigned)" in r.out and "trusted key" in r.out


def test_require_signed_from_the_base_branch_config(trading_repo: Path, tmp_path: Path, cli,
                                                    pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    (trading_repo / "evidencebot.toml").write_text(
        "[ops]\nallow_pinned_clock = true\nrequire_signed = true\n")
    git(trading_repo, "commit", "-qam", "evidence must be signed")
    record(cli, trading_repo, tmp_path, 3)
    git(trading_repo, "switch", "-q", OPS)
    r = cli("--repo", trading_repo, "verify")
    assert r.code == 1 and "(unsigned)" in r.out


def test_an_operator_s_git_config_does_not_change_what_is_read(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Signed ops commits read the same under the settings people who sign set: with
    log.showSignature every `git log --format` prints "Good ... signature" lines among the
    fields, and with core.commentChar=C git takes the last trailer, "Config-Sha256:", for
    a comment (a comment at the end of a message is no part of it). The
    history, status and verify read every run, signed and trailers whole."""
    key, pub = ssh_key(tmp_path, "operator")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'operator@example.invalid namespaces="git" {pub}\n')
    sign_with(trading_repo, key, allowed)
    for hours_ago in (4, 3):
        record(cli, trading_repo, tmp_path, hours_ago)
    git(trading_repo, "config", "log.showSignature", "true")
    git(trading_repo, "config", "core.commentChar", "C")
    shown = git(trading_repo, "log", "-1", "--format=%H%n%(trailers:only)", OPS)
    assert "signature" in shown and "Config-Sha256" not in shown  # what git now prints
    history = json.loads(cli("--repo", trading_repo, "--json", "history").out)
    runs = [e for e in history["entries"] if e["kind"] == "step1a-burnin"]
    assert len(runs) == 2 and not any(e["problems"] for e in history["entries"])
    assert {len(e["commit"]) for e in history["entries"]} == {40}  # ids, nothing else
    git(trading_repo, "switch", "-q", OPS)
    r = cli("--repo", trading_repo, "--json", "verify", "--require-signed")
    assert r.code == 0 and len(json.loads(r.out)["runs"]) == 2, r.out


def test_a_shortcut_file_from_before_the_neutral_config_is_not_taken(tmp_path: Path) -> None:
    """Shortcut files written before evidencebot neutralised the operator's git config may
    hold what that config made git print: a file of the earlier layout is read as none
    (and rebuilt), whatever it holds."""
    import marshal
    import zlib

    from evidencebot.evidence.store import MAGIC, Store

    store = Store(tmp_path / "history-cache.bin", "k")
    store.save(["fresh"])
    assert store.load() == ["fresh"]
    body = marshal.dumps(("k", ["from before"]))
    (tmp_path / "history-cache.bin").write_bytes(
        b"evidencebot-store/1\n" + zlib.crc32(body).to_bytes(4, "big") + body)
    assert MAGIC != b"evidencebot-store/1\n" and store.load() is None


def test_run_s_trial_of_the_documents_asks_for_no_signature(
        trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a reviewer: the documents check before a session builds a commit no ref
    will point at; signed, it would ask for the key (a pinentry, a touch) at every
    scheduled run. The signing program here writes down each time it is asked."""
    asked = tmp_path / "asked"
    signer = tmp_path / "ssh-keygen"
    signer.write_text(f"#!/bin/sh\necho asked >> {asked}\nexit 1\n")
    signer.chmod(0o755)
    sign_with(trading_repo, tmp_path / "no-key", tmp_path / "allowed")
    git(trading_repo, "config", "gpg.ssh.program", str(signer))
    r = cli("--repo", trading_repo, "--json", "run", "--dry-run", "--skip-checks")
    checks = {c["name"]: c["status"] for c in json.loads(r.out)["checks"]}
    assert checks["documents"] == "PASS" and not asked.exists()


def test_the_base_s_unsigned_runs_a_streak_counts_on_are_refused_until_voided(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Runs recorded without the runner's key, merged into main as a code merge request
    (no ops branch's, so never verified), then one signed run: the streak 3/3 leans on
    the two the range does not hold, and --require-signed judges them too."""
    record(cli, trading_repo, tmp_path, 5)
    record(cli, trading_repo, tmp_path, 4)
    git(trading_repo, "branch", "-m", OPS, "feature/data")
    git(trading_repo, "merge", "-q", "--no-ff", "feature/data", "-m", "Merge feature/data")
    git(trading_repo, "branch", "-q", "-D", "feature/data")
    runner_signs(trading_repo, tmp_path)
    record(cli, trading_repo, tmp_path, 3)
    base_runs = git(trading_repo, "rev-list", "--no-merges", "main", "-2").split()
    span = ("verify", "--base", "main", "--range", f"main..{OPS}", "--require-signed")
    r = cli("--repo", trading_repo, "--json", *span)
    assert r.code == 1, r.out
    found = json.loads(r.out)["violations"]
    assert {v["rule"] for v in found} == {"unsigned"}
    assert sorted(v["commit"] for v in found) == sorted(base_runs)
    assert cli("--repo", trading_repo, *span[:-1]).code == 0  # (not required: as before)
    # the fix it names: void them (signed), and no streak counts them
    git(trading_repo, "switch", "-q", OPS)
    for hours_ago in (5, 4):
        run_id = report(finished=NOW - timedelta(hours=hours_ago))["run_id"]
        v = cli("--repo", trading_repo, "void", run_id, "--reason", "recorded without the key")
        assert v.code == 0, v.err
    assert cli("--repo", trading_repo, *span).code == 0


def test_the_runs_a_closure_in_the_range_names_are_held_to_their_signatures(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Two unsigned runs on the base, a signed one and its signed closure, then a run that
    does not qualify: the streak at the tip is none, but the closure counts on the base's
    two. Once that closure is merged, later ranges lean on it no more: the milestone is
    done, and runs recorded before signing (closed on) keep nothing stuck."""
    record(cli, trading_repo, tmp_path, 6)
    record(cli, trading_repo, tmp_path, 5)
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", OPS, "-m", "Merge ops/evidence")
    runner_signs(trading_repo, tmp_path)
    record(cli, trading_repo, tmp_path, 4)
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 0
    doc = report(finished=NOW - timedelta(hours=3), filled=0)  # (does not qualify)
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "nq.json", doc)).code == 0
    span = ("verify", "--base", "main", "--range", f"main..{OPS}", "--require-signed")
    r = cli("--repo", trading_repo, "--json", *span)
    found = json.loads(r.out)["violations"]
    unsigned = git(trading_repo, "rev-list", "--no-merges", "main", "-2").split()
    assert r.code == 1 and sorted((v["rule"], v["commit"]) for v in found) == sorted(
        ("unsigned", sha) for sha in unsigned)
    assert all("evidencebot void RUN" in v["fix"] for v in found)
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", OPS, "-m", "Merge the closure")
    record(cli, trading_repo, tmp_path, 2)
    assert cli("--repo", trading_repo, *span).code == 0


def test_a_milestone_closed_before_signing_keeps_no_later_range_stuck(
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """MO-2 closed and merged on runs recorded before signing; signing turned on after:
    the streak counts on past 3 (4/3) into those runs, but a closed milestone is done, and
    its runs cannot be voided (a closure names them)."""
    for hours in (6, 5, 4):
        record(cli, trading_repo, tmp_path, hours)
    assert cli("--repo", trading_repo, "close", "MO-2", "--no-push").code == 0
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "merge", "-q", "--no-ff", OPS, "-m", "Merge the closure")
    runner_signs(trading_repo, tmp_path)
    record(cli, trading_repo, tmp_path, 3)
    assert "4/3" in git(trading_repo, "log", "-1", "--format=%B", OPS)
    r = cli("--repo", trading_repo, "verify", "--base", "main", "--range", f"main..{OPS}",
            "--require-signed")
    assert r.code == 0, r.out
