"""Plain command lines run without click. `evidencebot [--repo DIR] [--config FILE] [--json]
verify [--range A..B] [--base BRANCH] [--require-signed] [--json]`, as CI runs it, is read
here and run on `state` alone: importing click and parsing through it cost such a run
about 8 ms. Anything else (help, a typo, an abbreviation, `--`, a value that looks like
an option, a path click would refuse, shell completion) is not read here: the click app
reads it and answers. tests/test_fast.py holds every plain reading to click's.
`evidencebot --help` alone is written here too (`page`), as click writes it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .state import State, guarded
from .verifying import verify

# The options each plain line may hold, by their parameter names in the click app:
# (options that take a value, flags). "" is the group's own (before the command).
OPTIONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "": ({"--repo": "repo", "--config": "config"}, {"--json": "as_json"}),
    "verify": ({"--range": "range_", "--base": "base"},
               {"--require-signed": "require_signed", "--json": "as_json"}),
}
# Folders and files that click.Path would refuse (the group's --repo takes a folder,
# --config a file): (file allowed, folder allowed).
_PATHS = {"repo": (False, True), "config": (True, False)}


class Plain(NamedTuple):
    command: str
    group: dict[str, Any]  # repo, config, as_json
    params: dict[str, Any]  # the command's, as_json excepted


def parse(argv: Sequence[str]) -> Plain | None:
    """``argv`` read as click reads it, when it is a plain line (see above); else None."""
    if "_EVIDENCEBOT_COMPLETE" in os.environ:  # click's shell completion
        return None
    group: dict[str, Any] = {"repo": ".", "config": None, "as_json": False}
    command, read = "", group  # the options read so far: the group's, then the command's
    args = iter(argv)
    for arg in args:
        values, flags = OPTIONS[command]
        name, eq, value = arg.partition("=")
        if name in values:
            if not eq:
                value = next(args, "")
            if not value or value.startswith("-"):
                return None
            read[values[name]] = value
        elif arg in flags:
            read[flags[arg]] = True
        elif not command and arg and arg in OPTIONS:
            command = arg
            values, flags = OPTIONS[command]
            read = {key: None for key in values.values()} | {key: False for key in flags.values()}
        else:
            return None
    params = read
    if not command or not all(_path_taken(group[k], *_PATHS[k]) for k in _PATHS):
        return None
    if params.pop("as_json"):  # --json after the command is the group's
        group["as_json"] = True
    return Plain(command, group, params)


def _path_taken(value: str | None, file_ok: bool, dir_ok: bool) -> bool:
    """Whether click.Path(file_okay, dir_okay) takes ``value`` as it is: a path that does
    not exist, or one of the right kind that can be read."""
    if value is None:
        return True
    import stat

    try:
        mode = os.stat(value).st_mode
    except OSError:
        return True
    except ValueError:  # a NUL in it: click's answer, whatever it is
        return False
    if (stat.S_ISREG(mode) and not file_ok) or (stat.S_ISDIR(mode) and not dir_ok):
        return False
    return os.access(value, os.R_OK)


def run(argv: Sequence[str]) -> int | None:
    """The exit code of ``argv`` run without click; None when it is no plain line."""
    if list(argv) in (["--help"], ["-h"]) and "_EVIDENCEBOT_COMPLETE" not in os.environ:
        from .page import help_page

        def page() -> int:
            sys.stdout.write(help_page() + "\n")  # (what click echoes)
            sys.stdout.flush()
            return 0
        return guarded({}, list(argv), page)  # (a reader gone from the pipe: exit 141)
    plain = parse(argv)
    if plain is None:
        return None
    from pathlib import Path

    config = plain.group["config"]
    state = State(Path(plain.group["repo"]), Path(config) if config is not None else None,
                  plain.group["as_json"])
    state.seen = {"state": state, "command": plain.command}

    def command() -> int:
        with state.stack:
            return RUN[plain.command](state, **plain.params)

    return guarded(state.seen, list(argv), command)


RUN: dict[str, Callable[..., int]] = {"verify": verify}  # each plain command's body
