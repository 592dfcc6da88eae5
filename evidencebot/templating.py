"""Templates from the shipped ``evidencebot.templates`` package: Jinja2 where a template
has logic (the handoff packet, the merge request, the CI jobs and the config `init`
writes), `str.format` where it has none (`fill`: the session-log entry, which `verify`
renders again for every run commit, and the commit body, which `record` writes at every
run). jinja2 (about 18 ms) is imported when a Jinja2 template is first rendered, not when
a module that may render one is imported: neither `record` nor `verify` imports it."""

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
        if (path / "commit_body.txt").is_file():
            return path
    from importlib import resources  # a layout of another kind: ask the import system

    return Path(str(resources.files("evidencebot.templates")))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, autoescape=False, trim_blocks=True, lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def fill(name: str, **values: Any) -> str:
    """A template with no logic (``{name}`` fields, `str.format`), without Jinja2: what
    `record` writes at every run (the session-log entry, which `verify` renders again,
    and the commit body); a line that may be left out is a field its caller fills or
    leaves empty."""
    return _plain(name).format(**values)


@lru_cache(maxsize=8)
def _plain(name: str) -> str:
    return (templates_dir() / name).read_text(encoding="utf-8")
