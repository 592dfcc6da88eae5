"""The burn-in history, read from the ops branch with one `git log` process.

One process for N commits (DESIGN.md measured ~125 ms for 10,000 with parsing); a
malformed ops commit becomes an entry with problems, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import git
from .trailers import RESETS, validate

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
        repo, "-c", "trailer.separators=:", "log", "-z", f"--format={_FORMAT}", rev, "--",
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
                             problems))
        if limit is not None and len(out) >= limit:
            break
    return out


def runs(commits: Sequence[OpsCommit]) -> list[OpsCommit]:
    return [c for c in commits if c.is_run and not c.problems]


COUNTS, NEUTRAL, RESETS_STREAK = 1, 0, -1


def effect(outcome: str, *, dirty: bool) -> int:
    """What a run does to the streak: COUNTS (qualifying, clean code), RESETS_STREAK (a
    completed run that does not qualify, a code bug, dirty code) or NEUTRAL (attempts that
    never produced a report: failed-infra, failed-market-data)."""
    if outcome == "qualifying":
        return RESETS_STREAK if dirty else COUNTS
    return RESETS_STREAK if outcome in RESETS else NEUTRAL


def next_streak(prior: int, outcome: str, *, dirty: bool) -> int:
    e = effect(outcome, dirty=dirty)
    return prior + 1 if e == COUNTS else 0 if e == RESETS_STREAK else prior


def commit_effect(c: OpsCommit) -> int:
    """A commit's effect; checks, closures and malformed commits are neutral."""
    if not c.is_run or c.problems:
        return NEUTRAL
    return effect(c.outcome, dirty=c.trailers.get("Code-Dirty") == "true")


def streak_runs(commits: Sequence[OpsCommit]) -> list[OpsCommit]:
    """The qualifying runs of the current streak, newest first (a closure does not reset)."""
    runs: list[OpsCommit] = []
    for c in commits:
        e = commit_effect(c)
        if e == RESETS_STREAK:
            break
        if e == COUNTS:
            runs.append(c)
    return runs


def streak(commits: Sequence[OpsCommit]) -> int:
    """Consecutive qualifying runs, most recent first (see ``effect``)."""
    return len(streak_runs(commits))
