"""The wheel ships every module and template, so a non-editable `pip install .` finds
them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_package_and_template(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
                    "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("evidencebot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"evidencebot/templates/{p.name}" for p in (ROOT / "templates").iterdir()
               if p.is_file() and p.suffix != ".pyc"}  # (Jinja2's, `fill`'s and the package's)
    assert {"j2", "md", "txt"} <= {p.rsplit(".", 1)[1] for p in shipped}
    assert shipped <= names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "evidencebot").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert modules - names == set()  # a package missing from pyproject's list is not shipped


def test_every_cli_option_is_in_the_readme() -> None:
    import click

    from evidencebot.cli import every_command

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for name, cmd in every_command().items():
        assert f"evidencebot {name}" in readme or f" {name} " in readme, name
        for param in cmd.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt not in readme:
                        missing.append(f"{name} {opt}")
    assert not missing, f"options not documented in README.md: {missing}"


def test_readme_quickstart_has_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("evidencebot demo")
    assert commands[1].endswith("-m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == commands[1]
