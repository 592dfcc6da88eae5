"""`explain trailers` and `explain scope`: the contract, printed from the installed package
(the tables the hook and verify judge with, not a copy of a document)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from .app import State, cli, json_option, pass_state

TOPICS = ("trailers", "scope")


def trailer_rows() -> list[dict[str, Any]]:
    """Every trailer of the contract: on which kinds it is required or optional, its form."""
    from ..evidence import trailers as t

    rows = []
    for key, form in t.FORMS.items():
        required = [k for k in t.KINDS if key in t.REQUIRED[k]]
        optional = [k for k in t.KINDS if key in t.OPTIONAL[k]]
        if key in t.METRIC_KEYS:  # required once the run produced a report
            optional.remove("step1a-burnin")
            required.append(f"step1a-burnin ({', '.join(t.REPORTED)})")
        rows.append({"key": key, "required_on": required, "optional_on": optional,
                     "form": form})
    return rows


def _on(row: dict[str, Any], kinds: Sequence[str]) -> str:
    req, opt = row["required_on"], row["optional_on"]
    if len(req) == len(kinds):
        return "every ops commit"
    parts = [", ".join(req)] if req else []
    if opt:
        parts.append(f"optional: {', '.join(opt)}")
    return "; ".join(parts)


def scope_rows() -> dict[str, list[dict[str, str]]]:
    from ..guard.catalog import SCOPE_RULES
    from ..ledger.catalog import VERIFY_RULES

    return {"scope": [r._asdict() for r in SCOPE_RULES],
            "verify": [r._asdict() for r in VERIFY_RULES]}


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned columns, the last one wrapped to the terminal (COLUMNS honoured when piped)
    under its own start; where even that leaves it too narrow, the last column goes on the
    lines below its row. Regular expressions are never split."""
    import shutil
    import textwrap

    width = shutil.get_terminal_size((100, 24)).columns
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    indent = sum(widths) + 2 * len(widths)
    stacked = width - indent < 32
    if stacked:
        indent = 4
    out = []
    for r in rows:
        head = "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  "
        tail = textwrap.wrap(r[-1], max(width - indent, 24), break_long_words=False,
                             break_on_hyphens=False)
        if stacked and len(head.rstrip()) > width:  # even the first columns: one a line
            out += [r[0], *(" " * indent + c for c in r[1:-1]), *(" " * indent + t for t in tail)]
        elif stacked:
            out += [head.rstrip(), *(" " * indent + t for t in tail)]
        else:
            out.append((head + (tail[0] if tail else "")).rstrip())
            out += [" " * indent + more for more in tail[1:]]
    return out


def _rules(rows: Sequence[dict[str, str]]) -> list[str]:
    """Rules grouped by what they look at, each group a table of id and check."""
    out: list[str] = []
    pad = max(len(r["id"]) for r in rows)
    for scope in dict.fromkeys(r["scope"] for r in rows):
        out += ["", f"{scope}:", *_table([(f"  {r['id']:<{pad}}", r["checks"])
                                          for r in rows if r["scope"] == scope])]
    return out


@cli.command()
@click.argument("topic", type=click.Choice(TOPICS), metavar="TOPIC")
@json_option
@pass_state
def explain(state: State, topic: str) -> int:
    """Print the contract from the installed package: `trailers` (every trailer, on which
    Evidence-Kind, its form) or `scope` (every scope rule and verify check by id)."""
    from ..evidence.trailers import KINDS

    if topic == "trailers":
        rows = trailer_rows()
        if state.as_json:
            from .contract import ExplainOut

            state.emit(ExplainOut(topic="trailers", kinds=list(KINDS), trailers=rows))
            return 0
        import shutil
        import textwrap

        click.echo(textwrap.fill(
            "An ops commit message ends with one trailer block (its last paragraph) of "
            "`Key:\0value` lines; Evidence-Kind says which trailers it needs. No line in the "
            "message starts with '---' and then a space, a tab or its end (git's divider: "
            "interpret-trailers reads no trailer after one).",
            min(shutil.get_terminal_size((100, 24)).columns, 88),
            break_on_hyphens=False).replace("\0", " ") + "\n")  # (\0: a space kept)
        click.echo("\n".join(_table([("TRAILER", "ON", "FORM (regular expression)"),
                                     *((r["key"], _on(r, KINDS), r["form"]) for r in rows)])))
        return 0
    groups = scope_rows()
    if state.as_json:
        from .contract import ExplainOut

        state.emit(ExplainOut(topic="scope", **groups))
        return 0
    click.echo("Scope rules: what an ops commit may change. The hook, verify and every ops\n"
               "commit evidencebot makes judge it with the same code; a violation names\n"
               "its rule id.")
    click.echo("\n".join(_rules(groups["scope"])))
    click.echo("\n`evidencebot verify` also re-derives the evidence from committed files "
               "alone:")
    click.echo("\n".join(_rules(groups["verify"])))
    return 0
