"""A shortcut file: one marshalled value under a key (the release, the Python, whatever
the value depends on). `load` gives None when the file is missing, unreadable or written
under another key; `save` replaces it atomically and gives up quietly (a cache that
cannot be written is only a slower next run). Used for the history, the reasons a run
did not qualify, and the bank holidays; `verify` reads none of them."""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any


class Store:
    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    def load(self) -> Any | None:
        try:
            key, value = marshal.loads(self.path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return value if key == self.key else None

    def save(self, value: Any) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps((self.key, value)))
            os.replace(tmp, self.path)
        except (OSError, ValueError):
            pass
