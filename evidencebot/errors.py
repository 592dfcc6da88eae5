"""One error type per documented exit code; the CLI maps them, nothing else does."""

from __future__ import annotations

from collections.abc import Sequence


class EvidencebotError(Exception):
    """A failure the user should see as one line, never as a traceback; ``fix``, when
    given, is the `Fix:` line said after it."""

    exit_code = 2

    def __init__(self, message: str = "", *, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class UsageError(EvidencebotError):
    """Usage, configuration or bad input (exit 2); nothing was written."""

    exit_code = 2


class PolicyViolation(EvidencebotError):
    """A scope rule, `verify` or a refused close (exit 1)."""

    exit_code = 1


class CheckFailed(EvidencebotError):
    """A pre-run check failed; nothing was run (exit 3)."""

    exit_code = 3


class RunFailed(EvidencebotError):
    """The run failed; its classification was recorded (exit 4)."""

    exit_code = 4

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result  # the failure's RecordResult, when one was recorded


class RunInterrupted(RunFailed):
    """The run was interrupted (Ctrl-C, SIGTERM) while its wrapper ran: the unfinished
    session was recorded as a failed attempt (exit 130, as for any interrupt)."""

    exit_code = 130


class MarkdownEditError(ValueError):
    """A Markdown edit that cannot be made safely (missing section, malformed table...);
    the CLI reports it as bad input (exit 2)."""


class GitError(Exception):
    """A git command exited with an unexpected code (the CLI: exit 2). Here, not in
    `git`, so that mapping it costs the CLI no subprocess import."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} exited {returncode}: {git_cause(stderr)}")


def git_cause(stderr: bytes) -> str:
    """The line of git's stderr that says what went wrong: its first "fatal:" or "error:"
    (the cause; a push's last line is advice: "and the repository exists."), else its
    last line that is no hint."""
    said = [x for x in stderr.decode("utf-8", "replace").strip().splitlines()
            if x.strip() and not x.startswith("hint:")]
    return next((x for x in said if x.startswith(("fatal:", "error:"))),
                said[-1] if said else "(no output)")
