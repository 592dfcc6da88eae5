"""One evidencebot at a time per repository.

The lock file lives under the git common dir (never in a work tree). It is re-entrant in
one process, so `run` holds it from the checks to the push while the commits it makes
inside take it again. A second process either waits briefly (short commands) or, for
`run`, is refused at once with who holds it (pid, since when).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .. import git
from ..errors import EvidencebotError, UsageError

LOCK_NAME = "evidencebot.lock"
INFO_NAME = "evidencebot.lock.json"

_held: dict[Path, int] = {}  # lock path -> depth, for this process


class Busy(EvidencebotError):
    """Another evidencebot holds the repository's lock."""

    exit_code = 3


def _holder(info: Path) -> str:
    try:
        doc = json.loads(info.read_text(encoding="utf-8"))
        since = datetime.fromtimestamp(float(doc["since"]), UTC)
        return f"pid {int(doc['pid'])}, since {since:%H:%M} UTC"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


@contextmanager
def hold(repo: Path, *, wait: float = 30.0, what: str = "working on") -> Iterator[None]:
    """Hold the repository's lock; ``wait`` 0 fails at once (Busy, exit 3), otherwise a
    holder that does not finish within ``wait`` seconds is a UsageError (exit 2)."""
    from filelock import FileLock, Timeout

    common = git.common_dir(repo)
    path = common / LOCK_NAME
    if _held.get(path):
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    fl = FileLock(str(path), timeout=wait)
    try:
        try:
            fl.acquire(timeout=0)
        except Timeout:
            if wait == 0:
                raise
            # (said on stderr, as git says it waits: a silent wait reads as a hang)
            sys.stderr.write(f"waiting for another evidencebot ({_holder(common / INFO_NAME)}) "
                             f"to finish, up to {wait:g} s ...\n")
            sys.stderr.flush()
            fl.acquire()
    except Timeout:
        who = _holder(common / INFO_NAME)
        if wait == 0:
            raise Busy(f"another run is in progress ({who}); nothing was run or "
                       "recorded") from None
        raise UsageError(f"another evidencebot is {what} this repository ({who}); wait "
                         "for it to finish") from None
    info = common / INFO_NAME
    _held[path] = 1
    try:
        info.write_text(json.dumps({"pid": os.getpid(),
                                    "since": datetime.now(UTC).timestamp()}),
                        encoding="utf-8")
        yield
    finally:
        _held.pop(path, None)
        info.unlink(missing_ok=True)
        fl.release()
