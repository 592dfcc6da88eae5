"""The commit-msg hook: the trailer block of an ops commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot.evidence.trailers import validate
from evidencebot.guard.install import install_hooks

GOOD_CHECK = ("refused\n\nEvidence-Kind: check\nCheck-Failed: window\nSession-Type: OPS\n"
              "Evidencebot-Version: 0.1.0\nConfig-Sha256: none\n")


@pytest.mark.parametrize(("message", "problem"), [
    pytest.param("x\n\nSession-Type: OPS\n", "no Evidence-Kind", id="no-kind"),
    pytest.param(GOOD_CHECK.replace("check", "chek"), "is not one of", id="unknown-kind"),
    pytest.param(GOOD_CHECK.replace("Check-Failed: window\n", ""), "missing trailer Check-Failed",
                 id="missing-key"),
    pytest.param(GOOD_CHECK.replace("OPS", "BUILD"), "Session-Type", id="bad-value"),
    pytest.param(GOOD_CHECK.replace("Session-Type: OPS\n", "Session-Type: OPS\nhello\n"),
                 "not a trailer", id="junk-in-block"),
    pytest.param(GOOD_CHECK.replace("refused\n", "refused\n---\n"), "'---'", id="triple-dash"),
    pytest.param(GOOD_CHECK + "Burnin-Filled-Orders: 2\n", "does not belong", id="foreign-key"),
    pytest.param(GOOD_CHECK + "Session-Type: OPS\n", "appears twice", id="duplicate"),
])
def test_invalid_trailer_blocks(message: str, problem: str) -> None:
    assert any(problem in p for p in validate(message)), validate(message)


def test_valid_block_has_no_problems() -> None:
    assert validate(GOOD_CHECK) == []


def test_hook_in_a_real_commit(trading_repo: Path) -> None:
    install_hooks(trading_repo, base="main", force=True)
    git(trading_repo, "switch", "-q", "-c", "ops/evidence")

    def commit(msg: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(trading_repo), "commit", "-q", "--allow-empty",
                               "-F", "-"], input=msg, capture_output=True, text=True)

    bad = commit("note without trailers\n")
    assert bad.returncode == 1 and "no Evidence-Kind trailer" in bad.stderr
    assert commit(GOOD_CHECK).returncode == 0
    # `git commit -v`: the file the hook reads holds the diff after git's scissors line
    verbose = GOOD_CHECK + ("# ------------------------ >8 ------------------------\n"
                            "# Do not modify or remove the line above.\n"
                            "diff --git a/x b/x\n+}\n")
    assert commit(verbose).returncode == 0
    git(trading_repo, "switch", "-q", "main")
    assert commit("ordinary commit on main\n").returncode == 0


def test_hook_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from evidencebot.__main__ import main

    assert main(["hook"]) == 2
    assert main(["hook", "nope"]) == 2
    assert main(["hook", "commit-msg"]) == 2
    capsys.readouterr()
    # --help is help, not a file named --help: usage on stdout, exit 0.
    assert main(["hook", "commit-msg", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: evidencebot hook commit-msg") and "--base BRANCH" in out
    assert main(["hook", "--help"]) == 0
    assert "pre-commit" in capsys.readouterr().out


@pytest.mark.parametrize("hook", ["pre-commit", "commit-msg"])
def test_a_hook_run_by_hand_outside_a_repository_says_so(tmp_path: Path, hook: str) -> None:
    """Run by hand where no repository is (git runs hooks inside one): exit 2 in one
    line and its Fix, not a traceback or git's own words."""
    (tmp_path / "msg").write_text("a message\n")
    args = [str(Path(sys.executable).parent / "evidencebot"), "hook", hook]
    proc = subprocess.run(args + (["msg"] if hook == "commit-msg" else []), cwd=tmp_path,
                          capture_output=True, text=True,
                          env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    said = proc.stderr.splitlines()
    assert said[0] == f"evidencebot: error: . ({os.path.realpath(tmp_path)}) is not inside a git repository"
    assert said[1].startswith("Fix: run it inside the trading repository's checkout")
    assert len(said) == 2


def test_install_hooks_leaves_a_foreign_hook_alone_unless_forced(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    hooks = trading_repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    r = cli("--repo", trading_repo, "install-hooks")
    assert r.code == 2 and "not written by evidencebot" in r.err
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\necho mine\n"
    forced = cli("--repo", trading_repo, "install-hooks", "--force")
    assert forced.code == 0
    script = (hooks / "pre-commit").read_text()
    assert "-m evidencebot hook pre-commit --base \"main\"" in script
    assert cli("--repo", trading_repo, "install-hooks").code == 0  # ours: replaced quietly


def test_install_hooks_force_keeps_the_hooks_it_replaces(trading_repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A newcomer's --force replaced their own pre-commit hook with no copy left."""
    import json

    hooks = trading_repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    (hooks / "pre-commit").chmod(0o750)
    (hooks / "pre-commit.before-evidencebot").write_text("an earlier copy\n")
    shared = tmp_path / "shared-commit-msg"
    shared.write_text("#!/bin/sh\necho shared\n")
    (hooks / "commit-msg").symlink_to(shared)
    refused = cli("--repo", trading_repo, "install-hooks")
    assert refused.code == 2 and "kept as pre-commit.before-evidencebot" in refused.err
    forced = cli("--repo", trading_repo, "install-hooks", "--force")
    assert forced.code == 0, forced.err
    kept = hooks / "pre-commit.before-evidencebot.1"
    assert kept.read_text() == "#!/bin/sh\necho mine\n" and kept.stat().st_mode & 0o777 == 0o750
    assert (hooks / "pre-commit.before-evidencebot").read_text() == "an earlier copy\n"
    assert (hooks / "commit-msg.before-evidencebot").readlink() == shared
    assert shared.read_text() == "#!/bin/sh\necho shared\n"  # (not written through the link)
    assert "evidencebot hook commit-msg" in (hooks / "commit-msg").read_text()
    assert f"the pre-commit hook it replaces (not evidencebot's) is kept as {kept}" in forced.out
    again = cli("--repo", trading_repo, "--json", "install-hooks", "--force")
    assert json.loads(again.out)["kept"] == {}  # ours now: replaced without a copy
    assert not (hooks / "pre-commit.before-evidencebot.2").exists()


@settings(max_examples=400, deadline=None)
@given(st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99),
                 st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)))
