"""What every command shares, without click: `State` (the global options, the context made
when first asked for), `echo`, and `guarded`, which turns evidencebot's errors into one
line, a Fix and a documented exit code. The plain command lines (`fast`) run on these
alone; the click app (`app`) adds its parsing and answers click's own errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import EvidencebotError, GitError, MarkdownEditError
from ..textsafe import line

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path


def echo(text: str = "", *, err: bool = False) -> None:
    """``text`` and a newline on stdout (or stderr), flushed, as `click.echo` writes text
    (without importing click): nothing when the stream was closed before we started, and
    text the stream's encoding cannot hold written as UTF-8 where the stream claims ASCII,
    else with "?" for what it cannot hold. The stream is looked up at each call."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # (`>&-`: Python starts without it)
        return
    data = text + "\n"
    try:
        stream.write(data)
    except UnicodeEncodeError:  # an ASCII locale, or a path's undecodable bytes
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            raise
        import codecs

        encoding = getattr(stream, "encoding", None) or "ascii"
        if codecs.lookup(encoding).name == "ascii":
            encoding = "utf-8"
        stream.flush()
        buffer.write(data.encode(encoding, "replace"))
    stream.flush()


class State:
    """Global options, resolved lazily so `--help` and `hook` stay cheap."""

    def __init__(self, repo: Path, config: Path | None, as_json: bool) -> None:
        self.repo = repo
        self.config = config
        self.as_json = as_json
        self._ctx: Any = None
        from contextlib import ExitStack

        self.stack = ExitStack()  # closed when the command ends
        self.seen: dict[str, Any] = {}  # what `guarded` reports on an error

    def clock(self) -> datetime:
        # The demo and tests pin the clock with EVIDENCEBOT_NOW, where the base branch's
        # committed config allows it; the core never reads the clock itself.
        from datetime import UTC, datetime

        fixed = os.environ.get("EVIDENCEBOT_NOW")
        if fixed:
            from ..errors import UsageError
            from ..evidence.report import parse_instant

            if not self._pinned_allowed():
                raise UsageError("EVIDENCEBOT_NOW is set, but the base branch's config does "
                                 "not allow a pinned clock ([ops] allow_pinned_clock = "
                                 "true); unset EVIDENCEBOT_NOW")
            return parse_instant(fixed)
        return datetime.now(UTC)

    def _pinned_allowed(self) -> bool:
        # The config of the base the command judges by: verify's (--base) once it has
        # adopted its context, else the operator's context's.
        return bool(self.context().rules.ops.allow_pinned_clock)

    def top(self) -> Path:
        """The repository's top level; a usage error outside one."""
        from .. import git

        return git.top(self.repo)

    def adopt(self, ctx: Any) -> None:
        """Use ``ctx`` (verify's, built from the base branch alone) as this command's."""
        self._ctx = ctx

    def context(self) -> Any:
        if self._ctx is None:
            from .. import git
            from ..ledger.workspace import open_context

            top = self.top()
            # Every blob and ref the command reads goes through one `cat-file --batch`.
            self.stack.enter_context(git.reading(top))
            self._ctx = open_context(top, config_path=self.config, clock=self.clock)
            unheeded = self._ctx.unheeded()
            if unheeded:  # (said once, on stderr: the command goes on by the base's)
                base = self._ctx.rules.ops.base
                # (the remote's base where there is one: what was reviewed and merged)
                ref = git.short_ref(self._ctx.base_ref)
                theirs = f"{ref}'s committed config" if self._ctx.base.path is not None \
                    else f"the defaults ({ref or base} has no config committed yet)"
                then = f" and push {base}" if ref != base else ""
                echo(f"evidencebot: note: [{'], ['.join(unheeded)}] in "
                     f"{self._ctx.loaded.path.name} differ(s) from {theirs}, which is what "
                     f"counts: commit it, merge it into {base}{then} to use it", err=True)
                if "window" in unheeded:  # (a calendar no run could read, said before it counts)
                    from ..evidence.bankholidays import calendar_problem

                    bad = calendar_problem(self._ctx.loaded.config.window.holidays)
                    if bad is not None:
                        echo(f"evidencebot: note: {self._ctx.loaded.path.name}: {bad}; "
                             f"merged into {base}, it stops every check and run", err=True)
            deserted = self._ctx.deserted_branch()
            if deserted is not None:
                mine = self._ctx.cfg.ops.branch
                echo(f"evidencebot: note: [ops] branch {mine!r} in "
                     f"{self._ctx.loaded.path.name} names no branch here or at "
                     f"{self._ctx.cfg.ops.remote}, while the base's config names {deserted!r}, "
                     "which holds evidence: what is recorded now starts a second ops branch; "
                     f'set branch = "{deserted}" unless a new one is meant', err=True)
            # Bank holidays from a file beside the history cache (`verify` makes its own
            # context and asks the `holidays` package every time).
            from ..evidence.bankholidays import use_store
            from ..evidence.store import shortcut_path

            use_store(shortcut_path(top, "holidays.bin"))
        return self._ctx

    def emit(self, out: Any) -> None:
        """The command's one JSON object: ``out`` (a `contract` model) with its schema id.
        One line: machines read it, and without indent json uses its C encoder."""
        import json

        from .contract import document

        doc = document(self.seen.get("command") or "evidencebot", out)
        echo(json.dumps(doc, ensure_ascii=False))
        self.seen["emitted"] = True  # the command printed its own JSON (an error included)


