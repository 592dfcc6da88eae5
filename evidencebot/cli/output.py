"""Human output: rich tables, CSV and the lines commands print. The rooms below return
data; only the CLI prints."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from ..evidence.history import OpsCommit
from ..textsafe import line, whole_number
from .entries import shown_outcome


def text_width() -> int | None:
    """The width to fold prose lines at: COLUMNS when set, else the terminal's; None when
    piped without COLUMNS (scripts get each line whole)."""
    raw = os.environ.get("COLUMNS", "")
    given = whole_number(raw)
    if given is not None and given >= 20:
        return given
    if sys.stdout.isatty():
        return max(os.get_terminal_size(sys.stdout.fileno()).columns, 20)
    return None


def echo_folded(text: str, *, indent: str = "  ") -> None:
    """``text`` folded at the terminal's width between words (ids, paths and commands are
    never split), continuation lines indented."""
    width = text_width()
    if width is None or len(text) <= width:
        click.echo(text)
        return
    import textwrap

    click.echo("\n".join(textwrap.wrap(text, width, subsequent_indent=indent,
                                       break_long_words=False, break_on_hyphens=False)))


HISTORY_COLUMNS = (
    "commit", "date", "kind", "run_id", "outcome", "duration_s", "filled", "data_ratio",
    "min_bars", "client_id", "disconnects", "streak", "code_dirty", "problems", "started_at",
    "reasons", "voided",
)


def history_rows(commits: Sequence[OpsCommit], voids: Mapping[str, str] | None = None,
                 reasons: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    return [history_row(c, voids or {}, reasons or {}) for c in commits]


def history_row(c: OpsCommit, voids: Mapping[str, str],
                reasons: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """One entry of `history` (its JSON and CSV keys, its table's columns); ``voids``: run
    id -> why it was voided (a voided run is marked, a void commit says why); ``reasons``:
    commit -> why it did not qualify."""
    t = c.trailers
    return {
        "commit": c.sha,
        "date": c.date,
        "started_at": c.started or None,  # when the run ran: what people read
        "kind": c.kind or "?",
        "run_id": c.run_id or t.get("Milestone", ""),
        "outcome": shown_outcome(c),
        "voided": c.is_run and c.run_id in voids,
        "duration_s": t.get("Burnin-Paper-Duration-Seconds", ""),
        "filled": t.get("Burnin-Filled-Orders", ""),
        "data_ratio": t.get("Burnin-Symbol-Data-Availability-Ratio", ""),
        "min_bars": t.get("Burnin-Min-Bars-Per-Symbol", ""),
        "client_id": t.get("Ibkr-Client-Id", ""),
        "disconnects": t.get("Ibkr-Disconnects", ""),
        "streak": t.get("Burnin-Streak", ""),
        "code_dirty": t.get("Code-Dirty", ""),
        "handoff": t.get("Handoff", ""),
        "retry_after": t.get("Retry-After", ""),
        "problems": list(c.problems),
        "reasons": list(reasons.get(c.sha, ())),
    }


def history_csv(rows: list[dict[str, Any]]) -> str:
    import csv

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_COLUMNS, extrasaction="ignore",
                       lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _inert(v) for k, v in {
            **r, "problems": "; ".join(r["problems"]), "reasons": "; ".join(r["reasons"]),
            "started_at": r["started_at"] or "",
            "voided": "true" if r["voided"] else "false"}.items()})  # (as the trailers say)
    return buf.getvalue()


def _inert(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ (a formula to Excel
    and LibreOffice, OWASP's CSV injection) gets a ' before it (found by a newcomer: a
    void's reason `=HYPERLINK(...)` came out live). Numbers are left as they are."""
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@",
                                                                     "\t", "\r") else value


_STYLE = {"qualifying": "green", "non-qualifying": "yellow", "CLOSED": "bold green"}


def history_table(rows: list[dict[str, Any]], *, title: str, width: int | None = None) -> Any:
    """The history as a table: one column per value where there is room (120 columns or
    more), else three columns — the run, its outcome, its figures — so that every value
    stays legible at 80."""
    from rich.table import Table

    narrow = (width or _width() or 160) < 120
    table = Table(title=title, title_justify="left", caption="When: a run's start; for "
                  "other commits, when they were made.", caption_justify="left")
    if narrow:
        table.add_column("Run / when / commit", overflow="fold", ratio=2)
        table.add_column("Outcome", overflow="fold", ratio=3)
        table.add_column("Figures", overflow="fold", ratio=2)
    else:
        table.add_column("Commit", no_wrap=True)
        table.add_column("When (UTC)", no_wrap=True)
        table.add_column("Run / milestone", no_wrap=True)
        table.add_column("Outcome", overflow="fold")
        for name in ("Dur s", "Fills", "Ratio", "Bars", "Id", "Disc", "Streak"):
            table.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        outcome, style = _outcome_cell(r)
        cell = f"[{style}]{safe(outcome)}[/]" if style else safe(outcome)
        when = safe((r["started_at"] or r["date"])[:16].replace("T", " "))
        if narrow:
            table.add_row(f"{safe(r['run_id'])}\n{when}\n{safe(r['commit'][:12])}", cell,
                          safe(_figures(r)))
        else:
            cells = [safe(str(v)) for v in (r["duration_s"], r["filled"], r["data_ratio"],
                                            r["min_bars"], r["client_id"], r["disconnects"],
                                            r["streak"])]
            table.add_row(safe(r["commit"][:12]), when, safe(r["run_id"]), cell, *cells)
    return table


