"""The hook reads the plain command lines git and pre-commit pass without argparse
(`hook.plain`); whatever it reads that way, argparse reads the same."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot.guard.hook import Args, parser, plain

TOKENS = ["pre-commit", "commit-msg", "--base", "--base=", "--base=dev", "main", "dev",
          "--json", "--jso", "--bas", "--json=1", "-h", "--help", "--", "-", "-x",
          "msg.txt", ".git/COMMIT_EDITMSG", "", "pre-commit2", "a b"]


def argparse_reading(argv: list[str]) -> Args | None:
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            got = parser().parse_args(argv)
        except SystemExit:
            return None
    return Args(got.hook, got.base, got.json, getattr(got, "file", None))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["pre-commit", "commit-msg", "--help", "verify"]),
       st.lists(st.sampled_from(TOKENS), max_size=6))
def test_a_plain_reading_is_argparse_s(hook: str, rest: list[str]) -> None:
    argv = [hook, *rest]
    quick = plain(argv)
    if quick is not None:
        assert quick == argparse_reading(argv), argv


def test_the_forms_git_and_pre_commit_pass_are_plain() -> None:
    assert plain(["pre-commit"]) == Args("pre-commit")
    assert plain(["pre-commit", "--base", "dev", "--json"]) == Args("pre-commit", "dev", True)
    assert plain(["commit-msg", "--base=trunk", ".git/COMMIT_EDITMSG"]) == \
        Args("commit-msg", "trunk", False, Path(".git/COMMIT_EDITMSG"))
    for other in (["--help"], ["pre-commit", "-h"], ["commit-msg"], ["pre-commit", "x"],
                  ["pre-commit", "--bas", "dev"], ["commit-msg", "--", "-f"]):
        assert plain(other) is None, other  # argparse answers these


def test_a_wrong_hook_command_line_is_one_line_and_a_fix(capsys) -> None:  # type: ignore[no-untyped-def]
    from evidencebot.guard.hook import main

    for argv in (["bogus"], ["pre-commit", "--bogus"], ["commit-msg"], []):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 2 and err[0].startswith("evidencebot: error: ") and \
            err[1] == "Fix: see `evidencebot hook --help`", (argv, err)
    assert main(["--help"]) == 0 and "pre-commit" in capsys.readouterr().out


def test_each_hook_s_help_says_what_that_hook_does(cli) -> None:  # type: ignore[no-untyped-def]
    """A newcomer's `hook pre-commit --help` repeated the `hook` group's description."""
    def said(*argv: str) -> str:
        r = cli("hook", *argv, "--help")
        assert r.code == 0, r.err
        return " ".join(r.out.split())  # (argparse folds the prose to the terminal)

    group, pre, msg = said(), said("pre-commit"), said("commit-msg")
    assert "The scope guard: judge the change staged for an ops commit" in pre
    assert "`evidencebot explain scope` lists them" in pre
    assert "Check the message FILE of an ops commit" in msg
    assert "`evidencebot explain trailers` lists for its Evidence-Kind" in msg
    assert msg.startswith("usage: evidencebot hook commit-msg [-h] [--base BRANCH] [--json] FILE")
    parent = group.split("HOOK ...", 1)[1].split("positional arguments:")[0].strip()
    assert parent.startswith("Ops commits (on branches matching")
    assert parent not in pre and parent not in msg


def test_json_before_the_hook_name_counts_as_everywhere_else(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`hook --json pre-commit` (the executable goes straight to the hook, without click's
    reading of --json) is `hook pre-commit --json`."""
    import json
    import subprocess

    from evidencebot.guard.hook import main

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for argv in (["--json", "pre-commit"], ["pre-commit", "--json"]):
        assert main(argv, repo=tmp_path) == 0, argv
        doc = json.loads(capsys.readouterr().out)
        assert (doc["hook"], doc["applies"], doc["exit_code"]) == ("pre-commit", False, 0)


def test_commit_msg_with_a_missing_file_is_one_line_and_a_fix(trading_repo: Path) -> None:
    """A newcomer got Python's errno text ("[Errno 2] ...: '/nope'") and no Fix line."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "evidencebot", "hook", "commit-msg",
                        str(trading_repo / "no-such-message")], cwd=trading_repo,
                       capture_output=True, text=True)
    assert r.returncode == 2
    first, fix = r.stderr.splitlines()
    assert first.endswith("no-such-message: No such file or directory") and "Errno" not in first
    assert fix.startswith("Fix: ")


def test_the_hook_s_base_is_a_branch_name(trading_repo: Path) -> None:
    """A review found `hook pre-commit --base main~1` judging by an older commit's rules,
    and `--base ''` by the runbook's defaults, where verify refuses both."""
    import json
    import subprocess
    import sys

    for base in ("main~1", "main^0", "", "HEAD"):
        r = subprocess.run([sys.executable, "-m", "evidencebot", "--json", "hook", "pre-commit",
                            "--base", base], cwd=trading_repo, capture_output=True, text=True)
        assert r.returncode == 2, (base, r.stdout, r.stderr)
        assert r.stderr.startswith("evidencebot: error: --base:") and "Fix: " in r.stderr
        assert json.loads(r.stdout)["ok"] is False
    ok = subprocess.run([sys.executable, "-m", "evidencebot", "hook", "pre-commit", "--base",
                         "main"], cwd=trading_repo, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_the_hook_refuses_an_ops_commit_with_no_base_to_judge_it(trading_repo: Path) -> None:
    """With its base missing (`--base develop`), the hook judged an ops commit by the
    runbook's defaults, not the base's committed rules."""
    import json
    import subprocess
    import sys

    from conftest import git

    git(trading_repo, "switch", "-q", "-c", "ops/evidence")
    (trading_repo / "SESSION_LOG.md").write_text(
        (trading_repo / "SESSION_LOG.md").read_text(encoding="utf-8") + "\nmore\n",
        encoding="utf-8")
    git(trading_repo, "add", "SESSION_LOG.md")
    hook = [sys.executable, "-m", "evidencebot", "--json", "hook", "pre-commit", "--base"]
    r = subprocess.run([*hook, "develop"], cwd=trading_repo, capture_output=True, text=True)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["applies"] is True
    assert any(p.startswith("no base branch 'develop'") and "(base-missing)" in p
               for p in doc["problems"]), doc  # (a rule on the commit: no path before it)
    named = subprocess.run([*hook, "main"], cwd=trading_repo, capture_output=True, text=True)
    assert not any("base-missing" in p for p in json.loads(named.stdout)["problems"])
