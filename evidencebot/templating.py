"""Jinja2 templates from the shipped ``evidencebot.templates`` package. jinja2 (about
45 ms) is imported when a template is first rendered, not when a module that may render
one is imported: `verify` re-derives trailers from the same modules and renders none."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def templates_dir() -> Path:
    """Installed: the ``evidencebot.templates`` package; a bare source tree: ``templates/``."""
    try:
        path = Path(str(resources.files("evidencebot.templates")))
        if (path / "session_entry.md.j2").is_file():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "templates"


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
