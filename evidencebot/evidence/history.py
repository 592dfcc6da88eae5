"""The burn-in history, read from the ops branch with one `git log` process.

One process for N commits (DESIGN.md measured ~125 ms for 10,000 with parsing); a
malformed ops commit becomes an entry with problems, never a crash.
"""

# No `from __future__ import annotations`: see guard/rules.py (NamedTuple fields).

from collections.abc import Iterator
from pathlib import Path
from sys import intern
from typing import Any, NamedTuple

from .. import git
from .store import typed_rows
from .trailers import validate_parsed

# A merge commit's evidence trailers are read as none: evidence is recorded, judged and
# re-derived in single-parent ops commits only (verify judges a merge as a plain merge of
# its parents, nothing more), so a merge that says it is a run must count as nothing.
MERGED_EVIDENCE = "a merge commit carries Evidence-Kind: evidence is recorded by " \
    "single-parent ops commits, and a merge's trailers count for nothing"

_FIELDS = ("%H", "%P", "%an <%ae>", "%cI", "%s", "%(trailers:only,unfold,separator=%x1f)", "%B")
_FORMAT = "%x00".join(_FIELDS)


class OpsCommit(NamedTuple):
    """One ops commit as the history reads it. A named tuple, not a dataclass: the history
    of 10,000 commits is built in a quarter of the time (`_Cache.load`)."""

    sha: str
    parents: tuple[str, ...]
    author: str
    date: str
    subject: str
    trailers: dict[str, str]
    problems: tuple[str, ...] = ()
    started: str = ""  # the run's start (ISO-8601 UTC), for runs
    finished: str = ""

    @property
    def kind(self) -> str:
        return self.trailers.get("Evidence-Kind", "")

    @property
    def is_run(self) -> bool:
        return self.kind == "step1a-burnin"

    @property
    def run_id(self) -> str:
        return self.trailers.get("Evidence-Run-Id", "")

    @property
    def outcome(self) -> str:
        return self.trailers.get("Evidence-Outcome", "")


def _parse_trailers(text: str) -> list[tuple[str, str]]:
    # Interned: 10,000 commits repeat the same keys and most values (OPS, the version, the
    # config's sha), and a shared string is one object, not 10,000.
    out = []
    for item in text.split("\x1f"):
        key, sep, value = item.partition(":")
        if sep:
            value = value.strip()
            out.append((intern(key.strip()), intern(value) if len(value) <= 64 else value))
    return out


def read(
    repo: Path, rev: str, *, limit: int | None = None, bot_author: str = "",
    cache: bool = True,
) -> list[OpsCommit]:
    """Ops commits reachable from ``rev``, newest first (commits without Evidence-Kind are
    skipped unless authored by ``bot_author``, which makes them malformed entries).

    One `git log` process, parsed while it streams. ``cache``: reuse what an earlier read
    found up to an ancestor of ``rev`` and read only the commits since (costs follow the
    change); `verify` reads with ``cache=False`` and judges every message itself."""
    if ".." in rev or limit is not None or not cache:
        if ".." not in rev and git.rev_parse(repo, rev) is None:
            return []
        return _with_times(repo, _read(repo, rev, limit=limit, bot_author=bot_author))
    tip = git.rev_parse(repo, rev)
    if tip is None:
        return []
    store = _Cache(repo, bot_author)
    cached_tip, cached = store.load()
    if cached_tip == tip:
        return cached
    newer = since(repo, cached_tip, tip, bot_author=bot_author)
    commits = newer + cached if newer is not None else \
        _with_times(repo, _read(repo, tip, bot_author=bot_author))
    store.save(tip, commits)
    return commits


def since(repo: Path, older: str | None, tip: str, *, bot_author: str) -> list[OpsCommit] | None:
    """The ops commits from ``older`` (exclusive) up to ``tip``, newest first, when
    ``older`` is an ancestor of ``tip``; None when it is not (a shortcut kept at ``older``
    is then no start for ``tip``'s)."""
    if not older or not (_is_parent(repo, older, tip)
                         or git.succeeds(repo, "merge-base", "--is-ancestor", older, tip)):
        return None
    return _with_times(repo, _read(repo, f"{older}..{tip}", bot_author=bot_author))


def _is_parent(repo: Path, older: str, tip: str) -> bool:
    """Whether ``older`` is a parent of the commit ``tip`` (the usual case: a shortcut
    kept one commit ago), asked of the open object reader; False without one."""
    if git.active_reader(repo) is None:
        return False
    got = git.cat_batch_typed(repo, [tip])[0]
    if got is None or got[0] != "commit":
        return False
    header = got[1].split(b"\n\n", 1)[0].split(b"\n")
    return b"parent " + older.encode("ascii", "replace") in header


