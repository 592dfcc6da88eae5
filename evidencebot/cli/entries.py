"""The `--json` contract's pieces that need no model (and so no pydantic): the schema id,
and `history`'s entries, built as plain dicts because 10,000 of them stream out.
`contract` (the models, the JSON Schemas) re-exports them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any


def schema_name(command: str) -> str:
    return f"evidencebot.{command}/1"


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def json_minute(when: str | None) -> str | None:
    """A trailer's minute (Retry-After: 2026-11-28T00:00Z) in the form of every other time
    --json prints (2026-11-28T00:00:00Z); anything else as it is."""
    if when and len(when) == 17 and when[10] == "T" and when[16] == "Z":
        return when[:16] + ":00Z"
    return when


def shown_outcome(c: Any) -> str:
    """What an entry of any kind says happened: a run's outcome, a closure's status, a
    refused session's failed checks, a void's reason ("" when none)."""
    t = c.trailers
    return c.outcome or t.get("Milestone-Status", "") or (
        f"refused: {t['Check-Failed']}" if "Check-Failed" in t else "") or (
        t.get("Void-Reason", "") if c.kind == "void" else "")


def _own(c: Any) -> dict[str, Any]:
    """The part of an entry its commit alone decides (a void or a reason can come later)."""
    t = c.trailers
    streak = t.get("Burnin-Streak", "")
    return {
        "commit": c.sha, "date": c.date, "kind": c.kind or "?",
        "run_id": c.run_id or t.get("Milestone") or None,
        "outcome": shown_outcome(c) or None,
        "started_at": c.started or None,
        "duration_s": _int(t.get("Burnin-Paper-Duration-Seconds")),
        "filled": _int(t.get("Burnin-Filled-Orders")),
        "data_ratio": _float(t.get("Burnin-Symbol-Data-Availability-Ratio")),
        "min_bars": _int(t.get("Burnin-Min-Bars-Per-Symbol")),
        "client_id": _int(t.get("Ibkr-Client-Id")),
        "streak": _int(streak.split("/")[0]) if streak else None,
        "code_dirty": {"true": True, "false": False}.get(t.get("Code-Dirty", "")),
        "disconnects": _int(t.get("Ibkr-Disconnects")),
        "handoff": t.get("Handoff"), "retry_after": json_minute(t.get("Retry-After")),
        "problems": list(c.problems),
    }


def encoded(commits: Sequence[Any], voids: Mapping[str, str],
            reasons: Mapping[str, Sequence[str]], *, shortcut: Path | None) -> Iterator[str]:
    """Each commit's entry (the contract's `Entry`) as JSON text.

    ``shortcut``: a file keeping each commit's own part as text, by commit id (a commit
    id names its content, so the text cannot differ); only the void flag and the reasons
    are added each time. 10,000 entries then cost string joins, not dicts."""
    from .. import __version__
    from ..evidence.store import Store

    store = Store(shortcut, f"{__version__}|entries|2") if shortcut is not None else None
    loaded = store.load() if store is not None else None
    known: dict[str, str] = loaded if isinstance(loaded, dict) else {}
    encode = json.JSONEncoder(ensure_ascii=False).encode
    missed = 0
    for c in commits:
        own = known.get(c.sha)
        if not isinstance(own, str) or not own.startswith('{"commit": "' + c.sha):
            own = known[c.sha] = encode(_own(c))
            missed += 1
        voided = "true" if c.is_run and c.run_id in voids else "false"
        yield f'{own[:-1]}, "voided": {voided}, "reasons": {encode(list(reasons.get(c.sha, ())))}}}'
    if store is not None and missed:  # only this history's entries: the file does not grow
        store.save({c.sha: known[c.sha] for c in commits})
