"""`fast`: the plain `verify` lines read without click, exactly as click reads them."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot.cli import fast
from evidencebot.cli.app import _json_first, cli

Reading = tuple[str, str | None, bool, dict[str, Any]]  # repo, config, --json, the params


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("fast")
    (root / "folder").mkdir()
    (root / "file.toml").write_text("", encoding="utf-8")
    return {"folder": str(root / "folder"), "file": str(root / "file.toml"),
            "missing": str(root / "missing")}


@contextlib.contextmanager
def _recording(target: dict[str, Any], name: str) -> Iterator[list[Reading]]:
    """Swap ``target[name]`` (a verify body) for one that records what it was given."""
    seen: list[Reading] = []
    real = target[name]

    def record(state: Any, range_: str | None, base: str | None, require_signed: bool) -> int:
        seen.append((str(state.repo), None if state.config is None else str(state.config),
                     state.as_json, {"range_": range_, "base": base,
                                     "require_signed": require_signed}))
        return 0

    target[name] = record
    try:
        yield seen
    finally:
        target[name] = real


def click_reads(argv: list[str]) -> Reading | None:
    """What the click app hands verify's body for ``argv``; None when click refuses it."""
    import evidencebot.cli.verify as command

    with _recording(vars(command), "verify_body") as seen, \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main(args=_json_first(list(argv)), prog_name="evidencebot",
                     standalone_mode=False, obj={})
        except (click.ClickException, click.exceptions.Exit):
            return None
    return seen[0] if seen else None


def plain_reads(argv: list[str]) -> Reading | None:
    """What `fast.run` hands verify's body for ``argv``; None when it is no plain line."""
    with _recording(fast.RUN, "verify") as seen:
        if fast.run(argv) is None:
            return None
    return seen[0]


TOKENS = ["verify", "--json", "--repo", "--config", "--range", "--base", "--require-signed",
          "-h", "--help", "--", "", "--rang", "main", "-x", "=", "--json=1", "status",
          "FOLDER", "--require-signed=yes", "--version"]
VALUES = st.sampled_from(["main..ops/evidence", "main", "a=b", "", "-x", "--json", "FOLDER",
                          "FILE", "MISSING"])


def _option(names: list[str], flags: list[str]) -> st.SearchStrategy[list[str]]:
    """One option as a user may write it: ``--name value``, ``--name=value``, a flag."""
    name = st.sampled_from(names)
    return st.one_of(st.tuples(name, VALUES).map(list),
                     st.tuples(name, VALUES).map(lambda nv: ["=".join(nv)]),
                     st.sampled_from(flags).map(lambda f: [f]))


# Lines of the plain form, and now and then a token from anywhere inserted into one.
LINES = st.builds(
    lambda before, after, extra: [*sum(before, []), "verify", *sum(after, [])][:extra[0]]
    + extra[1] + [*sum(before, []), "verify", *sum(after, [])][extra[0]:],
    st.lists(_option(["--repo", "--config"], ["--json"]), max_size=3),
    st.lists(_option(["--range", "--base"], ["--require-signed", "--json"]), max_size=4),
    st.tuples(st.integers(0, 8), st.lists(st.sampled_from(TOKENS), max_size=1)))


def _fill(argv: list[str], paths: dict[str, str]) -> list[str]:
    """``argv`` with FOLDER, FILE and MISSING replaced by such paths."""
    for name, path in paths.items():
        argv = [a.replace(name.upper(), path) for a in argv]
    return argv


@settings(max_examples=500, deadline=None)
@given(LINES)
def test_every_plain_reading_is_clicks(paths: dict[str, str], argv: list[str]) -> None:
    argv = _fill(argv, paths)
    plain = plain_reads(argv)
    if plain is not None:
        assert plain == click_reads(argv), argv


@pytest.mark.parametrize("argv", [
    ["verify"],
    ["--repo", "FOLDER", "verify", "--range", "main..ops/evidence", "--json"],
    ["--json", "--config=FILE", "verify", "--base=main", "--require-signed"],
    ["--repo", "MISSING", "verify", "--range", "a..b", "--range", "c..d"],
])
def test_the_lines_ci_runs_are_read_without_click(paths: dict[str, str], argv: list[str]) -> None:
    argv = _fill(argv, paths)
    plain = plain_reads(argv)
    assert plain is not None and plain == click_reads(argv)