def test_a_real_utc_time_is_one_datetime_takes(parts: tuple[int, ...]) -> None:
    """`_real_time` says yes exactly where `datetime` builds the instant (no 24:00, no
    leap second, no 30 February), for every value of the trailer's form."""
    from datetime import datetime

    from evidencebot.evidence.trailers import _real_time

    y, mo, d, h, mi, s = parts
    value = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
    try:
        datetime(y, mo, d, h, mi, s)
        real = True
    except ValueError:
        real = False
    assert _real_time(value) is real


@pytest.mark.parametrize("line", ["---", "--- x", "---\tx", "---  ", " ---", "---x", "----",
                                  "-- -", "--- evidence(step1a): x", "---\r", "\t---", "---\v"])
@pytest.mark.parametrize("where", ["body", "subject"])
def test_the_divider_rule_is_git_s(line: str, where: str) -> None:
    """A message is refused for a '---' line exactly when git interpret-trailers stops
    there (git itself is the judge), and a body `render_message` writes never holds one."""
    from evidencebot.evidence.trailers import render_message

    trailers = GOOD_CHECK.split("\n\n", 1)[1]
    message = (f"{line}\n\nbody\n\n{trailers}" if where == "subject"
               else f"refused\n\nbody\n{line}\nmore\n\n{trailers}")
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=message.encode(),
                            capture_output=True, check=True).stdout
    git_stops = b"Evidence-Kind: check" not in parsed
    assert any("'---'" in p for p in validate(message)) is git_stops
    rendered = render_message("refused", f"body\n{line}\nmore", [("Evidence-Kind", "check")])
    assert not any("'---'" in p for p in validate(rendered))


def test_the_divider_line_is_named() -> None:
    message = f"refused\n\nbody\n--- notes\nmore\n\n{GOOD_CHECK.split(chr(10) * 2, 1)[1]}"
    assert any(p.startswith("line 4 ('--- notes') is a '---' line") for p in validate(message))


@pytest.mark.parametrize("line", ["# a note", f"# {'-' * 24} >8 {'-' * 24}", "#"])
def test_a_comment_line_in_a_committed_message_is_named(line: str) -> None:
    """git's trailer parser skips a comment line and stops at a scissors line, so the
    block git reads is not the message's last paragraph: a committed ops message holds
    none (the hook reads the message before git cleans it, comments and all, and drops
    them as git will)."""
    trailers = GOOD_CHECK.split("\n\n", 1)[1]
    message = f"refused\n\nbody\n{line}\n\n{trailers}"
    assert any(p.startswith(f"line 4 ({line[:40]!r}) starts with '#'")
               for p in validate(message)), validate(message)
    assert not validate(GOOD_CHECK)


@pytest.mark.parametrize("sep", ["\x0c", "\xa0", "\u3000", "\x0b"], ids=["ff", "nbsp", "ideographic", "vt"])
def test_a_line_git_does_not_call_blank_does_not_split_the_trailer_block(sep: str) -> None:
    """git splits paragraphs only at lines of spaces, tabs and CRs: a line of a form feed or
    a no-break space keeps two groups of trailers one block (and, with a Signed-off-by,
    git reads every trailer in it). The validator reads the same block, so the stray
    trailers before that line are judged, not skipped."""
    trailers = GOOD_CHECK.split("\n\n", 1)[1]
    message = (f"refused\n\nbody\n\nSigned-off-by: x <x@x>\nRetry-After: not-a-time\n{sep}\n"
               f"{trailers}")
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=message.encode(),
                            capture_output=True, check=True).stdout.decode()
    assert "Retry-After: not-a-time" in parsed  # git's block holds the stray trailer
    problems = validate(message)
    assert any("Retry-After" in p for p in problems) or \
        any("not a trailer" in p for p in problems), problems


def test_the_commit_msg_hook_reads_the_block_git_reads(trading_repo: Path) -> None:
    """The hook on a real `git commit`: a form-feed line between two groups of trailers
    does not split the block for the hook either (git reads them as one)."""
    install_hooks(trading_repo, base="main", force=True)
    git(trading_repo, "switch", "-q", "-c", "ops/evidence")
    trailers = GOOD_CHECK.split("\n\n", 1)[1]
    message = (f"refused\n\nbody\n\nSigned-off-by: x <x@x>\nRetry-After: not-a-time\n\x0c\n"
               f"{trailers}")
    made = subprocess.run(["git", "-C", str(trading_repo), "commit", "-q", "--allow-empty",
                           "-F", "-"], input=message.encode(), capture_output=True)
    assert made.returncode == 1, made.stderr
    assert b"Retry-After" in made.stderr or b"not a trailer" in made.stderr, made.stderr
