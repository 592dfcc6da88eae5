"""Account numbers never reach anything committed: IBKR's `U…` (individual), `DU…` (paper),
`F…` and `DF…` (advisor masters) followed by digits, wherever they stand in a word
(``uk_paper_DU1234567``) but not inside one (``UK100``, an id's ``…aU1234…``)."""

from __future__ import annotations

import re
from typing import Any

ACCOUNT = re.compile(r"(?<![A-Za-z0-9])(DU|U)\d{3,}|(?<![A-Za-z0-9])(DF|F)\d{5,}")


def redact(text: str) -> str:
    """``DU1234567`` → ``DU***``, ``U7654321`` → ``U***``: the kind stays, the number goes."""
    return ACCOUNT.sub(lambda m: f"{m.group(1) or m.group(2)}***", text)


def redact_json(value: Any) -> Any:
    """Redact every string (keys included) inside a decoded JSON value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, dict):
        return {redact(k): redact_json(v) for k, v in value.items()}
    return value
