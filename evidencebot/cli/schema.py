"""`schema COMMAND`: the JSON Schema of a command's --json output, from the models that
make it (so it ships with the package and cannot drift from what is printed)."""

from __future__ import annotations

import json

import click

from .app import State, cli, json_option, pass_state


def _commands() -> list[str]:
    from .contract import OUTPUTS

    return sorted(OUTPUTS)


@cli.command()
@click.argument("command", metavar="COMMAND")
@json_option
@pass_state
def schema(state: State, command: str) -> int:
    """Print the JSON Schema (draft 2020-12) of COMMAND's --json output: the document it
    prints, or the {"schema", "error"} object every command prints when it fails."""
    from ..errors import UsageError
    from .contract import OUTPUTS, SchemaOut, json_schema

    if command not in OUTPUTS:
        raise UsageError(f"no --json output named {command!r}; one of: "
                         f"{', '.join(_commands())}")
    doc = json_schema(command)
    if state.as_json:
        state.emit(SchemaOut(command=command, json_schema=doc))
    else:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0