def _outcome_cell(r: dict[str, Any]) -> tuple[str, str]:
    from ..evidence.why import short

    outcome = r["outcome"] if r["kind"] in ("step1a-burnin", "?") else (
        f"{r['kind']}: {r['outcome']}")
    style = _STYLE.get(r["outcome"], "red" if r["outcome"].startswith(
        ("failed", "refused")) else "")
    if r["reasons"] and r["kind"] == "step1a-burnin":
        outcome += f": {short(r['reasons'])}"
    if r["problems"]:
        outcome, style = "MALFORMED: " + "; ".join(r["problems"]), "bold red"
    elif r["voided"]:
        outcome += " — voided"
        style = "strike"
    elif r["handoff"]:
        outcome += f" → {r['handoff']}"
    elif r["retry_after"]:
        outcome += f" (retry {r['retry_after']})"
    return outcome, style


def _figures(r: dict[str, Any]) -> str:
    """A run's figures as one foldable cell (the narrow table)."""
    parts = [f"{r['duration_s']} s" if r["duration_s"] else "",
             f"{r['filled']} filled" if r["filled"] != "" else "",
             f"ratio {r['data_ratio']}" if r["data_ratio"] else "",
             f"{r['min_bars']} bars" if r["min_bars"] != "" else "",
             f"client {r['client_id']}" if r["client_id"] != "" else "",
             f"{r['disconnects']} disc" if r["disconnects"] not in ("", "0") else "",
             f"streak {r['streak']}" if r["streak"] else ""]
    return " · ".join(p for p in parts if p) or "—"


def _width() -> int | None:
    """COLUMNS when set (piped output included), else None."""
    import os

    columns = os.environ.get("COLUMNS", "")
    given = whole_number(columns)
    return given if given is not None and given > 0 else None


def safe(text: str) -> str:
    """Text from the history or the bot, shown as written: no escapes, no rich markup."""
    from rich.markup import escape  # rich only where a table or a progress line is drawn

    return escape(line(text))


def console(*, stderr: bool = False) -> Any:
    """A rich console: COLUMNS honoured (piped output too), else the terminal's width,
    else 160 for logs; NO_COLOR honoured."""
    import os
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = _width() or (None if stream.isatty() else 160)
    # rich reads COLUMNS and LINES itself, with int() after str.isdigit: "²" would stop it
    environ = {k: v for k, v in os.environ.items()
               if k not in ("COLUMNS", "LINES") or whole_number(v) is not None}
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width,
                   no_color=bool(os.environ.get("NO_COLOR")), _environ=environ)


def show(renderable: Any, con: Any = None) -> None:
    """Print a rich table; to a pipe or a file, lines carry no trailing spaces (rich pads a
    left-justified title or caption to the table's width)."""
    con = con or console()
    if con.is_terminal:
        con.print(renderable)
        return
    with con.capture() as captured:
        con.print(renderable)
    con.file.write("".join(ln.rstrip() + "\n" for ln in captured.get().splitlines()))
    con.file.flush()


def show_checks(pre: Any) -> None:
    from rich.table import Table

    table = Table(title="pre-run checks", title_justify="left")
    for col in ("Check", "Status", "Reason", "Fix"):
        table.add_column(col, overflow="fold")
    style = {"PASS": "green", "FAIL": "bold red", "WARN": "yellow"}
    for r in pre.results:
        table.add_row(r.name, f"[{style[r.status]}]{r.status}[/]", safe(r.reason), safe(r.fix))
    show(table)


def record_lines(result: Any) -> list[str]:
    """What a recorded run says: the outcome line first, then its reasons and notes."""
    if result.status == "unchanged":
        return [f"run {result.run_id} is already recorded ({result.record_path}); "
                "nothing added"]
    streak = (f"streak {result.streak}; the milestone was closed before it" if
              result.was_closed else f"streak {result.streak}/{result.consecutive}")
    lines = [f"recorded run {result.run_id}: {result.outcome} "
             f"(commit {result.sha[:12]}, {streak})"]  # ("4/3" read as a count gone wrong)
    if result.verdict and result.verdict.reasons:
        lines.append("  why: " + line("; ".join(result.verdict.reasons)))
    if result.verdict and result.verdict.disagreement:
        lines.append(f"  note: {line(result.verdict.disagreement)}")
    lines += [f"  note: {line(note)}" for note in result.notes]
    return lines


