"""Bank holidays, from the `holidays` package, with two shortcuts that give its answer
without importing it (importing `holidays` and building one country's year costs about
100 ms — most of a `status` or a `verify`).

1. England and Wales (the LSE's calendar) for the years in `ukbankholidays`, a table this
   package ships: written from `holidays` by ``python -m evidencebot.evidence.bankholidays``
   and used only while the release it was written from is installed. It is part of the
   code, like the rules that read it, so `verify` uses it too; the tests check it against
   the package.
2. Other calendars and years: a file under the git common dir when the CLI points
   `use_store` at one, keyed by the installed `holidays` release and by Python, rebuilt
   when unreadable or stale. `verify` never uses it: a local file is only ever a shortcut
   to the same answer, and a forged one must not change a verdict.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

from .store import Store

UK_CODES = ("UK", "GB", "GB-ENG", "ENG")
_store: Path | None = None


def use_store(path: Path | None) -> None:
    """Read and keep holiday tables in ``path`` (None: always ask `holidays`)."""
    global _store
    _store = path
    table.cache_clear()


@lru_cache(maxsize=16)
def table(code: str, year: int) -> Mapping[date, str]:
    """``code``'s holidays in ``year``: date -> name. "UK" (and GB, GB-ENG, ENG) is England
    and Wales, the LSE's calendar, substitute days included."""
    if code.upper() in UK_CODES:
        shipped = _shipped(year)
        if shipped is not None:
            return shipped
    if _store is None:
        return _compute(code, year)
    stamp = _stamp()
    store = Store(_store, stamp) if stamp else None
    saved = store.load() if store else None
    saved = saved if isinstance(saved, dict) else None
    key = f"{code.upper()}|{year}"
    if saved is not None and key in saved:
        return {date.fromordinal(d): name for d, name in saved[key]}
    computed = _compute(code, year)
    if store:
        store.save((saved or {}) | {key: [(d.toordinal(), n) for d, n in computed.items()]})
    return computed


def _shipped(year: int) -> dict[date, str] | None:
    """England and Wales in ``year`` from the shipped table, or None when the table does
    not cover the year or was written from another `holidays` release than the one
    installed (then the package itself answers)."""
    from . import ukbankholidays as shipped

    days = shipped.DAYS.get(year)
    if days is None or release() != shipped.RELEASE:
        return None
    return {date.fromisoformat(f"{year:04d}-{day[:5]}"): day[6:]
            for day in days.split(";") if day}


def _compute(code: str, year: int) -> Mapping[date, str]:
    """``code``'s holidays in ``year``: a country the `holidays` package knows, with a
    subdivision after a hyphen (GB-SCT); another code is bad config (exit 2)."""
    import holidays

    if code.upper() in UK_CODES:
        return dict(holidays.country_holidays("GB", subdiv="ENG", years=year))
    country, _, subdiv = code.upper().partition("-")
    try:
        return dict(holidays.country_holidays(country, subdiv=subdiv or None, years=year))
    except NotImplementedError as e:
        from ..errors import UsageError

        raise UsageError(f"[window] holidays = {code!r}: no such calendar ({e})",
                         fix="a country code the holidays package knows, a subdivision "
                         "after a hyphen: UK, GB-SCT, IE, US-NY") from None


def calendar_problem(code: str) -> str | None:
    """Why ``code`` is no calendar `_compute` knows (its error and fix), None when it is
    one: asked of a working tree's [window] before it is merged (newcomer 14: a bad value
    passed unsaid until it reached the base, and then stopped every run)."""
    if code.upper() in UK_CODES:
        return None
    from ..errors import UsageError

    try:
        _compute(code, 2026)
    except UsageError as e:
        return f"{e} ({e.fix})"
    return None


def _package_dir() -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


@lru_cache(maxsize=1)
def release() -> str | None:
    """The installed `holidays` release ("0.109"), from its distribution's folder name and
    without importing it (its version module imports importlib.metadata: 20 ms)."""
    where = _package_dir()
    if where is None:
        return None
    try:
        names = [e.name for e in os.scandir(where.parent)
                 if e.name.startswith("holidays-") and e.name.endswith(".dist-info")]
    except OSError:
        return None
    return names[0][len("holidays-"):-len(".dist-info")] if len(names) == 1 else None


def _stamp() -> str | None:
    """The installed `holidays` package (its version file's size and mtime), and Python."""
    import sys

    where = _package_dir()
    if where is None:
        return None
    try:
        st = os.stat(where / "version.py")
    except OSError:
        return None
    return f"{where / '__init__.py'}|{st.st_size}|{st.st_mtime_ns}|{sys.version_info[:2]}"


def shipped_source(first: int, last: int) -> str:
    """The text of `ukbankholidays` for ``first``..``last``, from the installed package."""
    import holidays

    found = holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1))
    assert not any(";" in name for name in found.values())  # the separator of a year's days
    by_year: dict[int, list[str]] = {y: [] for y in range(first, last + 1)}
    for d, name in sorted(found.items()):
        by_year[d.year].append(f"{d:%m-%d} {name}")
    years = "".join(f"    {y}: {';'.join(days)!r},\n" for y, days in by_year.items())
    return (
        f'"""England and Wales bank holidays {first}-{last}, as `holidays` {release()} gives '
        'them\n(GB, subdivision ENG): "MM-DD name" by year. Written by `python -m '
        'evidencebot.evidence.bankholidays`;\ndo not edit. Used only while that release is '
        'installed (`bankholidays._shipped`)."""\n\n'
        f"RELEASE = {release()!r}\nDAYS = {{\n{years}}}\n")


def main() -> int:
    """Rewrite `ukbankholidays` from the installed `holidays` release."""
    from . import ukbankholidays as shipped

    target = Path(__file__).with_name("ukbankholidays.py")
    target.write_text(shipped_source(min(shipped.DAYS), max(shipped.DAYS)), encoding="utf-8")
    print(f"wrote {target} from holidays {release()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
