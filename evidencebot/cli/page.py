"""`evidencebot --help` without click: the group's page as click writes it, from the words
the click app is built from (`COMMANDS`, `ABOUT`, the options' help). Importing click
is about half of a help page's time; tests/test_fast.py holds this page to click's at
every width. Nothing here imports click."""

from __future__ import annotations

import os
import sys

# Every command: the module under evidencebot.cli that defines it, and its line in
# `evidencebot --help`. As pip keeps its commands: a command's module is imported when
# that command runs, so `--help` and each command pay for no other (tests/test_layout.py
# holds this table to the commands the modules define).
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

ABOUT = """\
Run the Step 1A burn-in of a UK paper-trading bot and keep its evidence in git.

Every evidence update is a commit on the ops branch (default ops/evidence) carrying the
run's metrics as trailers, so `git log` is the burn-in history. Exit codes: 0 done,
1 policy violation, 2 bad input or config (nothing written), 3 a pre-run check failed,
4 the run failed (classified and recorded), 130 stopped (Ctrl-C, SIGTERM: a session
under way is recorded as a code failure)."""

REPO_HELP = "The trading bot's repository."
CONFIG_HELP = ("Config file (default: evidencebot.toml, else [tool.evidencebot] in "
               "pyproject.toml, else the runbook's defaults). A local file: the rules that "
               "count are the base branch's, read from the root of its tree.")
JSON_HELP = "Print one JSON document on stdout."
MAX_WIDTH = 100  # the group's max_content_width

# The group's options as click lists them (its metavars, its default, its own two).
_OPTIONS = (("--repo DIRECTORY", f"{REPO_HELP}  [default: .]"),
            ("--config FILE", CONFIG_HELP),
            ("--json", JSON_HELP),
            ("--version", "Show the version and exit."),
            ("-h, --help", "Show this message and exit."))


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


def text_width(max_width: int | None = None) -> int:
    """How wide click's formatter writes a page (`app.HelpFormatter` measures the same)."""
    return max(min(columns(), max_width or 80) - 2, 50)


def help_page() -> str:
    """`evidencebot --help` as click writes it (its `HelpFormatter` with `write_usage`,
    `write_text` and `write_dl`, for plain ASCII text)."""
    width = text_width(MAX_WIDTH)
    out = [_wrap("[OPTIONS] COMMAND [ARGS]...", width, "Usage: evidencebot ",
                 " " * len("Usage: evidencebot ")), "\n",
           "\n", _paragraphs(ABOUT, width, "  "), "\n"]
    for heading, rows in (("Options", _OPTIONS),
                          ("Commands", [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])):
        out += ["\n", f"{heading}:\n", *_definitions(rows, width)]
    return "".join(out).rstrip("\n")


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> str:
    from textwrap import TextWrapper

    return TextWrapper(width, initial_indent=first, subsequent_indent=rest,
                       replace_whitespace=False).fill(text)


def _paragraphs(text: str, width: int, indent: str = "") -> str:
    """click's `wrap_text(preserve_paragraphs=True)`: each paragraph joined into one line
    and filled (no paragraph here is indented or marked to stay as written)."""
    paragraphs = [" ".join(p.splitlines()) for p in text.expandtabs().split("\n\n") if p]
    return "\n\n".join(_wrap(p, width, indent, indent) for p in paragraphs)


def _definitions(rows: list[tuple[str, str]] | tuple[tuple[str, str], ...],
                 width: int, indent: int = 2) -> list[str]:
    """click's `write_dl`: terms in a column up to 30 wide, then two spaces, each text
    filled in what is left (a longer term gets its text on the next line)."""
    first_col = min(max(len(term) for term, _text in rows), 30) + 2
    out = []
    for term, text in rows:
        out.append(" " * indent + term)
        if len(term) <= first_col - 2:
            out.append(" " * (first_col - len(term)))
        else:
            out.append("\n" + " " * (first_col + indent))
        lines = _paragraphs(text, max(width - first_col - 2, 10)).splitlines()
        out.append(lines[0] + "\n")
        out += [" " * (first_col + indent) + line + "\n" for line in lines[1:]]
    return out