def _read(repo: Path, rev: str, *, limit: int | None = None,
          bot_author: str = "") -> list[OpsCommit]:
    out: list[OpsCommit] = []
    n = len(_FIELDS)
    for fields in _records(repo, rev, n):
        sha, parents, author, date, subject, trailer_text, body = fields
        pairs = _parse_trailers(trailer_text)
        trailers = dict(reversed(pairs))  # the first of a twice-given key, as git shows it
        kind = trailers.get("Evidence-Kind")
        if kind is None and author != bot_author:
            continue
        shas = tuple(parents.split())
        if len(shas) > 1 and kind is not None:  # a merge is no run, closure or void
            out.append(OpsCommit(sha.lstrip("\n"), shas, author, date, subject, {},
                                 (MERGED_EVIDENCE,)))
            continue
        out.append(OpsCommit(sha.lstrip("\n"), shas, author, date, subject,
                             trailers, tuple(validate_parsed(pairs, body)),
                             trailers.get("Evidence-Started-At", ""),
                             trailers.get("Evidence-Finished-At", "")))
        if limit is not None and len(out) >= limit:
            break
    return out


_ROW = (str, tuple, str, str, str, dict, tuple, str, str)  # an OpsCommit, as stored


class _Cache:
    """The last history read, by tip, under the git common dir: a shortcut to the same
    answer (a commit id names its content and its ancestors; the file is per version,
    per Python and per bot identity, and rebuilt when unreadable). marshal, not JSON:
    loading 10,000 commits is then a tenth of reading them from git."""

    def __init__(self, repo: Path, bot_author: str) -> None:
        import sys

        from .. import __version__
        from .store import Store, shortcut_path

        self.store = Store(shortcut_path(repo, "history-cache.bin"),
                           f"3|{__version__}|{sys.version_info[:2]}|{bot_author}")  # 3: merges

    def load(self) -> tuple[str | None, list[OpsCommit]]:
        try:
            tip, rows = self.store.load() or (None, [])
            commits = from_rows(rows)
            if not (tip is None or type(tip) is str) or commits is None:
                return None, []
            return tip, commits
        except (ValueError, TypeError, IndexError):
            return None, []

    def save(self, tip: str, commits: list[OpsCommit]) -> None:
        self.store.save((tip, rows_of(commits)))


def rows_of(commits: list[OpsCommit]) -> list[tuple[object, ...]]:
    """Commits as a shortcut file keeps them: rows in the field order, the trailers as the
    dict itself (marshal reads a dict of shared strings in half the time of pairs)."""
    return [(c.sha, c.parents, c.author, c.date, c.subject, c.trailers, c.problems,
             c.started, c.finished) for c in commits]


def from_rows(rows: object) -> list[OpsCommit] | None:
    """`rows_of`'s rows back as commits; None when they are not such rows."""
    return list(map(OpsCommit._make, rows)) if typed_rows(rows, _ROW) else None  # type: ignore[call-overload]


def _records(repo: Path, rev: str, n: int) -> Iterator[list[str]]:
    """The log's records (``n`` NUL-separated fields each) as git writes them."""
    args = ["-c", "trailer.separators=:", "log", "-z", "--topo-order", f"--format={_FORMAT}",
            rev, "--"]
    with git.stream(repo, *args) as chunks:
        pending: list[str] = []
        tail = b""
        for chunk in chunks:
            parts = (tail + chunk).split(b"\x00")
            tail = parts.pop()
            pending.extend(p.decode("utf-8", "replace") for p in parts)
            while len(pending) >= n:
                yield pending[:n]
                del pending[:n]
        if tail:
            pending.append(tail.decode("utf-8", "replace"))
        if len(pending) >= n:
            yield pending[:n]


def _with_times(repo: Path, commits: list[OpsCommit]) -> list[OpsCommit]:
    """Runs recorded before the time trailers existed: their times from their records (one
    `cat-file --batch` for all of them)."""
    legacy = [i for i, c in enumerate(commits) if c.is_run and not c.started
              and c.trailers.get("Evidence-Record")]
    if not legacy:
        return commits
    blobs = git.cat_batch(repo, [f"{commits[i].sha}:{commits[i].trailers['Evidence-Record']}"
                                 for i in legacy])
    for i, data in zip(legacy, blobs, strict=True):
        times = _record_times(data)
        if times:
            commits[i] = commits[i]._replace(started=times[0], finished=times[1])
    return commits


def committed_dict(data: bytes | None) -> dict[str, Any]:
    """A record's document as a commit holds it, {} when it is none (no file, not JSON,
    nested deeper than the parser goes, not an object): what git holds is anyone's, and
    reading it is never a traceback (adversary 44b: a record nested 100,000 levels deep
    ended status, report and a closure's verify with a RecursionError)."""
    import json

    try:
        doc = json.loads(data or b"{}")
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _record_times(data: bytes | None) -> tuple[str, str] | None:
    doc = committed_dict(data)
    if "started_at" not in doc or "finished_at" not in doc:
        return None
    times = (_utc(doc["started_at"]), _utc(doc["finished_at"]))
    return (times[0], times[1]) if times[0] and times[1] else None


def _utc(value: object) -> str | None:
    """A record's time as the time trailers write it (UTC, whole seconds); None unless it
    is an ISO 8601 time with its zone (compared, sorted and parsed as one later)."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if when is None or when.tzinfo is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
