"""`report`: the burn-in as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from .app import State, cli, json_option, pass_state


@cli.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Where to write the page (default: .git/evidencebot/report.html under the "
                   "git common dir, so the work tree is untouched).")
@json_option
@pass_state
def report(state: State, output: Path | None) -> int:
    """Write the burn-in as one HTML page from the ops history: the milestone's state and
    streak, a chart per metric with its threshold, every run (start time, outcome, why it
    did not count, voids struck, failures and refusals marked) with relative links to its
    record. No script, nothing fetched. Prints the page's path."""
    from ..milestone.report import write_report

    path = write_report(state.context(), output)
    if state.as_json:
        from .contract import ReportOut

        state.emit(ReportOut(path=str(path)))
    else:
        click.echo(str(path))
    return 0
