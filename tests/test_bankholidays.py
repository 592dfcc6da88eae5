"""The bank-holiday shortcut: the same answer as the `holidays` package, without importing
it once warm; rebuilt when stale or unreadable; never trusted by `verify`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import shortcut_read, shortcut_write

from evidencebot.evidence import bankholidays

CHRISTMAS = date(2026, 12, 25)


@pytest.fixture(autouse=True)
def no_store_after() -> Iterator[None]:
    yield
    bankholidays.use_store(None)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "holidays.bin"


def test_a_warm_store_answers_without_importing_holidays(store: Path) -> None:
    bankholidays.use_store(store)
    fresh = dict(bankholidays.table("UK", 2026))
    assert fresh[CHRISTMAS] == "Christmas Day" and store.is_file()
    probe = ("import sys\nfrom pathlib import Path\nfrom evidencebot.evidence import "
             f"bankholidays as b\nb.use_store(Path({str(store)!r}))\n"
             "t = b.table('UK', 2026)\nprint(sorted((d.isoformat(), n) for d, n in t.items()))\n"
             "print('holidays' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[-1] == "False"  # read from the store: the package was not imported
    assert out[0] == str(sorted((d.isoformat(), n) for d, n in fresh.items()))


@pytest.mark.parametrize("damage", ["garbage", "stale"])
def test_a_damaged_or_stale_store_is_rebuilt_with_the_true_answer(store: Path,
                                                                   damage: str) -> None:
    bankholidays.use_store(store)
    bankholidays.table("UK", 2026)
    if damage == "garbage":
        store.write_bytes(b"\x00not marshal")
    else:
        stamp, rows = shortcut_read(store)
        rows["UK|2026"] = []  # no holidays at all, under another release's stamp
        shortcut_write(store, "holidays 0.0|" + stamp, rows)
    bankholidays.use_store(store)  # a new process, as far as the in-memory cache goes
    assert bankholidays.table("UK", 2026)[CHRISTMAS] == "Christmas Day"
    assert not shortcut_read(store)[0].startswith("holidays 0.0|")


def test_without_a_store_the_package_is_asked() -> None:
    bankholidays.use_store(None)
    assert bankholidays.table("GB-ENG", 2027)[date(2027, 12, 27)].startswith("Christmas Day")


def test_a_tampered_store_fools_record_but_not_verify(trading_repo: Path, tmp_path: Path,
                                                      cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from conftest import git

    from evidencebot.sim.trading_repo import report, write_report

    monkeypatch.setenv("EVIDENCEBOT_NOW", "2026-08-31T10:00:00Z")  # a bank holiday Monday
    common = Path(git(trading_repo, "rev-parse", "--git-common-dir").strip())
    store = (trading_repo / common).resolve() / "evidencebot" / "holidays.bin"
    assert cli("--repo", trading_repo, "status").code == 0
    bankholidays.use_store(store)
    stamp = bankholidays._stamp()
    store.parent.mkdir(parents=True, exist_ok=True)
    assert stamp is not None
    shortcut_write(store, stamp, {"UK|2026": []})  # "no bank holidays"
    doc = report(finished=datetime(2026, 8, 31, 9, 40, tzinfo=UTC))
    r = cli("--repo", trading_repo, "--json", "record", write_report(tmp_path / "r.json", doc))
    assert r.code == 0 and '"outcome": "qualifying"' in r.out  # the local shortcut lied
    v = cli("--repo", trading_repo, "verify", "--range", "main..ops/evidence")
    assert v.code == 1 and "bank holiday" in v.out, v.out
