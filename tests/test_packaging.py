"""The wheel ships the templates, so a non-editable `pip install .` finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_template(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
                    "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("evidencebot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"evidencebot/templates/{p.name}" for p in (ROOT / "templates").glob("*.j2")}
    assert shipped and shipped <= names


def test_every_cli_option_is_in_the_readme() -> None:
    import click

    from evidencebot.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for name, cmd in cli.commands.items():
        assert f"evidencebot {name}" in readme or f" {name} " in readme, name
        for param in cmd.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt not in readme:
                        missing.append(f"{name} {opt}")
    assert not missing, f"options not documented in README.md: {missing}"
