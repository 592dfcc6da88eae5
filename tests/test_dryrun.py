"""Stricter pre-run behaviour: `run --dry-run` runs every check and writes nothing, a strict
health command that does not clearly pass fails, and a timeout not above the paper duration
(after the command line's overrides) is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git

from evidencebot.runbook.dryrun import wrapper_check
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import write_repo

REPORT = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"


@pytest.fixture
def port() -> Iterator[int]:
    with running_gateway(hold_client_ids={17}) as p:
        yield p


def make_repo(tmp_path: Path, port: int, *, replace: tuple[str, str] = ("", "")) -> Path:
    config = demo_config(port=port, report=REPORT)
    if replace[0]:
        assert replace[0] in config
        config = config.replace(*replace)
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": config,
                                               ".gitignore": "state/\nreports/uk_tax/\n"})


def nothing_written(repo: Path) -> bool:
    return git(repo, "branch", "--list", "ops/evidence") == "" and not (repo / REPORT).exists()


def test_dry_run_runs_every_check_and_resolves_the_client_id(tmp_path: Path, port: int, cli,
                                                             pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    r = cli("--repo", repo, "--json", "run", "--dry-run")
    assert r.code == 0, r.out + r.err
    doc = json.loads(r.out)
    assert doc["status"] == "dry-run" and doc["error"] is None
    assert doc["client_id"] == 18  # 17 is held: the run would start with 18, as the probe found
    names = [c["name"] for c in doc["checks"]]
    assert names == ["window", "health", "kill-switch", "gateway", "client-id", "code",
                     "wrapper", "parameters", "timeout", "lock", "documents"]
    assert all(c["status"] == "PASS" for c in doc["checks"]), doc["checks"]
    assert nothing_written(repo)
    text = cli("--repo", repo, "run", "--dry-run")
    assert "IBKR_CLIENT_ID=18 (as the client-id check resolved it)" in text.out
    assert "dry run: nothing was run or written" in text.out


def test_dry_run_with_a_missing_wrapper_is_exit_3_and_records_no_refusal(tmp_path: Path,
                                                                         port: int, cli,
                                                                         pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    (repo / "evidencebot.toml").write_text(
        (repo / "evidencebot.toml").read_text().replace(
            f'command = [{json.dumps(sys.executable)}, "-m"', 'command = ["no-such-wrapper-xyz", "-m"'))
    git(repo, "commit", "-qam", "reviewed config change")  # the base runs it
    r = cli("--repo", repo, "run", "--dry-run")
    assert r.code == 3
    assert "program 'no-such-wrapper-xyz' not found (not on PATH)" in r.out
    assert r.err.strip() == ("evidencebot: error: a run may not start: wrapper failed (dry run: "
                             "nothing was run or written)")
    assert nothing_written(repo)


def test_dry_run_warns_when_the_run_cannot_qualify(tmp_path: Path, port: int, cli,
                                                   pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    r = cli("--repo", repo, "--json", "run", "--dry-run", "--paper-duration-seconds", "60")
    assert r.code == 0
    checks = {c["name"]: c for c in json.loads(r.out)["checks"]}
    assert checks["parameters"]["status"] == "WARN"
    assert checks["parameters"]["reason"] == ("paper duration 60 s is below [qualify] "
                                              "min_paper_duration_seconds (1800 s): this run "
                                              "cannot qualify")
    assert checks["timeout"]["status"] == "PASS"


@pytest.mark.parametrize(("runs", "status"), [("1", "PASS"), ("3", "WARN")])
def test_the_timeout_row_counts_every_run_on_paper(tmp_path: Path, port: int, cli, runs: str,  # type: ignore[no-untyped-def]
                                                   status: str, pinned_now: str) -> None:
    """Newcomer 15: three 1800 s sessions under a 5500 s timeout showed PASS."""
    repo = make_repo(tmp_path, port)
    r = cli("--repo", repo, "--json", "run", "--dry-run", "--runs", runs,
            "--timeout-seconds", "5500")
    checks = {c["name"]: c for c in json.loads(r.out)["checks"]}
    assert checks["timeout"]["status"] == status, checks["timeout"]


def test_dry_run_fails_a_strict_health_command_that_prints_no_report(tmp_path: Path, port: int,
                                                                     cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port, replace=('"main.py", "uk_health_check"', '"-c", "pass"'))
    r = cli("--repo", repo, "--json", "run", "--dry-run")
    assert r.code == 3
    health = next(c for c in json.loads(r.out)["checks"] if c["name"] == "health")
    assert health["status"] == "FAIL" and "printed no JSON health report" in health["reason"]
    assert nothing_written(repo)


@pytest.mark.parametrize(("config", "args", "message"), [
    pytest.param("timeout_seconds = 1800", [],
                 "[burnin] timeout_seconds (1800 s) must be above [burnin] "
                 "paper_duration_seconds (1800 s)", id="config-equal"),
    pytest.param("timeout_seconds = 7200", ["--paper-duration-seconds", "9000"],
                 "[burnin] timeout_seconds (7200 s) must be above --paper-duration-seconds "
                 "(9000 s)", id="override-longer-paper-session"),
    pytest.param("timeout_seconds = 7200", ["--timeout-seconds", "100"],
                 "--timeout-seconds (100 s) must be above [burnin] paper_duration_seconds "
                 "(1800 s)", id="override-shorter-timeout"),
])
def test_a_timeout_not_above_the_paper_duration_is_refused(tmp_path: Path, cli, config: str,
                                                           args: list[str], message: str,
                                                           pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, 1, replace=("timeout_seconds = 2400", config))
    for extra in (["--skip-checks"], ["--dry-run"]):
        r = cli("--repo", repo, "run", *extra, *args)
        assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1
        assert nothing_written(repo)


def test_an_override_that_fixes_the_timeout_is_accepted(tmp_path: Path, port: int, cli,
                                                         pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port, replace=("timeout_seconds = 2400", "timeout_seconds = 60"))
    assert cli("--repo", repo, "run", "--dry-run").code == 2
    r = cli("--repo", repo, "--json", "run", "--dry-run", "--timeout-seconds", "4000")
    assert r.code == 0, r.err
    assert json.loads(r.out)["params"]["timeout_seconds"] == 4000


def test_pwsh_missing_points_at_windows_powershell(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    r = wrapper_check(["pwsh", "-NoProfile", "-File", "./scripts/run.ps1"], repo=tmp_path)
    assert r.status == "FAIL" and r.reason == "program 'pwsh' not found (not on PATH)"
    assert "powershell.exe" in r.fix


def test_the_wrapper_script_must_be_in_the_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_TEMPLATE_DIR", raising=False)  # (the tests' own; left out)
    r = wrapper_check([sys.executable, "scripts/burnin.py", "--runs", "1"], repo=tmp_path)
    assert r.status == "FAIL" and "its script 'scripts/burnin.py' is not in the repository" \
        in r.reason
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "burnin.py").write_text("")
    ok = wrapper_check([sys.executable, "scripts/burnin.py", "--runs", "1"], repo=tmp_path)
    assert ok.status == "PASS" and ok.data["found"] == sys.executable
    # a program given by its path is named once ("python at python" read oddly)
    assert ok.reason == f"{sys.executable}; script scripts/burnin.py"


@pytest.mark.parametrize(("config", "args", "message"), [
    pytest.param("timeout_seconds = 2400", ["--timeout-seconds", "inf"],
                 "--timeout-seconds: Input should be a finite number", id="inf-timeout"),
    pytest.param("timeout_seconds = 2400", ["--min-symbol-data-availability-ratio", "nan"],
                 "--min-symbol-data-availability-ratio: Input should be a finite number",
                 id="nan-ratio"),
    pytest.param("timeout_seconds = inf", [], "Input should be a finite number",
                 id="inf-in-config"),
])
def test_non_finite_numbers_are_refused(tmp_path: Path, cli, config: str, args: list[str],
                                        message: str, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    # A timeout of infinity would never kill a hung wrapper; a NaN ratio would pass every
    # comparison the wrapper makes.
    repo = make_repo(tmp_path, 1, replace=("timeout_seconds = 2400", config))
    r = cli("--repo", repo, "run", "--dry-run", *args)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) <= 2
    assert "Traceback" not in r.err and nothing_written(repo)


@pytest.mark.parametrize("given", ["\u00b2", "seventeen"])
def test_an_ibkr_client_id_that_is_no_number_is_exit_2(tmp_path: Path, port: int, cli,  # type: ignore[no-untyped-def]
                                                       pinned_now: str, given: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path, port)
    monkeypatch.setenv("IBKR_CLIENT_ID", given)  # ("²" passes str.isdigit; int() refuses it)
    r = cli("--repo", repo, "run", "--dry-run")
    assert r.code == 2 and "Traceback" not in r.err
    assert f"IBKR_CLIENT_ID must be a number, not {given!r}" in r.err
    assert nothing_written(repo)


@pytest.mark.parametrize("how", ["dirty", "off-base", "caches"])
def test_code_that_cannot_qualify_is_warned_before_a_session_is_spent(  # type: ignore[no-untyped-def]
        tmp_path: Path, port: int, cli, pinned_now: str, how: str) -> None:
    """Found by a newcomer: an uncommitted edit under src/, or a feature branch, passed
    every check and `--dry-run`, and the real run was recorded non-qualifying. Python's
    caches left by a compile, not ignored, are named with the way out (newcomer 10)."""
    repo = make_repo(tmp_path, port)
    if how in ("dirty", "caches"):
        (repo / "src" / "__pycache__").mkdir(parents=True, exist_ok=True)
        name = "scratch.py" if how == "dirty" else "__pycache__/scratch.cpython-311.pyc"
        (repo / "src" / name).write_text("x = 1\n")
    else:
        git(repo, "switch", "-q", "-c", "feature")  # (code main never was: a commit of
        (repo / "src" / "feature.py").write_text("x = 1\n")  # main's tree is main's code)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "unreviewed")
    r = cli("--repo", repo, "--json", "run", "--dry-run")
    assert r.code == 0, r.out + r.err  # a WARN: the run may still start
    code = next(c for c in json.loads(r.out)["checks"] if c["name"] == "code")
    assert code["status"] == "WARN" and "cannot qualify" in code["reason"]
    assert {"dirty": "src/scratch.py", "caches": "src/__pycache__/scratch.cpython-311.pyc",
            "off-base": "is not on main"}[how] in code["reason"]
    assert ("add __pycache__/ to .gitignore" in code["fix"]) is (how == "caches")
    assert nothing_written(repo)


@pytest.mark.parametrize("command", [
    ["sh", "burnin.sh"], ["./burnin.sh"], ["{top}/burnin.sh"],
    # (round 42: after env, timeout or a shell's options, in a `-c` line, through "..")
    ["env", "TZ=UTC", "burnin.sh"], ["timeout", "900", "./burnin.sh"],
    ["bash", "-o", "pipefail", "burnin.sh"], ["sh", "-c", "./burnin.sh --runs 1", "w"],
    ["sh", "src/../burnin.sh"]])
def test_the_wrapper_s_own_files_are_code_whatever_the_code_paths(  # type: ignore[no-untyped-def]
        tmp_path: Path, port: int, cli, pinned_now: str, command: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: a wrapper at the top of the checkout (outside every code
    path), edited and not committed, ran as clean code on main, and closed MO-2."""
    repo = make_repo(tmp_path, port)
    cfg = (repo / "evidencebot.toml").read_text().splitlines()
    at = next(i for i, line in enumerate(cfg) if line.startswith("command = "))  # ([burnin])
    cfg[at] = f"command = {json.dumps([c.replace('{top}', str(repo)) for c in command])}"
    (repo / "evidencebot.toml").write_text("\n".join(cfg) + "\n")
    (repo / "burnin.sh").write_text("#!/bin/sh\necho reviewed\n")
    (repo / "burnin.sh").chmod(0o755)
    git(repo, "add", "-A")
    with monkeypatch.context() as m:  # (merged before the pinned clock's now)
        m.setenv("GIT_COMMITTER_DATE", "2026-11-25T12:00:00Z")
        git(repo, "commit", "-qm", "a wrapper at the top")
    first = json_check(cli, repo, "code")
    assert first["status"] == "PASS", first
    (repo / "burnin.sh").write_text("#!/bin/sh\necho edited, not reviewed\n")
    code = json_check(cli, repo, "code")
    assert code["status"] == "WARN" and "burnin.sh" in code["reason"], code