def guarded(seen: dict[str, Any], args: list[str], command: Callable[[], int]) -> int:
    """``command()``'s exit code; evidencebot's errors and an interrupt said by `fail` with
    their documented exit code, never as a traceback. A reader gone from the pipe (`|
    head`) ends the command with exit 141 (a shell's for a process SIGPIPE stopped) and
    nothing more said: not 1, a policy violation (found by a newcomer: `verify | true`
    read as evidence refused)."""
    ledger = sys.modules.get("evidencebot.ledger.commit")
    if ledger is not None:  # (a caller's process that ran commands before this one)
        ledger.landed.clear()
    try:
        try:
            return command()
        except EvidencebotError as e:  # (``said``: on stderr already, by the step it ended)
            return fail(seen, args, str(e), getattr(e, "fix", ""), e.exit_code,
                        said=getattr(e, "said", False))
        except (MarkdownEditError, GitError) as e:
            return fail(seen, args, str(e), "", 2)
        except KeyboardInterrupt:  # (click's words: a blank line after the ^C, "aborted")
            echo(err=True)
            return fail(seen, args, aborted(), "", 130)
        except FileNotFoundError as e:
            # (POSIX names the missing program; Windows does not: ask PATH there)
            if e.filename == "git" or (e.filename is None and _no_git()):
                return fail(seen, args, "git is not installed, or not on PATH",
                            "install git (2.39 or later) and put it on PATH", 2)
            if not _cwd_exists():
                return fail(seen, args, "the current folder no longer exists",
                            "cd into the repository again", 2)
            return _os_error(seen, args, e)
        except BrokenPipeError:
            raise  # (below: the reader went away)
        except OSError as e:  # a read-only file system, a folder not ours, a full disk ...
            return _os_error(seen, args, e)
    except BrokenPipeError:
        _after_broken_pipe()
        return BROKEN_PIPE


BROKEN_PIPE = 141  # (128 + SIGPIPE, as a shell reports a process the signal stopped)


def aborted() -> str:
    """"aborted", and when an ops commit had landed before the stop, that it stands."""
    ledger = sys.modules.get("evidencebot.ledger.commit")  # (loaded where one can land)
    done = getattr(ledger, "landed", None)
    if not done:
        return "aborted"
    branch, sha = done[-1]
    return (f"aborted after the evidence was committed: {branch} is at {sha[:12]}, and "
            "stands (`evidencebot status` shows it; what came after it did not run)")


def _os_error(seen: dict[str, Any], args: list[str], e: OSError) -> int:
    """A file evidencebot could not read or write, said as git says it: the path and the
    system's reason. Evidence is written by one ref update at the end, so nothing half
    written is left."""
    where = f"{e.filename}: " if e.filename is not None else ""
    return fail(seen, args, f"{where}{e.strerror or e}", "check that this folder (and the "
                "repository's .git folder) exists and can be written; then run it again", 2)


def _no_git() -> bool:
    import shutil

    return shutil.which("git") is None


def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:  # (removed, or moved away, while a shell stood in it)
        return False
    return True


def _after_broken_pipe() -> None:
    """A stream whose reader went away writes to the null device from now on, so that the
    interpreter's last flush at exit does not fail on it again."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except OSError:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):  # no file descriptor (a test's capture)
                pass


def fail(seen: dict[str, Any], args: list[str], message: str, fix: str, code: int, *,
         said: bool = False) -> int:
    """One line on stderr (`evidencebot: error: …`, then `Fix: …`) unless ``said``; under
    --json also `{"schema", "error": {"message", "fix", "exit_code"}}` on stdout. ``code``."""
    message, fix = line(message), line(fix)
    if not said:
        echo(f"evidencebot: error: {message}", err=True)
        if fix:
            echo(f"Fix: {fix}", err=True)
    state = seen.get("state")
    if (state.as_json if state is not None else "--json" in args) and \
            not seen.get("emitted"):
        import json

        command = seen.get("command") or "evidencebot"
        echo(json.dumps({"schema": f"evidencebot.{command}/1", "error": {
            "message": message, "fix": fix or None, "exit_code": code}}, ensure_ascii=False))
    return code
