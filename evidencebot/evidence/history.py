"""The burn-in history, read from the ops branch with one `git log` process.

One process for N commits (DESIGN.md measured ~125 ms for 10,000 with parsing); a
malformed ops commit becomes an entry with problems, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import git
from .trailers import validate

_FIELDS = ("%H", "%P", "%an <%ae>", "%cI", "%s", "%(trailers:only,unfold,separator=%x1f)", "%B")
_FORMAT = "%x00".join(_FIELDS)


@dataclass(frozen=True)
class OpsCommit:
    sha: str
    parents: tuple[str, ...]
    author: str
    date: str
    subject: str
    trailers: dict[str, str]
    problems: tuple[str, ...] = field(default=())
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


def _parse_trailers(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split("\x1f"):
        key, sep, value = item.strip("\n").partition(":")
        if sep and key:
            out.setdefault(key.strip(), value.strip())
    return out


def read(
    repo: Path, rev: str, *, limit: int | None = None, bot_author: str = ""
) -> list[OpsCommit]:
    """Ops commits reachable from ``rev``, newest first (commits without Evidence-Kind are
    skipped unless authored by ``bot_author``, which makes them malformed entries)."""
    if ".." not in rev and git.rev_parse(repo, rev) is None:
        return []
    raw = git.run(
        repo, "-c", "trailer.separators=:", "log", "-z", "--topo-order", f"--format={_FORMAT}",
        rev, "--",
    ).decode("utf-8", "replace")
    parts = raw.split("\x00")
    if parts and parts[-1] == "":
        parts.pop()
    n = len(_FIELDS)
    out: list[OpsCommit] = []
    for i in range(0, len(parts) - n + 1, n):
        sha, parents, author, date, subject, trailer_text, body = parts[i:i + n]
        sha = sha.lstrip("\n")
        trailers = _parse_trailers(trailer_text)
        kind = trailers.get("Evidence-Kind")
        if kind is None and author != bot_author:
            continue
        problems = tuple(validate(body))
        out.append(OpsCommit(sha, tuple(parents.split()), author, date, subject, trailers,
                             problems, trailers.get("Evidence-Started-At", ""),
                             trailers.get("Evidence-Finished-At", "")))
        if limit is not None and len(out) >= limit:
            break
    return _with_times(repo, out)


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
            commits[i] = replace(commits[i], started=times[0], finished=times[1])
    return commits


def _record_times(data: bytes | None) -> tuple[str, str] | None:
    import json

    try:
        doc = json.loads(data or b"")
        started, finished = doc["started_at"], doc["finished_at"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return (started, finished) if isinstance(started, str) and isinstance(finished, str) \
        else None