def check_out(pre: Any) -> Any:
    """Pre-run checks in the --json contract's shape."""
    from .contract import Check, CheckOut

    return CheckOut(ok=pre.ok, client_id=pre.client_id,
                    checks=[Check(**r.to_json()) for r in pre.results])


def record_out(ctx: Any, result: Any) -> Any:
    """`record`'s (and `run`'s) result in the --json contract's shape."""
    from .contract import RecordOut, Run, Streak, run_of_record

    s = ctx.streak()
    run = run_of_record(result.record, commit=result.sha, path=result.record_path) \
        if result.record is not None else Run(
            run_id=result.run_id, outcome=result.outcome,
            qualifying=result.outcome == "qualifying", started_at=None, finished_at=None,
            commit=result.sha, record=result.record_path, reasons=[], metrics=None,
            code_commit=None, code_dirty=None, client_id=None, disconnects=None,
            voided=False)
    return RecordOut(status=result.status, run=run,
                     streak=Streak(milestone=ctx.milestone, count=result.streak,
                                   needed=result.consecutive, closed=s.closed_by is not None),
                     commit=result.sha,
                     disagreement=result.verdict.disagreement if result.verdict else None,
                     notes=list(result.notes))


def print_record(state: Any, result: Any) -> None:
    if state.as_json:
        state.emit(record_out(state.context(), result))
        return
    for text in record_lines(result):
        click.echo(text)
    if result.status != "unchanged":
        ctx = state.context()
        said = streak_met(ctx, result)
        if said:
            click.echo(f"  {said}")
        click.echo(not_pushed(ctx))


def streak_met(ctx: Any, result: Any) -> str | None:
    """What a recorded run that met the streak says next (`record`, and `run` when it
    does not close by itself): to close, or which of the streak's runs the base's
    [qualify] of today no longer qualifies (`close` would be refused); None otherwise."""
    if result.status == "unchanged" or result.streak < result.consecutive or result.was_closed:
        return None
    from ..milestone.describe import no_longer_qualifying

    moved = no_longer_qualifying(ctx, ctx.streak().runs)
    return (f"note: {moved}; `evidencebot status` and `verify` say which" if moved else
            f"next: the streak is met: `evidencebot close {ctx.milestone}` makes the closure "
            "commit and its merge request")


def not_pushed(ctx: Any) -> str:
    """What `record` and `void` say after committing: they leave pushing to `run` and
    `close` (which rebuild on the remote's tip after a lost race), or to the operator;
    without the remote, where to add it."""
    from ..ledger.remote import no_remote, remote_url

    ops = ctx.cfg.ops
    if not remote_url(ctx.repo, ops.remote):
        return "  " + no_remote(ops.remote)
    return (f"  not pushed: `run` pushes {ops.branch} (`close` too, with a merge-request "
            f"provider), or push it now with `git push {ops.remote} {ops.branch}`")


def closure_lines(closure: Any, mr: Any, *, automatic: bool) -> list[str]:
    """What a closure says: the closure line first, then the merge request."""
    mo = closure.milestone
    if closure.status == "already-closed":
        lines = [f"{mo} is already closed (commit {(closure.sha or '')[:12]}); nothing added"]
    else:
        lead = "the streak is met: " if automatic else ""
        lines = [f"{lead}{mo} closed in {(closure.sha or '')[:12]} on runs "
                 f"{', '.join(closure.runs)}"]
    if mr.action == "written":
        lines += [mr.note] if mr.note else []
        lines += [f"merge request description written to {mr.description_file}",
                  "open the merge request with:", *(f"  {cmd}" for cmd in mr.commands)]
    else:
        lines.append(f"merge request {mr.action} ({mr.provider})"
                     + (f": {mr.url}" if mr.url else ""))
    return lines


def close_out(ctx: Any, closure: Any, mr: Any) -> Any:
    """A closure and its merge request in the --json contract's shape."""
    from .contract import CloseOut, MergeRequest, run_of_commit

    by_id = {c.run_id: c for c in ctx.history() if c.is_run}
    return CloseOut(
        status=closure.status, milestone=closure.milestone, commit=closure.sha,
        runs=[run_of_commit(by_id[r]) for r in closure.runs if r in by_id],
        description=closure.description_path,
        merge_request=MergeRequest(
            provider=mr.provider, action=mr.action, url=mr.url, push=mr.push,
            commands=list(mr.commands),
            description_file=str(mr.description_file) if mr.description_file else None))


def show_closure(state: Any, closure: Any, mr: Any, *, automatic: bool) -> None:
    if state.as_json:
        state.emit(close_out(state.context(), closure, mr))
        return
    for text in closure_lines(closure, mr, automatic=automatic):
        click.echo(text)
