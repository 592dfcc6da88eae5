"""One benchmark run's temp directory: an isolated HOME and git identity, the package laid
out as `pip install .` lays it out, and repositories built once and reused by every script
of the run (`run.py` passes one workspace to all of them).

evidencebot is only ever run as a process here: its console script (or `python -m
evidencebot` when there is none) with the installed copy first on PYTHONPATH.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


class Workspace:
    """Builds what the benchmarks need under ``root`` and remembers what it built."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    @contextmanager
    def temporary(cls) -> Iterator[Workspace]:
        with tempfile.TemporaryDirectory(prefix="evidencebot-bench-") as tmp:
            yield cls(Path(tmp))

    @cached_property
    def env(self) -> dict[str, str]:
        """The environment of every process: no GIT_* or EVIDENCEBOT_* from outside, a HOME
        of our own (nothing from the user's git config), the installed copy on the path."""
        home = self.root / "home"
        (home / "git-template").mkdir(parents=True, exist_ok=True)
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("GIT_", "EVIDENCEBOT_", "PYTHON", "IBKR_"))}
        return {**keep, **IDENTITY, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "GIT_CONFIG_NOSYSTEM": "1", "GIT_TEMPLATE_DIR": str(home / "git-template"),
                "PYTHONPATH": str(self.site)}

    def env_at(self, now: str) -> dict[str, str]:
        """``env`` with the CLI's clock pinned to ``now`` (ISO 8601)."""
        return {**self.env, "EVIDENCEBOT_NOW": now}

    @cached_property
    def site(self) -> Path:
        return installed_copy(self.root / "site")

    def evidencebot(self, *args: str) -> list[str]:
        """The command line that runs evidencebot with ``args``."""
        return [*console_script("evidencebot"), *args]

    def cached(self, name: str, build: Callable[[Path], object]) -> Path:
        """``root/name``, built by ``build(path)`` the first time it is asked for."""
        path = self.root / "repos" / name
        done = path.with_name(name + ".built")
        if not done.exists():
            if path.exists():
                shutil.rmtree(path)  # a build that failed half-way
            path.mkdir(parents=True)
            build(path)
            done.touch()
        return path

    def scratch(self, name: str) -> Path:
        """A fresh directory for one script's throwaway files (reports, messages)."""
        return Path(tempfile.mkdtemp(prefix=name + "-", dir=self.root))


@contextmanager
def workspace_for(given: Workspace | None) -> Iterator[Workspace]:
    """``given``, or a temporary one when a script runs on its own."""
    if given is not None:
        yield given
    else:
        with Workspace.temporary() as ws:
            yield ws


def console_script(name: str) -> list[str]:
    """The console script beside this interpreter; `python -m <package>` without one."""
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    if name == "evidencebot":
        return [sys.executable, "-m", "evidencebot"]
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (pip install -e '.[test]')")
    return [found]


def installed_copy(dest: Path) -> Path:
    """The package as `pip install .` lays it out, byte-compiled as pip does. Run with it
    first on PYTHONPATH, no editable-install finder is asked for each module, which would be
    charged to evidencebot and not to the baselines."""
    dest.mkdir(parents=True, exist_ok=True)
    for package, target in (("evidencebot", dest / "evidencebot"),
                            ("evidencebot.templates", dest / "evidencebot" / "templates")):
        source = _package_dir(package)
        if source is not None and not target.exists():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(str(dest), quiet=1)
    return dest


def _package_dir(name: str) -> Path | None:
    """Where this interpreter would import ``name`` from (editable or not), or None."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
