"""`install-hooks`: plain git hooks for repositories without the pre-commit framework."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from .. import git
from ..errors import UsageError

HOOKS = {
    "pre-commit": 'exec "{python}" -m evidencebot hook pre-commit --base "{base}"\n',
    "commit-msg": 'exec "{python}" -m evidencebot hook commit-msg --base "{base}" "$1"\n',
}
MARKER = "# installed by evidencebot install-hooks"


def hook_script(name: str, python: str, base: str) -> str:
    return f"#!/bin/sh\n{MARKER}\n" + HOOKS[name].format(python=python, base=base)


def install_hooks(
    repo: Path, *, base: str, force: bool, python: str = sys.executable
) -> list[tuple[Path, Path | None]]:
    """Write the hooks into the repository's hooks directory (core.hooksPath honoured):
    each hook written, and where the hook it replaced is kept when that one was not
    evidencebot's.

    An existing hook that evidencebot did not write is left alone unless ``force``; with
    it, that hook is moved aside to the first free ``<hook>.before-evidencebot[.N]``
    (git runs no hook by that name)."""
    hooks_dir = Path(git.out(repo, "rev-parse", "--git-path", "hooks"))
    if not hooks_dir.is_absolute():
        hooks_dir = repo / hooks_dir
    hooks_dir.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        target = hooks_dir / name
        if _foreign(target) and not force:
            raise UsageError(f"{target} exists and was not written by evidencebot; "
                             "chain it yourself, or pass --force to replace it (yours is "
                             f"then kept as {name}.before-evidencebot[.N])")
    written: list[tuple[Path, Path | None]] = []
    for name in HOOKS:
        target = hooks_dir / name
        kept = _keep(target) if _foreign(target) else None
        target.write_text(hook_script(name, python.replace("\\", "/"), base),
                          encoding="utf-8", newline="\n")
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append((target, kept))
    return written


def _foreign(target: Path) -> bool:
    """Whether ``target`` is there (a file, a link, anything) and not a hook evidencebot
    wrote."""
    if not target.exists() and not target.is_symlink():
        return False
    try:
        return MARKER not in target.read_text(errors="replace")
    except OSError:  # a dangling link, a folder: not ours either
        return True


def _keep(target: Path) -> Path:
    """Move the operator's ``target`` aside, as it is (a link stays a link), to the first
    ``<hook>.before-evidencebot[.N]`` not taken: an earlier copy is never overwritten."""
    n = 0
    while True:
        kept = target.with_name(f"{target.name}.before-evidencebot{f'.{n}' if n else ''}")
        if not kept.exists() and not kept.is_symlink():
            target.rename(kept)
            return kept
        n += 1
