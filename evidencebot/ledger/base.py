"""Which branch is the base: the one the config names, held to the remote's default
branch (a branch of the operator's own must not become the base by naming itself)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..config import CONFIG_FILE, load_at
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


@lru_cache(maxsize=4)
def consecutive_ever(repo: Path, base: str, milestone: str) -> frozenset[int]:
    """Every ``consecutive`` the base's ``[milestone.<milestone>]`` rule has had along its
    first-parent history up to ``base`` (a commit): a run recorded under an earlier one
    says so in its streak ("1/3") and stays as recorded when the rule changes through
    review (adversary 48: a reviewed 3 → 4 made verify refuse every run already on the ops
    branch as tampered with). Read only when a commit says another than the base's now."""
    from .. import git

    shas = git.out(repo, "log", "--first-parent", "--format=%H", base, "--",
                   CONFIG_FILE, "pyproject.toml").split()
    found = {CONSECUTIVE} if not shas else set()  # (no config ever: the runbook's)
    for rev in [*shas, f"{shas[-1]}^"] if shas else []:  # (and before the first config)
        try:
            loaded = load_at(repo, rev)
        except UsageError:
            continue  # (a broken config judged nothing)
        rule = loaded.config.milestone.get(milestone)
        found.add(rule.consecutive if rule is not None else CONSECUTIVE)
    return frozenset(found)
