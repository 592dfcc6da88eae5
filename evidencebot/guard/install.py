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
) -> list[Path]:
    """Write the hooks into the repository's hooks directory (core.hooksPath honoured).

    An existing hook that evidencebot did not write is left alone unless ``force``."""
    hooks_dir = Path(git.out(repo, "rev-parse", "--git-path", "hooks"))
    if not hooks_dir.is_absolute():
        hooks_dir = repo / hooks_dir
    hooks_dir.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        target = hooks_dir / name
        if target.exists() and MARKER not in target.read_text(errors="replace") and not force:
            raise UsageError(f"{target} exists and was not written by evidencebot; "
                             "chain it yourself or pass --force to replace it")
    written = []
    for name in HOOKS:
        target = hooks_dir / name
        target.write_text(hook_script(name, python.replace("\\", "/"), base),
                          encoding="utf-8", newline="\n")
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(target)
    return written
