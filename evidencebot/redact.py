"""Account numbers never reach anything committed: `DU…`/`U…` followed by digits."""

from __future__ import annotations

import re
from typing import Any

ACCOUNT = re.compile(r"\b(DU|U)\d{3,}\b")


def redact(text: str) -> str:
    """``DU1234567`` → ``DU***``, ``U7654321`` → ``U***``: the kind stays, the number goes."""
    return ACCOUNT.sub(lambda m: f"{m.group(1)}***", text)


def redact_json(value: Any) -> Any:
    """Redact every string (keys included) inside a decoded JSON value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, dict):
        return {redact(k): redact_json(v) for k, v in value.items()}
    return value