@pytest.mark.parametrize("argv", [
    ["verify", "--help"], ["verify", "--range"], ["--repo", "FILE", "verify"],
    ["--config", "FOLDER", "verify"], ["verify", "--"], ["verify", "--range", "-x"],
    ["verify", "--rang", "a..b"], ["status"], [], ["--json"], ["verify", "extra"],
])
def test_anything_else_goes_to_click(paths: dict[str, str], argv: list[str]) -> None:
    assert fast.parse(_fill(argv, paths)) is None


def test_shell_completion_goes_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_EVIDENCEBOT_COMPLETE", "bash_complete")
    assert fast.parse(["verify"]) is None


def _default(option: click.Option) -> Any:
    """The option's declared default; None when it declares none (click 8.3 and later
    say so with a sentinel)."""
    unset = getattr(click.core, "UNSET", None)
    return None if option.default is unset else option.default


def test_the_plain_options_are_the_click_declarations() -> None:
    """`fast.OPTIONS` and `_PATHS` say what the click app declares: the same option names
    for the same parameters, flags as flags, one value each, no environment variable, the
    same defaults, and the same kinds of path."""
    import evidencebot.cli.verify  # noqa: F401  (registers the command)

    ctx = click.Context(cli)
    for command, (values, flags) in fast.OPTIONS.items():
        declared = cli if not command else cli.get_command(ctx, command)
        assert declared is not None
        options = [p for p in declared.params if isinstance(p, click.Option)]
        by_name = {name: p for p in options for name in p.opts}
        assert {n for n in by_name if n.startswith("--") and n != "--help"} - {"--version"} \
            == values.keys() | flags.keys(), command
        for name, param in values.items():
            o = by_name[name]
            assert (o.name, o.is_flag, o.multiple, o.nargs, o.envvar) == \
                (param, False, False, 1, None)
            assert _default(o) == {"repo": "."}.get(param), name
            if isinstance(o.type, click.Path):
                assert (o.type.file_okay, o.type.dir_okay, o.type.exists) == \
                    (*fast._PATHS[param], False)
            else:
                assert param not in fast._PATHS
        for name, param in flags.items():
            o = by_name[name]
            assert o.is_flag and _default(o) in (None, False) and o.envvar is None, name
            assert o.name in (param, "as_json_local"), name


def test_an_interrupt_is_said_the_same_either_way(monkeypatch: pytest.MonkeyPatch, cli,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    import evidencebot.cli.verify as command

    def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(fast.RUN, "verify", interrupted)
    monkeypatch.setattr(command, "verify_body", interrupted)
    plain, through_click = cli("--json", "verify"), cli("--json", "verify", "--")
    assert (plain.code, plain.out, plain.err) == \
        (through_click.code, through_click.out, through_click.err)
    assert plain.code == 130 and plain.err == "\nevidencebot: error: aborted\n"


@pytest.mark.parametrize("columns", [None, "1", "40", "52", "60", "73", "79", "80", "81", "99",
                                     "100", "101", "102", "103", "150", "wide"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_the_help_page_without_click_is_clicks(columns: str | None, flag: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`evidencebot --help` alone is written by `page`, not click: the same bytes at every
    width, and the same exit code."""
    from evidencebot.cli.app import run as run_click

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert fast.run([flag]) == 0
    plain = capsys.readouterr()
    assert run_click([flag]) == 0
    assert (plain.out, plain.err) == capsys.readouterr()
    assert plain.out.startswith("Usage: evidencebot [OPTIONS] COMMAND [ARGS]...\n")


def test_help_is_written_without_importing_click(tmp_path: Path) -> None:
    from test_layout import imported

    assert imported("evidencebot.cli", ["--help"], ["click"], tmp_path) == ([], 0)
    assert imported("evidencebot.cli", ["--repo", ".", "--help"], ["click"], tmp_path) == \
        (["click"], 0)  # (anything but the plain page is click's)
