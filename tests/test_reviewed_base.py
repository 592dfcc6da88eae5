"""Which branch judges the evidence: the base a config names is held to the remote's
default branch, and the ops branch must be one the base's scope rules guard. Found by an
adversary: a side branch `release` whose config named itself the base (and opened the
window on weekend nights) got MO-2 closed on weekend runs, and a plain `verify` said OK."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import PINNED, git, record_run

OPS = "ops/evidence"


@pytest.fixture
def cloned(tmp_path: Path, trading_repo: Path) -> Path:
    """The operator's clone of a remote holding the trading repository: origin/HEAD names
    the remote's default branch, main, whose config names main the base."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(trading_repo), str(remote))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    assert git(clone, "symbolic-ref", "refs/remotes/origin/HEAD").strip() == \
        "refs/remotes/origin/main"
    return clone


def _report(repo: Path) -> Path:
    """A qualifying report of a run ending 35 minutes before the pinned clock."""
    from evidencebot.sim.trading_repo import report, write_report

    finished = datetime.fromisoformat(PINNED) - timedelta(minutes=35)
    return write_report(repo.parent / "r.json", report(finished=finished))


def _self_named_release(repo: Path) -> None:
    """A branch `release`: main plus a config naming `release` the base, pushed."""
    git(repo, "switch", "-q", "-c", "release")
    cfg = repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[ops]\n", '[ops]\nbase = "release"\n', 1),
                   encoding="utf-8")
    assert 'base = "release"' in cfg.read_text(encoding="utf-8")
    git(repo, "commit", "-qam", "tidy config")
    git(repo, "push", "-q", "origin", "release")


def test_a_branch_naming_itself_the_base_records_nothing(cloned: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    _self_named_release(cloned)
    r = cli("--repo", cloned, "record", _report(cloned))
    assert r.code == 2
    assert "names the base branch 'release'" in r.err and "names 'main'" in r.err
    assert "Fix:" in r.err and "Traceback" not in r.err
    assert git(cloned, "branch", "--list", OPS) == ""  # nothing written


def test_plain_verify_will_not_take_the_base_from_the_branch_it_judges(cloned: Path, cli,  # type: ignore[no-untyped-def]
                                                                     pinned_now: str) -> None:
    # Runs recorded honestly against main, then the ops branch re-made on `release`.
    record_run(cli, cloned, 1)
    _self_named_release(cloned)
    git(cloned, "switch", "-q", OPS)
    git(cloned, "rebase", "-q", "--no-verify", "release")  # (the hook would refuse nothing here)
    r = cli("--repo", cloned, "verify")
    assert r.code == 2, r.out
    assert "--base main" in r.err
    # Named, the base judges: main's rules blame the config commit below the ops commits.
    named = cli("--repo", cloned, "--json", "verify", "--base", "main")
    assert named.code == 1
    rules = {v["rule"] for v in json.loads(named.out)["violations"]}
    assert "not-an-ops-commit" in rules


@pytest.mark.parametrize("where", ["trading_repo", "cloned"])
def test_a_base_no_remote_default_contradicts_is_the_one_used(where: str, cli, pinned_now: str,  # type: ignore[no-untyped-def]
                                                            request: pytest.FixtureRequest) -> None:
    """No origin/HEAD (a repository of its own), or one naming the same base: as before."""
    repo: Path = request.getfixturevalue(where)
    record_run(cli, repo, 1)
    git(repo, "switch", "-q", OPS)
    r = cli("--repo", repo, "verify")
    assert r.code == 0, r.out + r.err
    assert "1 run(s)" in r.out


@pytest.mark.parametrize("branch", ["burnin/evidence", "evidence"])
def test_an_ops_branch_the_hook_does_not_guard_is_refused(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                         pinned_now: str, branch: str) -> None:
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[ops]\n", f'[ops]\nbranch = "{branch}"\n', 1),
                   encoding="utf-8")
    r = cli("--repo", trading_repo, "record", _report(trading_repo))
    assert r.code == 2
    assert f"ops.branch {branch!r}" in r.err and "ops/*" in r.err and "Fix:" in r.err
    assert git(trading_repo, "branch", "--list", branch) == ""


def test_an_ops_branch_differing_only_in_case_is_guarded(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                        pinned_now: str) -> None:
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[ops]\n", '[ops]\nbranch = "Ops/evidence"\n', 1),
                   encoding="utf-8")
    r = cli("--repo", trading_repo, "record", _report(trading_repo))
    assert r.code == 0, r.err
    assert git(trading_repo, "branch", "--list", "Ops/evidence").strip()


def test_a_base_branch_that_is_not_here_records_nothing(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                        pinned_now: str) -> None:
    """A config naming a base that does not exist (a typo, no origin/HEAD to compare with)
    used to judge runs by the runbook's defaults, and a run on the reviewed code was
    recorded non-qualifying for good."""
    local = trading_repo.parent / "local.toml"
    local.write_text('[ops]\nbase = "develop"\n', encoding="utf-8")
    before = git(trading_repo, "for-each-ref").strip()
    for args in (("record", _report(trading_repo)), ("check",), ("status",)):
        r = cli("--repo", trading_repo, "--config", local, *args)
        assert r.code == 2, (args, r.out, r.err)
        assert "no base branch 'develop'" in r.err and "Fix:" in r.err
        assert "Traceback" not in r.err
    assert git(trading_repo, "for-each-ref").strip() == before  # nothing written


