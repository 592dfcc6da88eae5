"""Jinja2 templates from the shipped ``evidencebot.templates`` package. jinja2 (about
45 ms) is imported when a template is first rendered, not when a module that may render
one is imported: `verify` re-derives trailers from the same modules and renders none."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def templates_dir() -> Path:
    """Installed: the ``evidencebot.templates`` package, inside this one (found without
    importlib.resources, a few ms); editable or a bare source tree: ``templates/``."""
    for path in (Path(__file__).parent / "templates",
                 Path(__file__).resolve().parent.parent / "templates"):
        if (path / "session_entry.md.j2").is_file():
            return path
    from importlib import resources  # a layout of another kind: ask the import system

    return Path(str(resources.files("evidencebot.templates")))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
