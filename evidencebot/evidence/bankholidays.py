"""Bank holidays, from the `holidays` package, with an optional on-disk shortcut.

Importing `holidays` and building one country's year costs about 100 ms — most of a
`status`. The CLI points `use_store` at a file under the git common dir; the table for a
(code, year) is then read from there. The file is keyed by the installed `holidays`
release (its version file's size and mtime) and by Python, is rebuilt when unreadable or
stale, and `verify` never uses it: a cache is only ever a shortcut to the same answer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

from .store import Store

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


def _compute(code: str, year: int) -> Mapping[date, str]:
    import holidays

    if code.upper() in ("UK", "GB", "GB-ENG", "ENG"):
        return dict(holidays.country_holidays("GB", subdiv="ENG", years=year))
    return dict(holidays.country_holidays(code.upper(), years=year))


def _stamp() -> str | None:
    """The installed `holidays` release, without importing it."""
    import importlib.util
    import sys

    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    try:
        st = os.stat(Path(spec.origin).parent / "version.py")
    except OSError:
        return None
    return f"{spec.origin}|{st.st_size}|{st.st_mtime_ns}|{sys.version_info[:2]}"
