"""Bank holidays: the shipped England and Wales table and the on-disk shortcut give the
`holidays` package's answer without importing it; the table is used only with the release
it was written from; the shortcut is rebuilt when stale or unreadable and never trusted by
`verify`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import shortcut_read, shortcut_write

from evidencebot.evidence import bankholidays

# The on-disk shortcut holds what the shipped table does not: a year after it.
YEAR = 2075
CHRISTMAS = date(YEAR, 12, 25)


@pytest.fixture(autouse=True)
def no_store_after() -> Iterator[None]:
    yield
    bankholidays.use_store(None)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "holidays.bin"


def test_a_warm_store_answers_without_importing_holidays(store: Path) -> None:
    bankholidays.use_store(store)
    fresh = dict(bankholidays.table("UK", YEAR))
    assert fresh[CHRISTMAS] == "Christmas Day" and store.is_file()
    probe = ("import sys\nfrom pathlib import Path\nfrom evidencebot.evidence import "
             f"bankholidays as b\nb.use_store(Path({str(store)!r}))\n"
             f"t = b.table('UK', {YEAR})\nprint(sorted((d.isoformat(), n) for d, n in t.items()))\n"
             "print('holidays' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[-1] == "False"  # read from the store: the package was not imported
    assert out[0] == str(sorted((d.isoformat(), n) for d, n in fresh.items()))


@pytest.mark.parametrize("damage", ["garbage", "stale"])
def test_a_damaged_or_stale_store_is_rebuilt_with_the_true_answer(store: Path,
                                                                   damage: str) -> None:
    bankholidays.use_store(store)
    bankholidays.table("UK", YEAR)
    if damage == "garbage":
        store.write_bytes(b"\x00not marshal")
    else:
        stamp, rows = shortcut_read(store)
        rows[f"UK|{YEAR}"] = []  # no holidays at all, under another release's stamp
        shortcut_write(store, "holidays 0.0|" + stamp, rows)
    bankholidays.use_store(store)  # a new process, as far as the in-memory cache goes
    assert bankholidays.table("UK", YEAR)[CHRISTMAS] == "Christmas Day"
    assert not shortcut_read(store)[0].startswith("holidays 0.0|")


def test_without_a_store_the_package_is_asked() -> None:
    bankholidays.use_store(None)
    assert bankholidays.table("GB-ENG", 2027)[date(2027, 12, 27)].startswith("Christmas Day")


def test_the_shipped_table_is_the_package_s_answer() -> None:
    """With the release it was written from, the table is what `holidays` gives for every
    year it covers; with another release, the package answers instead."""
    from evidencebot.evidence import ukbankholidays as shipped

    bankholidays.use_store(None)
    years = range(min(shipped.DAYS), max(shipped.DAYS) + 1)
    assert list(shipped.DAYS) == list(years) and 2026 in years
    if bankholidays.release() == shipped.RELEASE:
        text = Path(shipped.__file__).read_text(encoding="utf-8")
        assert text == bankholidays.shipped_source(years[0], years[-1])
        assert all(bankholidays._shipped(y) == bankholidays._compute("UK", y) for y in years)
    else:  # an upgraded `holidays`: the table stands aside until it is rewritten
        assert all(bankholidays._shipped(y) is None for y in years)


def test_another_release_is_asked_and_not_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencebot.evidence import ukbankholidays as shipped

    monkeypatch.setattr(shipped, "DAYS", {2026: ""})  # what an outdated table would say: no holidays
    monkeypatch.setattr(shipped, "RELEASE", "0.0")
    bankholidays.use_store(None)
    assert bankholidays.table("UK", 2026)[date(2026, 12, 25)] == "Christmas Day"
    monkeypatch.setattr(shipped, "RELEASE", bankholidays.release())
    bankholidays.use_store(None)
    assert bankholidays.table("UK", 2026) == {}  # the same release: the table is used


def test_the_shipped_years_need_no_import_of_holidays() -> None:
    probe = ("import sys\nfrom datetime import date\nfrom evidencebot.evidence import "
             "bankholidays as b\nprint(b.table('GB-ENG', 2027)[date(2027, 12, 27)])\n"
             "print(b.release())\nprint('holidays' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].startswith("Christmas Day")
    from evidencebot.evidence import ukbankholidays as shipped

    assert out[2] == str(out[1] != shipped.RELEASE)  # imported only for another release


def test_verify_never_reads_the_store(tmp_path: Path) -> None:
    """A forged shortcut (no holidays in a year after the table) is ignored by the context
    `verify` builds."""
    from conftest import git

    from evidencebot.ledger.verify import verify_context

    store = tmp_path / "holidays.bin"
    bankholidays.use_store(store)
    stamp = bankholidays._stamp()
    assert stamp is not None
    shortcut_write(store, stamp, {f"UK|{YEAR}": []})
    assert bankholidays.table("UK", YEAR) == {}  # the local shortcut lies to the CLI
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "--allow-empty",
        "-m", "the base branch")
    verify_context(repo, base="main", clock=lambda: datetime.now(UTC))
    assert bankholidays.table("UK", YEAR)[CHRISTMAS] == "Christmas Day"


def test_a_tampered_store_fools_neither_record_nor_verify(
        trading_repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
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
    assert r.code == 0 and '"outcome": "non-qualifying"' in r.out  # the shipped table
    assert "bank holiday" in r.out
    v = cli("--repo", trading_repo, "verify", "--range", "main..ops/evidence")
    assert v.code == 0, v.out


def test_a_subdivision_after_a_hyphen_and_an_unknown_calendar_is_bad_config() -> None:
    """GB-SCT is Scotland (St Andrew's Day is no English holiday); a code the package
    does not know is exit 2 with a Fix, not a NotImplementedError."""
    from evidencebot.errors import UsageError

    assert date(2026, 11, 30) in bankholidays.table("GB-SCT", 2026)
    assert date(2026, 11, 30) not in bankholidays.table("UK", 2026)
    for code in ("XX", "GB-XYZ", "uk "):
        with pytest.raises(UsageError, match=r"\[window\] holidays = .*no such calendar") as e:
            bankholidays.table(code, 2026)
        assert "\n" not in str(e.value) and "GB-SCT" in e.value.fix
