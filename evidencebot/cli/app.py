"""The click app: global options, the shared `State`, `--json` anywhere, and `run`, which maps
errors to the documented exit codes. The commands register themselves on `cli`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import __version__
from ..errors import EvidencebotError
from ..textsafe import line

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

# `--help` imports click and this module and no more: json, pathlib and datetime are
# imported where a command needs them.

F = TypeVar("F", bound=Callable[..., Any])

# Every command: the module under evidencebot.cli that defines it, and its line in
# `evidencebot --help`. As pip keeps its commands: a command's module is imported when
# that command runs, so `--help` and each command pay for no other (tests/test_layout.py holds
# this table to the commands the modules define).
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("run", "The pre-run checks as a table; nothing run or written."),
    "close": ("close", "Close a milestone: closure commit and merge request."),
    "context": ("read", "What the runbook loads before a run."),
    "demo": ("sim", "The whole flow, throwaway repo, simulated gateway."),
    "explain": ("explain", "The contract: every trailer, every scope rule."),
    "history": ("read", "The burn-in history: every ops commit, newest first."),
    "hook": ("hook", "Hook entry points: pre-commit scope guard, commit-msg."),
    "init": ("setup", "Write a commented evidencebot.toml (and a CI job)."),
    "install-hooks": ("setup", "Install git hooks without the pre-commit framework."),
    "next": ("schedule", "The next start whose whole run fits the window."),
    "notify": ("notify", "Notifications through apprise: send a test message."),
    "record": ("record", "Record a burn-in report as one ops commit."),
    "report": ("report", "The burn-in as one HTML page from the ops history."),
    "run": ("run", "Run the burn-in and record it: checks, wrapper, commit."),
    "schedule": ("schedule", "The schedule for `evidencebot run` on window days."),
    "schema": ("schema", "The JSON Schema of a command's --json output."),
    "sim-gateway": ("sim", "A simulated TWS / IB Gateway on 127.0.0.1."),
    "status": ("read", "Milestones and streaks, e.g. MO-2: 2/3."),
    "verify": ("verify", "CI check from committed evidence only."),
    "void": ("void", "Void a recorded run: one ops commit, never counted again."),
}


def columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` gives it ($COLUMNS, else the
    terminal's, else 80), without importing shutil (2 ms of every help page)."""
    try:
        wanted = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        wanted = 0
    if wanted > 0:
        return wanted
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, or not a terminal
        return 80


class HelpFormatter(click.HelpFormatter):
    """click's, as wide as click makes it, measured by `columns`."""

    def __init__(self, indent_increment: int = 2, width: int | None = None,
                 max_width: int | None = None) -> None:
        from click import formatting

        if width is None:
            width = formatting.FORCED_WIDTH
        if width is None:
            width = max(min(columns(), max_width or 80) - 2, 50)
        super().__init__(indent_increment, width, max_width)


class Context(click.Context):
    formatter_class = HelpFormatter


class Command(click.Command):
    context_class = Context


class LazyGroup(click.Group):
    """A group whose commands are imported when asked for (`COMMANDS`); they and it
    measure help pages with `columns`."""

    context_class = Context
    command_class = Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS.keys() | self.commands.keys())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            import importlib

            # an unknown name (a typo) loads them all: click's "did you mean" reads the
            # commands it holds
            for module in {COMMANDS[cmd_name][0]} if cmd_name in COMMANDS else \
                    {module for module, _line in COMMANDS.values()}:
                importlib.import_module(f"{__package__}.{module}")
        return super().get_command(ctx, cmd_name)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """(What `@cli.command()` calls.) A command's line is its line in `COMMANDS`
        everywhere, completion included, not its docstring cut short."""
        super().add_command(cmd, name)
        line = COMMANDS.get(name or cmd.name or "")
        if line is not None:
            cmd.short_help = line[1]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list in `--help`, from `COMMANDS`: no command module imported for it."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


def every_command() -> dict[str, click.Command]:
    """Every command, its module imported (what the tests hold to `COMMANDS`)."""
    ctx = click.Context(cli)
    return {name: cmd for name in cli.list_commands(ctx)
            if (cmd := cli.get_command(ctx, name)) is not None}


class State:
    """Global options, resolved lazily so `--help` and `hook` stay cheap."""

    def __init__(self, repo: Path, config: Path | None, as_json: bool) -> None:
        self.repo = repo
        self.config = config
        self.as_json = as_json
        self._ctx: Any = None
        from contextlib import ExitStack

        self.stack = ExitStack()  # closed when the command ends (see `run`)
        self.seen: dict[str, Any] = {}  # what `run` reports on an error

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


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--repo", type=click.Path(file_okay=False), default=".",
              show_default=True, help="The trading bot's repository.")
@click.option("--config", "config", type=click.Path(dir_okay=False),
              help="Config file (default: evidencebot.toml, else [tool.evidencebot] in "
                   "pyproject.toml, else the runbook's defaults).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.version_option(__version__, prog_name="evidencebot")
@click.pass_context
def cli(ctx: click.Context, repo: str, config: str | None, as_json: bool) -> None:
    """Run the Step 1A burn-in of a UK paper-trading bot and keep its evidence in git.

    Every evidence update is a commit on the ops branch (default ops/evidence) carrying the
    run's metrics as trailers, so `git log` is the burn-in history. Exit codes: 0 done,
    1 policy violation, 2 bad input or config (nothing written), 3 a pre-run check failed,
    4 the run failed (classified and recorded).
    """
    from pathlib import Path

    seen = ctx.obj if isinstance(ctx.obj, dict) else {}
    state = State(Path(repo), Path(config) if config is not None else None, as_json)
    seen.update(state=state, command=ctx.invoked_subcommand)
    state.seen = seen
    ctx.obj = state
    ctx.call_on_close(state.stack.close)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI: one-line errors and documented exit codes, never a traceback for user
    mistakes; under --json the error is also one JSON object on stdout."""
    from ..errors import GitError, MarkdownEditError

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
        if isinstance(e, _NO_ARGS):  # `evidencebot` alone: the help page, then the error
            e.show()
            return _fail(seen, args, "no command given", "see `evidencebot --help`", 2)
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


# click 8.2 and later raise this for a group given no command (8.1 prints its help and
# exits 0); isinstance against () is False.
_NO_ARGS: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


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
        import json

        command = seen.get("command") or "evidencebot"
        click.echo(json.dumps({"schema": f"evidencebot.{command}/1", "error": {
            "message": message, "fix": fix or None, "exit_code": code}}, ensure_ascii=False))
    return code
