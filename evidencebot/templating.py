"""Templates from the shipped ``evidencebot.templates`` package: Jinja2 where a template
has logic, `str.format` where it has none (`fill`). jinja2 (about 45 ms) is imported when
a Jinja2 template is first rendered, not when a module that may render one is imported:
`verify` re-derives trailers and session-log entries and imports none."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    import jinja2

# Where compiled templates are kept, if anywhere: store(name, key), an object with load()
# and save(value) (`evidence.store.Store`, under the repository's `.git/evidencebot/`).
_kept: list[Callable[[str, str], Any]] = []


def keep_compiled(store: Callable[[str, str], Any] | None) -> None:
    """Keep compiled templates through ``store`` (None: compile at every render). A
    template is then compiled once per release and source, not by every command that
    renders it (about 4 ms); the key holds the release and the source's checksum."""
    _kept[:] = [store] if store is not None else []


def templates_dir() -> Path:
    """Installed: the ``evidencebot.templates`` package, inside this one (found without
    importlib.resources, a few ms); editable or a bare source tree: ``templates/``."""
    for path in (Path(__file__).parent / "templates",
                 Path(__file__).resolve().parent.parent / "templates"):
        if (path / "commit_body.j2").is_file():
            return path
    from importlib import resources  # a layout of another kind: ask the import system

    return Path(str(resources.files("evidencebot.templates")))


# How templates are read (part of the kept code's key: other options compile other code).
_OPTIONS: dict[str, Any] = {"keep_trailing_newline": True, "autoescape": False,
                            "trim_blocks": True, "lstrip_blocks": True}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    key = f"{__version__}|jinja2 {jinja2.__version__}|{sorted(_OPTIONS.items())}"

    class Kept(jinja2.BytecodeCache):
        """Compiled templates through the store `keep_compiled` named (at render time:
        one process may work on several repositories)."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            if _kept:
                data = _kept[0](bucket.key, f"{key}|{bucket.checksum}").load()
                if isinstance(data, bytes):
                    bucket.bytecode_from_string(data)  # checks Jinja's and Python's magic

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            if _kept:
                _kept[0](bucket.key, f"{key}|{bucket.checksum}").save(
                    bucket.bytecode_to_string())

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        bytecode_cache=Kept(),
        undefined=jinja2.StrictUndefined,
        **_OPTIONS,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def fill(name: str, **values: Any) -> str:
    """A template with no logic (``{name}`` fields, `str.format`), without Jinja2: the
    session-log entry, which `verify` renders again for every run commit it judges and
    should not pay Jinja2's import for."""
    return _plain(name).format(**values)


@lru_cache(maxsize=8)
def _plain(name: str) -> str:
    return (templates_dir() / name).read_text(encoding="utf-8")
