"""The runs shortcut `record` reads its streak and the one-session rule from: the runs of
the history up to a commit (`streak.runs_of`) without reading that history from git.

Two files under `.git/evidencebot/`: ``runs-cache.bin``, the runs up to a base commit
(column by column, `Runs.plain`), and ``runs-tail.bin``, the ops commits made since
(their rows, as the history shortcut keeps them). A record adds one commit to the small
tail file, so the large one is written only when the tail grows long or when the base is
no start (another branch, a rewritten history, a damaged file): at 10,000 ops commits a
record then reads the runs without writing them all back. Every value is checked before
use; whatever is not usable is rebuilt from git. verify reads neither file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..evidence import history
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.report import COMMIT_ID
from ..evidence.store import Store, shortcut_path

TAIL = 256  # commits the tail file holds before the base is written again


def runs_at(repo: Path, rev: str, *, bot_author: str,
            read: Callable[[str], list[OpsCommit]]) -> streaks.Runs:
    """The runs of the history up to the commit ``rev`` (a full id); ``read(rev)`` reads
    that history from git when the shortcut is no start."""
    key = f"4|{__version__}|{sys.version_info[:2]}|{bot_author}"  # (4: merges count for nothing)
    base_file = Store(shortcut_path(repo, "runs-cache.bin"), key)
    tail_file = Store(shortcut_path(repo, "runs-tail.bin"), key)
    base_tip, base = _base(base_file.load())
    tip, tail = _tail(tail_file.load(), base_tip)
    if base is not None and tip == rev:
        return streaks.runs_of(tail, on=base)
    newer = history.since(repo, tip, rev, bot_author=bot_author) \
        if base is not None and tip is not None else None
    if base is None or newer is None:
        runs = streaks.runs_of(read(rev))
        _write_base(base_file, tail_file, rev, runs)
        return runs
    tail = newer + tail  # newest first, as history gives them
    runs = streaks.runs_of(tail, on=base)
    if len(tail) > TAIL:
        _write_base(base_file, tail_file, rev, runs)
    else:
        tail_file.save((base_tip, rev, history.rows_of(tail)))
    return runs


def _base(saved: Any) -> tuple[str | None, streaks.Runs | None]:
    try:
        tip, plain = saved
        if type(tip) is str and COMMIT_ID.fullmatch(tip):
            return tip, streaks.Runs.from_plain(plain)
    except (TypeError, ValueError, IndexError, KeyError):
        pass
    return None, None


def _tail(saved: Any, base_tip: str | None) -> tuple[str | None, list[OpsCommit]]:
    """(the commit the tail reaches, its commits newest first); the base alone when the
    file is missing, unusable or kept on another base."""
    try:
        on, tip, rows = saved
        commits = history.from_rows(rows)
        if on == base_tip and type(tip) is str and COMMIT_ID.fullmatch(tip) and \
                commits is not None:
            return tip, commits
    except (TypeError, ValueError, IndexError):
        pass
    return base_tip, []


def _write_base(base_file: Store, tail_file: Store, rev: str, runs: streaks.Runs) -> None:
    base_file.save((rev, runs.plain()))
    tail_file.save((rev, rev, []))
