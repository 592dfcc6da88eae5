"""Every error a user can cause is one line on stderr (`evidencebot: error: …`, then
`Fix: …` where there is one), a documented exit code, and under --json one JSON object on
stdout with an `error` member. Click's own usage errors included."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest


@pytest.mark.parametrize(("args", "code", "fix"), [
    pytest.param(["histroy"], 2, "see `evidencebot --help`", id="unknown-command"),
    pytest.param(["history", "--limit", "x"], 2, "see `evidencebot history --help`",
                 id="bad-value"),
    pytest.param(["close"], 2, "see `evidencebot close --help`", id="missing-argument"),
    pytest.param(["verify", "--range", "nope..x"], 2,
                 "give two existing commits as A..B, e.g. --range main..HEAD",
                 id="core-usage-error"),
    pytest.param(["record", "/nonexistent/report.json"], 2, "", id="unreadable-report"),
    # a newcomer's `status --repo .` was told "Did you mean '--help'?"
    pytest.param(["status", "--repo", "."], 2, "evidencebot --repo DIRECTORY status ...",
                 id="global-option-after-the-command"),
])
def test_errors_are_one_line_with_a_fix_and_json_too(trading_repo: Path, cli, args: list[str],
                                                     code: int, fix: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", trading_repo, *args)
    lines = r.err.strip().splitlines()
    assert r.code == code and r.out == ""
    assert lines[0].startswith("evidencebot: error: ") and "Traceback" not in r.err
    assert lines[1:] == ([f"Fix: {fix}"] if fix else [])
    j = cli("--repo", trading_repo, "--json", *args)
    doc = json.loads(j.out)
    assert j.code == code and doc["error"]["exit_code"] == code
    assert doc["error"]["message"] == lines[0].removeprefix("evidencebot: error: ")
    assert doc["schema"].startswith("evidencebot.") and doc["schema"].endswith("/1")


@pytest.mark.parametrize("tail", [[], ["--"]], ids=["plain", "click"])
def test_without_git_on_path_the_error_says_so(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch,
                                               tail: list[str]) -> None:
    from evidencebot import git

    git._where.cache_clear()  # (the repository's top, asked of git once per process)
    monkeypatch.setenv("PATH", str(trading_repo / "no-such-folder"))
    r = cli("--repo", trading_repo, "verify", *tail)
    assert (r.code, r.err) == (2, "evidencebot: error: git is not installed, or not on PATH\n"
                                  "Fix: install git (2.39 or later) and put it on PATH\n")


@pytest.mark.parametrize("tail", [[], ["--"]], ids=["plain", "click"])
def test_a_current_folder_removed_underneath_is_said_plainly(tmp_path: Path,
                                                             tail: list[str]) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    probe = (f"import os\nos.chdir({str(gone)!r})\nos.rmdir({str(gone)!r})\n"
             "from evidencebot.__main__ import main\n"
             f"raise SystemExit(main({['verify', *tail]!r}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stderr) == (2, "evidencebot: error: the current folder no "
                                                 "longer exists\nFix: cd into the "
                                                 "repository again\n")


def test_a_missing_program_windows_does_not_name_is_git_only_when_path_has_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Windows' CreateProcess error names no file: it is git's only if PATH has no git."""
    from evidencebot.cli.state import guarded

    def spawn() -> int:
        raise FileNotFoundError(2, "The system cannot find the file specified")

    assert guarded({}, [], spawn) == 2  # git is there: some other program is missing
    assert capsys.readouterr().err.startswith(
        "evidencebot: error: The system cannot find the file specified\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert guarded({}, [], spawn) == 2
    assert capsys.readouterr().err.startswith("evidencebot: error: git is not installed")


@pytest.mark.parametrize(("blocked", "as_folder", "args"), [
    (".git/evidencebot.lock", True, ["record", "REPORT"]),  # (the lock cannot be opened)
    (".git/evidencebot", False, ["report"]),  # (its folder cannot be made)
    ("evidencebot.toml", True, ["init", "--force"]),
])
def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(  # type: ignore[no-untyped-def]
        trading_repo: Path, tmp_path: Path, cli, pinned_now: str, blocked: str,
        as_folder: bool, args: list[str]) -> None:
    """A read-only file system, a folder not ours, or something in the way: the path and
    the system's reason, exit 2, no traceback, no evidence written (a read-only mount
    is the same OSError; a test cannot make one without root)."""
    from conftest import git

    from evidencebot.sim.trading_repo import report, write_report

    path = trading_repo / blocked
    if path.exists():
        path.unlink()
    if as_folder:
        path.mkdir()
        (path / "keep").write_text("", encoding="utf-8")
    else:
        path.write_text("", encoding="utf-8")
    doc = write_report(tmp_path / "r.json", report(finished=datetime(2026, 11, 25, 10, 0,
                                                                      tzinfo=UTC)))
    argv = [str(doc) if a == "REPORT" else a for a in args]
    r = cli("--repo", trading_repo, *argv)
    assert r.code == 2 and "Traceback" not in r.err, r.err
    first = r.err.splitlines()[0]
    assert first.startswith(f"evidencebot: error: {path}: ") and len(r.err.splitlines()) == 2
    assert git(trading_repo, "branch", "--list", "ops/evidence") == ""
    j = cli("--repo", trading_repo, "--json", *argv)
    assert j.code == 2 and json.loads(j.out)["error"]["exit_code"] == 2


@pytest.mark.parametrize("account", ["12345", "DU", "du1234567 ", "X1234567"])
def test_an_account_the_redaction_would_not_hide_is_refused(cli, account: str) -> None:  # type: ignore[no-untyped-def]
    """The simulated gateway's account goes into logs and reports: one the redaction
    does not read as an account (DU… or U… and digits) would go there whole."""
    r = cli("sim-gateway", "--account", account)
    assert r.code == 2 and "Traceback" not in r.err
    assert "--account: not an IBKR account id" in r.err.splitlines()[0]


@pytest.mark.parametrize("port", ["-1", "70000", "abc", "BUSY"])
def test_a_port_the_simulated_gateway_cannot_listen_on_is_one_line(cli, port: str) -> None:  # type: ignore[no-untyped-def]
    from evidencebot.sim.gateway import running_gateway

    with running_gateway() as busy:
        r = cli("sim-gateway", "--port", str(busy) if port == "BUSY" else port)
        j = cli("--json", "sim-gateway", "--port", str(busy) if port == "BUSY" else port)
    assert r.code == 2 and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 2 and r.err.splitlines()[1].startswith("Fix: ")
    said = f"cannot listen on 127.0.0.1:{busy}" if port == "BUSY" else "not a port (0-65535)"
    assert r.err.startswith("evidencebot: error: sim-gateway: ") and said in r.err
    # with --json, the error object every command prints (a newcomer found none)
    doc = json.loads(j.out)
    assert (j.code, doc["schema"], doc["error"]["exit_code"]) == (2, "evidencebot.sim-gateway/1", 2)
    assert said in doc["error"]["message"]
    import jsonschema
    from test_json_contract import schema_of

    jsonschema.validate(doc, schema_of(cli, "sim-gateway"))


def test_ctrl_c_while_a_command_is_still_being_imported_is_aborted_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by an adversary: Ctrl-C in a command's first tens of milliseconds (its modules
    still loading, before its own handling) printed a traceback, once with exit 1, the
    exit of a policy violation. The executable says "aborted" and exits 130 there too."""
    import types

    from evidencebot.__main__ import main

    class Loading(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            raise KeyboardInterrupt  # (Ctrl-C while `from .cli import main` runs)

    monkeypatch.setitem(sys.modules, "evidencebot.cli", Loading("evidencebot.cli"))
    assert main(["status"]) == 130
    assert capsys.readouterr().err == "\nevidencebot: error: aborted\n"


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGHUP"), reason="POSIX signals")
def test_a_stop_the_caller_ignores_stays_ignored_and_the_others_interrupt() -> None:
    """Under `nohup` SIGHUP is ignored: a closed terminal must not stop a run started so.
    SIGTERM, left to its default, interrupts as Ctrl-C does (the executable and `run`)."""
    import signal

    from evidencebot.__main__ import _stops_interrupt
    from evidencebot.runbook.stops import interrupts

    before = {s: signal.getsignal(s) for s in (signal.SIGHUP, signal.SIGTERM)}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with interrupts():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # (put back after)
        _stops_interrupt()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def test_the_wrapper_starts_without_what_would_run_code_from_elsewhere() -> None:
    """Found by adversaries: BASH_ENV, then SHELLOPTS with PS4 (bash runs $PS4 under
    xtrace), GIT_CONFIG_* (a core.fsmonitor command for the wrapper's git), OPENSSL_CONF
    (a provider module) each ran code the reviewed checkout does not hold."""
    from evidencebot.runbook.process import wrapper_environment

    given = {"PATH": "/usr/bin", "HOME": "/home/op", "LANG": "C.UTF-8", "IBKR_TOKEN": "x",
             "PYTHONIOENCODING": "utf-8", "PYTHONPATH": "/elsewhere", "pythonpath": "/x",
             "BASH_ENV": "/rc", "SHELLOPTS": "xtrace", "PS4": "$(evil)",
             "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor",
             "OPENSSL_CONF": "/evil.cnf", "BASH_FUNC_python3%%": "() { :; }",
             "LD_PRELOAD": "/evil.so", "NODE_OPTIONS": "--require /evil.js",
             "GIT_EXEC_PATH": "/evil", "GIT_AUTHOR_NAME": "Op", "GIT_COMMON_DIR": "/evil",
             "GIT_TEMPLATE_DIR": "/evil-hooks"}
    assert wrapper_environment(given) == {
        "PATH": "/usr/bin", "HOME": "/home/op", "LANG": "C.UTF-8", "IBKR_TOKEN": "x",
        "PYTHONIOENCODING": "utf-8", "GIT_AUTHOR_NAME": "Op", "PYTHONNOUSERSITE": "1"}


@pytest.mark.parametrize("args", [["explain", "scope"], ["--help"]])
def test_a_reader_gone_from_the_pipe_is_no_policy_violation(args: list[str]) -> None:
    """Found by a newcomer: `verify | true` exited 1, the code of evidence refused. A
    reader gone from the pipe is exit 141 (a shell's for SIGPIPE), nothing said."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "evidencebot", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # (the reader gone before a byte is read)
    err = proc.stderr.read()
    assert (proc.wait(), err) == (141, b"")


@pytest.mark.skipif(sys.platform == "win32", reason="closes a descriptor before exec")
@pytest.mark.parametrize("args", [["status"], ["history"], ["--json", "history"], ["next"]])
def test_a_closed_stdout_is_written_to_nowhere(trading_repo: Path, cli, pinned_now: str,  # type: ignore[no-untyped-def]
                                               args: list[str]) -> None:
    """Newcomer 16: a launcher that closes fd 1 (`evidencebot status >&-`) got a traceback
    (sys.stdout is None); `run` stopped so before its session. What would be printed goes
    nowhere, and the command does what it does."""
    import os

    from conftest import record_run

    record_run(cli, trading_repo, 9)
    proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(trading_repo),
                           *args], stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1),
                          env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    assert (proc.returncode, proc.stderr) == (0, b"")
