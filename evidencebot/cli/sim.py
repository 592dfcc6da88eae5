"""`sim-gateway` and `demo`: the simulated IB Gateway and the whole flow on it."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .app import State, cli, json_option, pass_state, run


@cli.command("sim-gateway", context_settings={"ignore_unknown_options": True,
                                              "allow_extra_args": True,
                                              "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_state
def sim_gateway(state: State, args: tuple[str, ...]) -> int:
    """A simulated TWS / IB Gateway on 127.0.0.1 speaking the real socket protocol (real
    ib_async connects to it). Options: `evidencebot sim-gateway --help`."""
    from ..sim.gateway import main

    if state.as_json:
        args = ("--json", *args)
        state.seen["emitted"] = True  # the gateway prints its own object
    return main(list(args))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path),
                default=Path("evidencebot-demo"))
@click.option("--force", is_flag=True, help="Replace an earlier demo in DIRECTORY.")
@json_option
@pass_state
def demo(state: State, directory: Path, force: bool) -> int:
    """The whole flow in a throwaway repository (default ./evidencebot-demo) with the
    simulated IB Gateway: checks, a non-qualifying run, a held client id, a
    market-data failure, three qualifying runs, the MO-2 closure and its merge request
    against a local bare remote that plays GitLab."""
    from ..sim.demo import run_demo

    start = time.monotonic()
    if state.as_json:  # the steps' own output is the demo's business; one object here
        import contextlib
        import io

        from .contract import DemoOut

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            repo = run_demo(directory.resolve(), force=force, say=lambda _t: None, cli=run)
        state.emit(DemoOut(directory=str(directory.resolve()), repo=str(repo),
                           seconds=round(time.monotonic() - start, 1)))
        return 0
    run_demo(directory.resolve(), force=force, say=click.echo, cli=run)
    click.echo(f"demo finished in {time.monotonic() - start:.1f} s")
    return 0