@pytest.mark.parametrize("base", ["", "main^0", "main~0", "main:x"])
def test_verify_base_takes_a_branch_name_only(trading_repo: Path, cli, base: str) -> None:  # type: ignore[no-untyped-def]
    """`--base ''` fell back to the config at HEAD, and `--base main~N` read an older
    commit's rules."""
    named = cli("--repo", trading_repo, "verify", "--base", "main")
    assert named.code == 0, named.err
    r = cli("--repo", trading_repo, "verify", "--base", base)
    assert r.code == 2, r.out
    assert r.err.startswith("evidencebot: error: --base:") and "--base main" in r.err


@pytest.mark.parametrize("docs", ['evidence_dir = "reports/evidence/again"',
                                  'backlog = "../../etc/passwd"'])
def test_evidence_goes_where_the_base_config_says(trading_repo: Path, cli, pinned_now: str,  # type: ignore[no-untyped-def]
                                                  docs: str) -> None:
    """Found by an adversary: a local config's [docs] evidence_dir recorded one session
    again under a second folder (status then said the streak was met); a [docs] path
    outside the repository was read by status. The base's [docs] is the one used."""
    report = _report(trading_repo)
    assert cli("--repo", trading_repo, "record", report).code == 0
    before = git(trading_repo, "rev-parse", OPS)
    local = trading_repo.parent / "local.toml"
    local.write_text(f"[docs]\n{docs}\n", encoding="utf-8")
    again = cli("--repo", trading_repo, "--config", local, "--json", "record", report)
    assert again.code == 0 and json.loads(again.out)["status"] == "unchanged", again.out
    status = cli("--repo", trading_repo, "--config", local, "--json", "status")
    assert status.code == 0, status.err
    assert len(json.loads(status.out)["runs"]) == 1  # (the one session, once)
    assert git(trading_repo, "rev-parse", OPS) == before


def test_a_local_config_without_docs_follows_the_base_s_docs(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                             pinned_now: str) -> None:
    """A review found a machine-local --config holding only [ibkr] refused by every
    command once the base's config set a [docs] of its own."""
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8")
                   + '\n[docs]\nevidence_dir = "reports/evidence/burnin"\n', encoding="utf-8")
    git(trading_repo, "commit", "-qam", "evidence folder, reviewed")
    local = trading_repo.parent / "local.toml"
    local.write_text("[ibkr]\nport = 4999\n", encoding="utf-8")
    r = cli("--repo", trading_repo, "--config", local, "--json", "record", _report(trading_repo))
    assert r.code == 0, r.err
    assert json.loads(r.out)["run"]["record"].startswith("reports/evidence/burnin/")


def test_docs_of_its_own_before_the_base_has_a_config_is_exit_2(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                                pinned_now: str) -> None:
    from evidencebot.sim.trading_repo import write_repo

    repo = write_repo(tmp_path / "bot")
    git(repo, "rm", "-q", "evidencebot.toml")
    git(repo, "commit", "-qm", "no config on main yet")
    local = tmp_path / "local.toml"
    local.write_text('[docs]\nevidence_dir = "reports/evidence/burnin"\n', encoding="utf-8")
    r = cli("--repo", repo, "--config", local, "record", _report(repo))
    assert r.code == 2 and "no config committed yet" in r.err and "Fix:" in r.err
    assert git(repo, "branch", "--list", OPS) == ""


def test_a_session_is_recorded_once_even_with_its_record_gone(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                               pinned_now: str) -> None:
    report = _report(trading_repo)
    assert cli("--repo", trading_repo, "record", report).code == 0
    git(trading_repo, "switch", "-q", OPS)
    record = git(trading_repo, "diff", "--name-only", f"{OPS}~1", OPS, "--",
                 "reports/evidence").split()
    assert len(record) == 1
    git(trading_repo, "rm", "-q", record[0])
    git(trading_repo, "commit", "-q", "--no-verify", "-m", "tidy")
    git(trading_repo, "switch", "-q", "main")
    before = git(trading_repo, "rev-parse", OPS)
    r = cli("--repo", trading_repo, "record", report)
    assert r.code == 2, r.out
    assert "is already recorded in" in r.err
    assert git(trading_repo, "rev-parse", OPS) == before


def test_a_repository_on_master_is_told_how_to_name_its_base(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """git's own default branch name, and no remote to fetch main from: the fix names the
    branch the operator is on (a fetch from a remote there is not is no fix)."""
    git(trading_repo, "branch", "-m", "main", "master")
    r = cli("--repo", trading_repo, "status")
    assert r.code == 2 and "no base branch 'main'" in r.err
    assert "Fix: you are on 'master': rename it (git branch -m master main), or set [ops] " \
        'base = "master" in evidencebot.toml' in r.err and "git fetch" not in r.err
