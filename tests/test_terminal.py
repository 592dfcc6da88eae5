"""What people read in a terminal: `history` legible at 80 columns (COLUMNS honoured when
piped, every value shown, no line longer than the width), wide tables where there is room,
NO_COLOR honoured."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evidencebot.sim.trading_repo import report, write_report

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


@pytest.fixture
def recorded(trading_repo: Path, tmp_path: Path, cli, pinned_now: str) -> Path:  # type: ignore[no-untyped-def]
    for n, filled in enumerate((0, 2, 3)):
        doc = report(finished=NOW - timedelta(minutes=45 * (6 - n)), filled=filled)
        assert cli("--repo", trading_repo, "record",
                   write_report(tmp_path / f"r{n}.json", doc)).code == 0
    return trading_repo


@pytest.mark.parametrize("columns", [80, 100])
def test_history_is_legible_in_narrow_terminals(recorded: Path, cli, columns: int,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    r = cli("--repo", recorded, "history")
    assert r.code == 0
    lines = r.out.splitlines()
    assert max(len(x) for x in lines) <= columns
    columns_text = columns_of(lines)
    entries = json.loads(cli("--repo", recorded, "--json", "history").out)["entries"]
    for e in entries:
        assert e["run_id"][:10] in columns_text[0]  # the run, however its cell folds
        assert f"{e['filled']} filled" in columns_text[2]
        assert f"ratio {e['data_ratio']}" in columns_text[2]
    assert "0 filled orders < 1" in columns_text[1]  # why it did not qualify


def columns_of(lines: list[str]) -> list[str]:
    """Each column's text, its lines read top to bottom (a folded value reads whole)."""
    rows = [x.strip("│").split("│") for x in lines if x.startswith("│")]
    width = max(len(r) for r in rows)
    return [" ".join(" ".join(r[k].split()) for r in rows if len(r) == width)
            for k in range(width)]


def test_wide_terminals_get_a_column_per_value(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    r = cli("--repo", recorded, "history")
    header = next(x for x in r.out.splitlines() if "Fills" in x)
    assert all(name in header for name in ("Dur s", "Ratio", "Bars", "Streak"))
    assert max(len(x) for x in r.out.splitlines()) <= 160


def test_no_color_means_no_escape_sequences(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    for args in (["history"], ["status"], ["check", "--now", "2026-11-28T10:00:00Z"]):
        r = cli("--repo", recorded, *args)
        assert "\x1b[" not in r.out + r.err, args


@pytest.mark.parametrize("command", [["next"], ["status"], ["run", "--dry-run"]])
def test_prose_folds_at_columns_and_stays_whole_when_piped(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                            command: list[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    whole = cli("--repo", recorded, *command)
    monkeypatch.setenv("COLUMNS", "60")
    folded = cli("--repo", recorded, *command)
    assert folded.code == whole.code

    def said(out: str) -> list[str]:  # the prose (a table's lines aside), indented or not
        return [x for x in out.splitlines() if x and (x[:1] not in "┏┃┡│└━ " or
                                                       x.startswith("  "))]

    prose = said(whole.out)
    assert max(len(x) for x in prose) > 60  # something to fold
    narrow = said(folded.out)
    # Only a word too long for any line (an absolute path) runs past the width.
    assert all(len(x) <= 60 or len(x.split()) == 1 for x in narrow)
    # Folding only moves line breaks: the words read the same.
    assert " ".join(" ".join(narrow).split()) == " ".join(" ".join(prose).split())


def test_every_help_page_fits_80_columns(cli, capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from evidencebot.cli.app import every_command

    monkeypatch.setenv("COLUMNS", "80")
    every = every_command()
    commands = [[]] + [[name] for name in every]
    commands += [[name, sub] for name, cmd in every.items()
                 if isinstance(cmd, click.Group) for sub in cmd.commands]
    wide = {}
    for args in commands:
        try:
            r = cli(*args, "--help")
            out, code = r.out, r.code
        except SystemExit as e:  # the argparse passthroughs (sim-gateway) exit after help
            out, code = capsys.readouterr().out, e.code
        assert code == 0 and "--help" in out, args
        wide.update({" ".join(args): x for x in out.splitlines() if len(x) > 80})
    assert len(commands) > 15 and wide == {}


@pytest.mark.parametrize("given", [None, "120", "0", "-3", "wide", "61"])
def test_help_is_as_wide_as_shutil_measures_the_terminal(given: str | None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`page.columns` stands in for `shutil.get_terminal_size` (not imported for help)."""
    import shutil

    from evidencebot.cli.page import columns

    if given is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", given)
    assert columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("columns", ["\u00b2", "\u0661\u0662\u0660", "-5", "wide"])
def test_a_columns_value_that_is_no_width_is_ignored(recorded: Path, cli,  # type: ignore[no-untyped-def]
                                                      columns: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    plain = cli("--repo", recorded, "history")
    monkeypatch.setenv("COLUMNS", columns)  # ("²" passes str.isdigit; int() refuses it)
    monkeypatch.setenv("LINES", columns)  # (rich reads it too)
    r = cli("--repo", recorded, "history")
    assert (r.code, r.out) == (0, plain.out)
