"""The one UTC time form of records, trailers, logs and pages: ``2026-11-25T09:00:00Z``.
Light on purpose (the CLI's start-up imports it)."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(FORMAT)


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
