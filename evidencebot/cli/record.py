"""`record`: a report made by hand (or by the wrapper) as evidence."""

from __future__ import annotations

from pathlib import Path

import click

from .app import State, cli, json_option, pass_state
from .output import print_record


@cli.command()
@click.argument("report", type=click.Path(path_type=Path))
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The run's log, kept (redacted) next to the record.")
@json_option
@pass_state
def record(state: State, report: Path, log_file: Path | None) -> int:
    """Record a burn-in REPORT (made by hand or by the wrapper) as evidence: one commit
    on the ops branch with the record, the tracker row and the OPS session-log entry.

    Recording the same run again adds nothing; a different report with the same run id
    is refused. The keys a report holds (and how [report.fields] points at others): the
    README's Configuration section, with an example report."""
    from ..ledger.recorder import record_report

    ctx = state.context()
    log = None
    if log_file is not None:
        from ..defaults import MAX_LOG_BYTES
        from ..evidence.report import read_bounded

        log = read_bounded(log_file, what="log", limit=MAX_LOG_BYTES)
    print_record(state, record_report(ctx, report, log=log))
    return 0
