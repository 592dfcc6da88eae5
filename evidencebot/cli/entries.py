"""The `--json` contract's pieces that need no model (and so no pydantic): the schema id,
and `history`'s entries, built as plain dicts because 10,000 of them stream out.
`contract` (the models, the JSON Schemas) re-exports them."""

from __future__ import annotations

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


def entry(c: Any, voids: Any, reasons: Any) -> dict[str, Any]:
    """One `history` entry as the contract's `Entry` dict (built without a model: 10,000
    of them stream out)."""
    t = c.trailers
    streak = t.get("Burnin-Streak", "")
    return {
        "commit": c.sha, "date": c.date, "kind": c.kind or "?",
        "run_id": c.run_id or t.get("Milestone") or None,
        "outcome": c.outcome or t.get("Milestone-Status") or (
            f"refused: {t['Check-Failed']}" if "Check-Failed" in t else None),
        "voided": c.is_run and c.run_id in voids,
        "reasons": list(reasons.get(c.sha, ())),
        "started_at": c.started or None,
        "duration_s": _int(t.get("Burnin-Paper-Duration-Seconds")),
        "filled": _int(t.get("Burnin-Filled-Orders")),
        "data_ratio": _float(t.get("Burnin-Symbol-Data-Availability-Ratio")),
        "min_bars": _int(t.get("Burnin-Min-Bars-Per-Symbol")),
        "client_id": _int(t.get("Ibkr-Client-Id")),
        "streak": _int(streak.split("/")[0]) if streak else None,
        "code_dirty": {"true": True, "false": False}.get(t.get("Code-Dirty", "")),
        "disconnects": _int(t.get("Ibkr-Disconnects")),
        "handoff": t.get("Handoff"), "retry_after": t.get("Retry-After"),
        "problems": list(c.problems),
    }
