"""The click app: global options, the shared `State`, `--json` anywhere, and `run`, which maps
errors to the documented exit codes. The commands register themselves on `cli`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..errors import EvidencebotError
from ..textsafe import line

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Global options, resolved lazily so `--help` and `hook` stay cheap."""

    def __init__(self, repo: Path, config: Path | None, as_json: bool) -> None:
        self.repo = repo
        self.config = config
        self.as_json = as_json
        self._ctx: Any = None
        self.stack = ExitStack()  # closed when the command ends (see `run`)
        self.seen: dict[str, Any] = {}  # what `run` reports on an error

    def clock(self) -> datetime:
        # The demo and tests pin the clock with EVIDENCEBOT_NOW, where the base branch's
        # committed config allows it; the core never reads the clock itself.
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
            # Bank holidays from a file beside the history cache (`verify` makes its own
            # context and asks the `holidays` package every time).
            from ..evidence.bankholidays import use_store
            from ..evidence.store import shortcut_path

            use_store(shortcut_path(top, "holidays.bin"))
        return self._ctx

    def emit(self, out: Any) -> None:
        """The command's one JSON object: ``out`` (a `contract` model) with its schema id.
        One line: machines read it, and without indent json uses its C encoder."""
        from .contract import document

        doc = document(self.seen.get("command") or "evidencebot", out)
        click.echo(json.dumps(doc, ensure_ascii=False))
        self.seen["emitted"] = True  # the command printed its own JSON (an error included)


pass_state = click.make_pass_decorator(State)


def json_option(f: F) -> F:
    """`--json` after the command as well as before it."""

    @click.option("--json", "as_json_local", is_flag=True, help="Print one JSON document.")
    @wraps(f)
    def inner(*args: Any, as_json_local: bool, **kwargs: Any) -> Any:
        state = click.get_current_context().find_object(State)
        if state is not None and as_json_local:
            state.as_json = True
        return f(*args, **kwargs)

    return inner  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The trading bot's repository.")
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: evidencebot.toml, else [tool.evidencebot] in "
                   "pyproject.toml, else the runbook's defaults).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.version_option(__version__, prog_name="evidencebot")
@click.pass_context
def cli(ctx: click.Context, repo: Path, config: Path | None, as_json: bool) -> None:
    """Run the Step 1A burn-in of a UK paper-trading bot and keep its evidence in git.

    Every evidence update is a commit on the ops branch (default ops/evidence) carrying the
    run's metrics as trailers, so `git log` is the burn-in history. Exit codes: 0 done,
    1 policy violation, 2 bad input or config (nothing written), 3 a pre-run check failed,
    4 the run failed (classified and recorded).
    """
    seen = ctx.obj if isinstance(ctx.obj, dict) else {}
    state = State(repo, config, as_json)
    seen.update(state=state, command=ctx.invoked_subcommand)
    state.seen = seen
    ctx.obj = state
    ctx.call_on_close(state.stack.close)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI: one-line errors and documented exit codes, never a traceback for user
    mistakes; under --json the error is also one JSON object on stdout."""
    from ..errors import MarkdownEditError
    from ..git import GitError

    args = _json_first(list(sys.argv[1:] if argv is None else argv))
    seen: dict[str, Any] = {}
    try:
        rv = cli.main(args=args, prog_name="evidencebot", standalone_mode=False, obj=seen)
    except EvidencebotError as e:
        return _fail(seen, args, str(e), getattr(e, "fix", ""), e.exit_code)
    except (MarkdownEditError, GitError) as e:
        return _fail(seen, args, str(e), "", 2)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.UsageError as e:
        cmd = seen.get("command")
        help_ = f"evidencebot {cmd} --help" if cmd else "evidencebot --help"
        return _fail(seen, args, e.format_message(), f"see `{help_}`", 2)
    except click.ClickException as e:
        return _fail(seen, args, e.format_message(), "", 2)
    except click.exceptions.Abort:
        return _fail(seen, args, "aborted", "", 130)
    except KeyboardInterrupt:
        return _fail(seen, args, "interrupted", "", 130)
    return rv if isinstance(rv, int) else 0


def _json_first(args: list[str]) -> list[str]:
    """--json anywhere (before `--`) is the global option: `history --json` is
    `--json history`."""
    end = args.index("--") if "--" in args else len(args)
    if "--json" not in args[:end]:
        return args
    return ["--json", *[a for a in args[:end] if a != "--json"], *args[end:]]


def _fail(seen: dict[str, Any], args: list[str], message: str, fix: str, code: int) -> int:
    """One line on stderr (`evidencebot: error: …`, then `Fix: …`); under --json also
    `{"schema", "error": {"message", "fix", "exit_code"}}` on stdout."""
    message, fix = line(message), line(fix)
    click.echo(f"evidencebot: error: {message}", err=True)
    if fix:
        click.echo(f"Fix: {fix}", err=True)
    state = seen.get("state")
    if (state.as_json if state is not None else "--json" in args) and \
            not seen.get("emitted"):
        command = seen.get("command") or "evidencebot"
        click.echo(json.dumps({"schema": f"evidencebot.{command}/1", "error": {
            "message": message, "fix": fix or None, "exit_code": code}}, ensure_ascii=False))
    return code
