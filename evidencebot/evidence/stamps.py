"""The one UTC time form of records, trailers, logs and pages: ``2026-11-25T09:00:00Z``.
Light on purpose (the CLI's start-up imports it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_EXACT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(FORMAT)


def parse_stamp(text: str) -> datetime:
    """``text`` in FORMAT, as UTC; ValueError otherwise. (The exact form is read without
    `strptime`, which costs 15 µs a call; anything else `strptime` accepts still reads.)"""
    if _EXACT.fullmatch(text):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)


# (a day inside datetime's range either way: the rules add and take the clock skew allowed)
_LATEST, _EARLIEST = datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC)
_GIT_DATE = re.compile(r"([0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                       r"([+-])([0-9]{2}):([0-9]{2})")


def git_date(iso: str) -> datetime:
    """A date as git prints it (``%cI``, ``%aI``), in UTC. git writes any offset up to
    ±99:59 and any year its clock gives; datetime holds offsets under 24 hours and years
    up to 9999: a wider offset is applied here, and a year beyond 9999 reads as the latest
    time the rules work with (9999-12-31: a date in the future, judged as one). ValueError
    for anything else that is no ISO 8601 time with its zone."""
    found = _GIT_DATE.fullmatch(iso)
    if found is None:
        when = datetime.fromisoformat(iso)
        if when.tzinfo is None:
            raise ValueError(f"no zone in {iso!r}")
        return when.astimezone(UTC)
    y, mo, d, h, mi, s, sign, oh, om = found.groups()
    if int(y) > 9999:
        return _LATEST
    local = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
    shift = timedelta(hours=int(oh), minutes=int(om))
    try:
        return local - shift if sign == "+" else local + shift
    except OverflowError:
        return _LATEST if sign == "-" else _EARLIEST
