"""Why a run did not qualify, short, for the people reading `history`, `status`, the
merge-request description and the report page: the verdict's reasons (or the failure) from
each record, read with one `git cat-file --batch` for the whole history; a void's reason
from its trailer; a refused session's failed checks from its trailer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import git
from ..textsafe import line
from .history import OpsCommit, committed_dict
from .store import Store, shortcut_path

MAX_CHARS = 120


def short(reasons: Sequence[str], *, limit: int = MAX_CHARS) -> str:
    """Reasons as one clean line of at most ``limit`` characters."""
    text = line("; ".join(r for r in reasons if r))
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def reasons_of(repo: Path, commits: Sequence[OpsCommit], *,
               cache: bool = False) -> dict[str, tuple[str, ...]]:
    """Commit sha -> why that attempt did not count (runs that did not qualify, refused
    sessions); qualifying runs and other commits are absent. Voids are not reasons here:
    the run qualified, something else was wrong (see `void.void_reasons`).

    ``cache``: keep what earlier reads found in a file under the git common dir, so only
    new runs' records are read (a commit id names its record, so the answer cannot
    differ). For what people read (`history`, `status`); what verify re-renders and
    compares (the description, the page) reads every record."""
    out: dict[str, tuple[str, ...]] = {}
    runs = [c for c in commits if c.is_run and not c.problems and c.outcome != "qualifying"
            and c.trailers.get("Evidence-Record")]
    store = _store(repo) if cache and runs else None
    known: dict[str, tuple[str, ...]] = {}
    if store is not None:
        loaded = store.load()
        known = loaded if isinstance(loaded, dict) else {}
    missing = [c for c in runs if c.sha not in known]
    blobs = git.cat_batch(repo, [f"{c.sha}:{c.trailers['Evidence-Record']}" for c in missing])
    for c, data in zip(missing, blobs, strict=True):
        known[c.sha] = _from_record(data)
    if store is not None and missing:
        store.save(known)
    for c in runs:
        if known.get(c.sha):
            out[c.sha] = known[c.sha]
    for c in commits:
        if c.kind == "check" and c.trailers.get("Check-Failed"):
            out[c.sha] = (f"checks failed: {c.trailers['Check-Failed']}",)
    return out


def _store(repo: Path) -> Store:
    from .. import __version__

    return Store(shortcut_path(repo, "reasons-cache.bin"),
                 f"{__version__}|{MAX_CHARS}")


def _from_record(data: bytes | None) -> tuple[str, ...]:
    doc = committed_dict(data)
    verdict, session = doc.get("verdict"), doc.get("session")
    if isinstance(verdict, dict) and isinstance(verdict.get("reasons"), list):
        return tuple(line(str(r)) for r in verdict["reasons"] if r)
    if isinstance(session, dict) and session.get("failure"):
        return (line(str(session["failure"])),)
    return ()
