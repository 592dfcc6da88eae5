"""The click app: global options, `--json` anywhere, and `run`, which answers click's errors
and leaves evidencebot's to `state.guarded` (one line, a documented exit code). The
commands register themselves on `cli`; `State` (from `state`) is what they are passed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click

from .. import __version__
from .page import ABOUT, COMMANDS, CONFIG_HELP, JSON_HELP, MAX_WIDTH, REPO_HELP, text_width
from .state import State, aborted, fail, guarded

__all__ = ["COMMANDS", "State", "cli", "every_command", "json_option", "pass_state", "run"]

# `--help` imports click and this module and no more: json, pathlib and datetime are
# imported where a command needs them.

F = TypeVar("F", bound=Callable[..., Any])



class HelpFormatter(click.HelpFormatter):
    """click's, as wide as click makes it, measured by `page.columns`."""

    def __init__(self, indent_increment: int = 2, width: int | None = None,
                 max_width: int | None = None) -> None:
        from click import formatting

        if width is None:
            width = formatting.FORCED_WIDTH
        if width is None:
            width = text_width(max_width)
        super().__init__(indent_increment, width, max_width)


class Context(click.Context):
    formatter_class = HelpFormatter


class Command(click.Command):
    context_class = Context


class LazyGroup(click.Group):
    """A group whose commands are imported when asked for (`COMMANDS`); they and it
    measure help pages with `page.columns`."""

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

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, and for a name that begins one command only ("sim" for sim-gateway),
        which click's spelling suggestion misses, that command named."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as e:
            word = args[0] if args else ""
            begun = [n for n in self.list_commands(ctx) if n.startswith(word)] if word else []
            if len(begun) == 1 and "Did you mean" not in e.message:
                raise click.UsageError(f"{e.message.rstrip('.')}. Did you mean "
                                       f"{begun[0]!r}?", e.ctx) from None
            raise

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


@click.group(cls=LazyGroup, help=ABOUT,  # (`page` writes the same page without click)
             context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": MAX_WIDTH})
@click.option("--repo", type=click.Path(file_okay=False), default=".",
              show_default=True, help=REPO_HELP)
@click.option("--config", "config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.version_option(__version__, prog_name="evidencebot")
@click.pass_context
def cli(ctx: click.Context, repo: str, config: str | None, as_json: bool) -> None:
    """The group: the state every command is passed (its help is `page.ABOUT`)."""
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
    args = _json_first(list(sys.argv[1:] if argv is None else argv))
    seen: dict[str, Any] = {}

    def invoke() -> int:
        try:
            rv = cli.main(args=args, prog_name="evidencebot", standalone_mode=False, obj=seen)
        except click.exceptions.Exit as e:
            return e.exit_code
        except SystemExit:  # (click's exit 1 when the reader went away, stdout pacified)
            if type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
                raise BrokenPipeError from None  # (`guarded` says it: exit 141)
            raise
        except click.UsageError as e:
            if isinstance(e, click.exceptions.NoArgsIsHelpError):  # `evidencebot` alone:
                # the help page, then the error
                e.show()
                return fail(seen, args, "no command given", "see `evidencebot --help`", 2)
            cmd = seen.get("command")
            opt = e.option_name if isinstance(e, click.NoSuchOption) else ""
            given = _group_option(opt)
            if cmd and given:
                return fail(seen, args, f"{opt} is an option of evidencebot, not of {cmd}: "
                            "it goes before the command", f"evidencebot {opt} {given} {cmd} ...",
                            2)
            help_ = f"evidencebot {cmd} --help" if cmd else "evidencebot --help"
            return fail(seen, args, e.format_message(), f"see `{help_}`", 2)
        except click.ClickException as e:
            return fail(seen, args, e.format_message(), "", 2)
        except click.exceptions.Abort:  # (an interrupt: click printed the blank line)
            return fail(seen, args, aborted(), "", 130)
        return rv if isinstance(rv, int) else 0

    return guarded(seen, args, invoke)



def _group_option(name: str) -> str:
    """The metavar of the group's own option ``name`` that takes a value ("" for none)."""
    for param in cli.params:
        if isinstance(param, click.Option) and name in param.opts and not param.is_flag:
            return param.make_metavar(click.Context(cli))  # (as --help shows it)
    return ""


def _json_first(args: list[str]) -> list[str]:
    """--json anywhere (before `--`) is the global option: `history --json` is
    `--json history`."""
    end = args.index("--") if "--" in args else len(args)
    if "--json" not in args[:end]:
        return args
    return ["--json", *[a for a in args[:end] if a != "--json"], *args[end:]]