def test_a_virtualenv_s_interpreter_in_the_checkout_is_the_machine_s(  # type: ignore[no-untyped-def]
        tmp_path: Path, port: int, cli, pinned_now: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: a wrapper started by the checkout's own .venv/bin/python
    (ignored, a link to the machine's Python) made every run dirty."""
    repo = make_repo(tmp_path, port)
    cfg = (repo / "evidencebot.toml").read_text().splitlines()
    at = next(i for i, line in enumerate(cfg) if line.startswith("command = "))
    cfg[at] = cfg[at].replace(json.dumps(sys.executable), '".venv/bin/python"', 1)
    (repo / "evidencebot.toml").write_text("\n".join(cfg) + "\n")
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + ".venv/\n")
    git(repo, "add", "-A")
    with monkeypatch.context() as m:  # (merged before the pinned clock's now)
        m.setenv("GIT_COMMITTER_DATE", "2026-11-25T12:00:00Z")
        git(repo, "commit", "-qm", "the wrapper from the checkout's venv")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").symlink_to(sys.executable)
    code = json_check(cli, repo, "code")
    assert code["status"] == "PASS", code

@pytest.mark.parametrize("how", ["a-link-out", "untracked-and-excluded", "a-data-file"])
def test_the_wrapper_s_files_as_git_sees_them(  # type: ignore[no-untyped-def]
        tmp_path: Path, port: int, cli, pinned_now: str, monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    """Round 43: the reviewed wrapper made a link out of the checkout, or taken out of the
    index and excluded, ran as clean code; a tracked data file the wrapper is given (and
    rewrites) made every run dirty."""
    repo = make_repo(tmp_path, port)
    cfg = (repo / "evidencebot.toml").read_text().splitlines()
    at = next(i for i, line in enumerate(cfg) if line.startswith("command = "))
    cfg[at] = ('command = ["./burnin", "data/state.json"]' if how != "a-data-file" else
               'command = ["sh", "data/state.json", "burnin"]')
    (repo / "evidencebot.toml").write_text("\n".join(cfg) + "\n")
    (repo / "burnin").write_text("#!/bin/sh\necho reviewed\n")
    (repo / "burnin").chmod(0o755)
    (repo / "data").mkdir()
    (repo / "data" / "state.json").write_text("{}\n")
    git(repo, "add", "-A")
    with monkeypatch.context() as m:  # (merged before the pinned clock's now)
        m.setenv("GIT_COMMITTER_DATE", "2026-11-25T12:00:00Z")
        git(repo, "commit", "-qm", "a wrapper and its data")
    if how == "a-link-out":
        (tmp_path / "elsewhere.sh").write_text("#!/bin/sh\necho not reviewed\n")
        (repo / "burnin").unlink()
        (repo / "burnin").symlink_to(tmp_path / "elsewhere.sh")
    elif how == "untracked-and-excluded":
        git(repo, "rm", "-q", "--cached", "burnin")
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "exclude").write_text("burnin\n")
        (repo / "burnin").write_text("#!/bin/sh\necho edited\n")
    else:
        (repo / "data" / "state.json").write_text('{"day": 2}\n')  # (what a run rewrites)
    code = json_check(cli, repo, "code")
    assert code["status"] == ("PASS" if how == "a-data-file" else "WARN"), code

def json_check(cli, repo: Path, name: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    r = cli("--repo", repo, "--json", "run", "--dry-run")
    return next(c for c in json.loads(r.out)["checks"] if c["name"] == name)

def test_a_tracker_without_date_or_outcome_columns_is_said_before_a_run(
        tmp_path: Path, port: int, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: a tracker headed "| Date | Run ID | Result |" got rows with no
    date and no outcome, and a hand-written "qualifying" under Result broke the streak,
    while the dry run said the documents took the evidence."""
    repo = make_repo(tmp_path, port)
    backlog = repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text(encoding="utf-8")
    header = next(ln for ln in text.splitlines() if "| Run ID |" in ln)
    backlog.write_text(text.replace(header, header.replace("| Outcome |", "| Result |")
                                    .replace("| Date (UTC) |", "| Date |")), encoding="utf-8")
    git(repo, "commit", "-qam", "the desk's own headers")
    r = cli("--repo", repo, "--json", "run", "--dry-run")
    documents = next(c for c in json.loads(r.out)["checks"] if c["name"] == "documents")
    assert r.code == 0 and documents["status"] == "WARN", documents
    assert "has no 'Date (UTC)' or 'Outcome' column" in documents["reason"]
    assert "# | Date (UTC) | Run ID |" in documents["fix"]
    assert nothing_written(repo)


def test_a_failed_check_says_first_when_the_working_tree_s_section_is_not_what_counts(
        tmp_path: Path, port: int, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: with the config not yet merged, the base's wrapper (the
    defaults' pwsh) failed and the fix said to install PowerShell; the cause was a
    [burnin] in the working tree that no command runs until it is merged."""
    repo = make_repo(tmp_path, port)
    config = repo / "evidencebot.toml"
    mine = config.read_text()
    config.write_text(mine.replace(f'command = [{json.dumps(sys.executable)}, "-m"',
                                   'command = ["no-such-wrapper-xyz", "-m"'))
    git(repo, "commit", "-qam", "the base runs a wrapper that is not there")
    config.write_text(mine)  # (the operator's working tree has the right one, unmerged)
    r = cli("--repo", repo, "--json", "run", "--dry-run")
    wrapper = next(c for c in json.loads(r.out)["checks"] if c["name"] == "wrapper")
    assert r.code == 3 and wrapper["status"] == "FAIL"
    assert wrapper["fix"].startswith("[burnin] of your evidencebot.toml is not what counts "
                                     "until it is merged (the base's is): commit it, merge it "
                                     "into main and push; else: "), wrapper["fix"]
    assert nothing_written(repo)



def test_a_dry_run_while_another_run_holds_the_lock_says_it_may_not_start(
        tmp_path: Path, port: int, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: with a run in progress, the dry run said "would run" and exit
    0; the run itself then met the lock and exited 3."""
    repo = make_repo(tmp_path, port)
    holder = subprocess.Popen([sys.executable, "-c", "import sys\n"
                               "from pathlib import Path\n"
                               "from evidencebot.ledger.lock import hold\n"
                               "with hold(Path(sys.argv[1]), wait=0):\n"
                               "    print('held', flush=True); sys.stdin.read()", str(repo)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        r = cli("--repo", repo, "--json", "run", "--dry-run")
        lock = next(c for c in json.loads(r.out)["checks"] if c["name"] == "lock")
        assert r.code == 3 and lock["status"] == "FAIL"
        assert lock["reason"].startswith("another run is in progress (pid ")
    finally:
        holder.communicate("")
    assert nothing_written(repo)


@pytest.mark.parametrize("how", ["signing-key-missing", "ref-locked"])
def test_a_commit_git_would_refuse_is_found_before_the_session(
        tmp_path: Path, port: int, cli, pinned_now: str, how: str) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 17: with a signing key the machine's git could not load, or a lock a
    stopped git left on the ops branch, the session ran and its commit failed: the next
    run recorded it as a failed attempt, and the streak broke."""
    repo = make_repo(tmp_path, port)
    if how == "signing-key-missing":
        for key, value in (("commit.gpgsign", "true"), ("gpg.format", "ssh"),
                           ("user.signingkey", str(tmp_path / "no-such-key"))):
            git(repo, "config", key, value)
    else:
        (repo / ".git" / "refs" / "heads" / "ops").mkdir(parents=True)
        (repo / ".git" / "refs" / "heads" / "ops" / "evidence.lock").write_bytes(b"")
    documents = json_check(cli, repo, "documents")  # (the dry run asks for no key: a
    assert documents["status"] == ("PASS" if how == "signing-key-missing" else "FAIL")  # touch
    r = cli("--repo", repo, "run")  # or a pinentry at every check; `run` does, once)
    said = "could not sign" if how == "signing-key-missing" else "left its lock"
    assert r.code == 2 and said in r.err and "Fix:" in r.err, r.out + r.err
    assert "burn-in started" not in r.out + r.err and nothing_written(repo)


def test_a_main_not_pushed_is_said_as_what_to_push(tmp_path: Path, port: int, cli,
                                                   pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 17: on main, with a reviewed commit merged but main not pushed, the code
    check said "HEAD is not on main" and to `git switch main`; with the config committed
    but not pushed, "main has no config committed yet". What was read is origin/main."""
    repo = make_repo(tmp_path, port)
    git(repo, "init", "-q", "--bare", str(tmp_path / "origin.git"))
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    (repo / "src" / "reviewed.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a reviewed change, merged, not pushed")
    code = json_check(cli, repo, "code")
    assert code["status"] == "WARN" and "is not on origin/main" in str(code["reason"])
    assert code["fix"] == ("main here holds it, origin/main (what was reviewed) does not: "
                           "merge it there through review, or fetch it if it is (git fetch "
                           "origin)")  # (never "push": adversary 54 pushed unreviewed code)
    git(repo, "switch", "-q", "-c", "feature")  # (a commit main does not hold: switch)
    git(repo, "commit", "-q", "--allow-empty", "-m", "unreviewed")
    assert "git switch main" in str(json_check(cli, repo, "code")["fix"])
    git(repo, "switch", "-q", "main")
    config = repo / "evidencebot.toml"
    text = config.read_text(encoding="utf-8")
    git(repo, "rm", "-q", "--cached", "evidencebot.toml")
    git(repo, "commit", "-q", "-m", "no config yet")
    git(repo, "push", "-q", "origin", "main")
    config.write_text(text + '[docs]\nbacklog = "docs/B.md"\n', encoding="utf-8")
    git(repo, "add", "evidencebot.toml")
    git(repo, "commit", "-q", "-m", "the config, committed and not pushed")
    r = cli("--repo", repo, "status")
    assert r.code == 2 and "origin/main has no config committed yet" in r.err, r.err
    assert "Fix: commit your config to main (through review) and push it (git push origin " \
        "main) first" in r.err


def test_a_notification_url_no_service_reads_is_said_by_the_dry_run(
        tmp_path: Path, port: int, cli, pinned_now: str,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 17: `slak://` (a typo) passed the dry run; the run's notice then went
    nowhere but a warning in the log. Nothing is sent by the dry run."""
    repo = make_repo(tmp_path, port)
    assert "notify" not in [c["name"] for c in json.loads(
        cli("--repo", repo, "--json", "run", "--dry-run").out)["checks"]]
    monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", "slak://T1/B2/secretsecret json://127.0.0.1:9/")
    notify = json_check(cli, repo, "notify")
    assert notify["status"] == "WARN" and "slak://" in str(notify["reason"])
    assert "secretsecret" not in json.dumps(notify)
    monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", "json://127.0.0.1:9/")
    assert json_check(cli, repo, "notify")["status"] == "PASS"


def test_every_document_that_cannot_take_the_closure_is_named_at_once(
        tmp_path: Path, port: int, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 17: with two headings renamed, the dry run named the design; once that was
    mended and merged (a review cycle), the backlog."""
    repo = make_repo(tmp_path, port)
    for name, heading in (("PROJECT_DESIGN.md", "9. Operational Milestones Tracker"),
                          ("IMPLEMENTATION_BACKLOG.md", "MO-* Status")):
        doc = repo / name
        text = doc.read_text(encoding="utf-8")
        assert heading in text
        doc.write_text(text.replace(heading, heading.replace("Milestones", "Goals")
                                    .replace("MO-* Status", "Milestone Status")),
                       encoding="utf-8")
    git(repo, "commit", "-qam", "the desk's own headings")
    documents = json_check(cli, repo, "documents")
    assert documents["status"] == "FAIL"
    assert "PROJECT_DESIGN.md" in str(documents["reason"]) and \
        "IMPLEMENTATION_BACKLOG.md" in str(documents["reason"]), documents
