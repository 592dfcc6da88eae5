"""One benchmark run's temp directory: an isolated HOME and git identity, an environment
laid out as `pip install .` lays it out, and repositories built once and reused by every
script of the run (`run.py` passes one workspace to all of them).

Every Python process here, ours and the baselines (`python -c pass`, pre-commit-hooks'
`check-added-large-files`), runs in that environment: a virtual environment of its own
holding a copy of the package and console scripts as pip writes them, with the
dependencies' folder on its path. Not the developer's environment: there the editable
install's finder is imported by `site` at every start (about 12 ms, `python -c pass`
doubles), which no installed copy pays and which would flatter every ratio against
Python.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import shutil
import subprocess
import sysconfig
import tempfile
import venv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib import metadata
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
                if not k.startswith(("GIT_", "EVIDENCEBOT_", "PYTHON", "IBKR_", "VIRTUAL_ENV"))}
        return {**keep, **IDENTITY, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "GIT_CONFIG_NOSYSTEM": "1", "GIT_TEMPLATE_DIR": str(home / "git-template")}

    def env_at(self, now: str) -> dict[str, str]:
        """``env`` with the CLI's clock pinned to ``now`` (ISO 8601)."""
        return {**self.env, "EVIDENCEBOT_NOW": now}

    @cached_property
    def venv(self) -> Path:
        return installed_environment(self.root / "venv")

    @property
    def python(self) -> Path:
        """The interpreter of the installed environment."""
        return _interpreter(self.venv)

    def script(self, name: str, *args: str) -> list[str]:
        """The command line of the installed environment's console script ``name``."""
        return [*_console_script(self.venv, name), *args]

    def evidencebot(self, *args: str) -> list[str]:
        """The command line that runs evidencebot with ``args``."""
        return self.script("evidencebot", *args)

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


SCRIPTS = ("evidencebot", "check-added-large-files")  # the console scripts run here

# What pip writes for a console script (its launcher's template), the shebang aside.
_SCRIPT = """# -*- coding: utf-8 -*-
import re
import sys
from {module} import {attr}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({attr}())
"""


def installed_environment(dest: Path) -> Path:
    """A virtual environment at ``dest`` as `pip install .` would leave it: the package
    copied into its site-packages and byte-compiled, the console scripts beside its
    interpreter, and the dependencies (this interpreter's site-packages) on its path
    through a `.pth` line, which adds the folder and runs none of the `.pth` files in it
    (the editable install's among them)."""
    if not _interpreter(dest).exists():
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(dest)
    python = _interpreter(dest)
    purelib = Path(subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True).stdout.strip())
    deps = sysconfig.get_path("purelib")
    # in the encoding site reads .pth files with (the locale's, before Python 3.13)
    (purelib / "_evidencebot_bench_deps.pth").write_text(deps + "\n", encoding="locale")
    installed_copy(purelib)
    if os.name != "nt":  # (Windows: `python -m`, see `_console_script`)
        for name in SCRIPTS:
            try:
                module, attr = _entry_point(name)
            except SystemExit:  # not installed: said when a benchmark asks for it
                continue
            script = python.with_name(name)
            script.write_text(f"#!{python}\n" + _SCRIPT.format(module=module, attr=attr),
                              encoding="utf-8")
            script.chmod(0o755)
    return dest


def _entry_point(name: str) -> tuple[str, str]:
    """(module, function) of the console script ``name`` as installed."""
    for found in metadata.entry_points(group="console_scripts", name=name):
        return found.module, found.attr
    if name == "evidencebot":  # a clone run without installing: pyproject's entry point
        return "evidencebot.__main__", "main"
    raise SystemExit(f"{name} is not installed (pip install -e '.[test]')")


def _interpreter(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _console_script(venv_dir: Path, name: str) -> list[str]:
    script = _interpreter(venv_dir).with_name(name)
    if script.exists():
        return [str(script)]
    module, attr = _entry_point(name)
    return [str(_interpreter(venv_dir)), "-c",
            f"import sys; from {module} import {attr}; sys.exit({attr}())"]


def installed_copy(dest: Path) -> Path:
    """The package as `pip install .` lays it out in ``dest`` (a site-packages), byte-
    compiled as pip does."""
    dest.mkdir(parents=True, exist_ok=True)
    for package, target in (("evidencebot", dest / "evidencebot"),
                            ("evidencebot.templates", dest / "evidencebot" / "templates")):
        source = _package_dir(package)
        if source is not None and not target.exists():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(str(dest / "evidencebot"), quiet=1)
    return dest


def _package_dir(name: str) -> Path | None:
    """Where this interpreter would import ``name`` from (editable or not), or None."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
