"""Which branch is the base: the one the config names, held to the remote's default
branch (a branch of the operator's own must not become the base by naming itself)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..config import load_at
from ..defaults import CONSECUTIVE
from ..errors import UsageError


def base_at(repo: Path, rev: str = "HEAD") -> str:
    """The base branch the config committed at ``rev`` names (never the working tree's);
    main when there is none to read. Held to the remote's default branch (`agreed_base`)."""
    try:
        named = load_at(repo, rev).config.ops.base
    except UsageError:
        named = "main"
    return agreed_base(repo, named, source=f"the config committed at {rev}")


DEFAULT_BRANCH = "refs/remotes/origin/HEAD"  # the remote's default branch, as a clone names it


def agreed_base(repo: Path, named: str, *, source: str) -> str:
    """``named``, the base branch ``source`` names, unless the remote's default branch
    commits a config naming another (UsageError): a branch of the operator's own, its
    window opened and ``base = "release"`` in its config, must not become the base (whose
    rules judge the evidence) by naming itself. No remote default or config: ``named``."""
    try:
        default = load_at(repo, DEFAULT_BRANCH)
    except UsageError:
        return named  # (its own commands report a broken config there)
    if default.path is None or default.config.ops.base == named:
        return named
    said = default.config.ops.base
    raise UsageError(f"{source} names the base branch {named!r}, but the config on the "
                     f"remote's default branch ({DEFAULT_BRANCH}) names {said!r}: the "
                     "evidence is judged by the reviewed base's rules",
                     fix=f"name the reviewed base: --base {said} (verify), or set "
                     f"[ops] base = {said!r} in your config")


@lru_cache(maxsize=64)
def consecutive_at(repo: Path, rev: str, milestone: str) -> int | None:
    """The runs ``milestone``'s streak needs by the config committed at ``rev`` (a base
    commit); None where that config cannot be read."""
    try:
        rule = load_at(repo, rev).config.milestone.get(milestone)
    except UsageError:
        return None
    return rule.consecutive if rule is not None else CONSECUTIVE
