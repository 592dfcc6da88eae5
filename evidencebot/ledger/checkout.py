"""The operator's checkout as the code under test: HEAD, and whether what a run would
import differs from it (`code_state`, read by `run`, `run --dry-run` and `check`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import git

if TYPE_CHECKING:
    from ..evidence.record import CodeState


def code_state(repo: Path, code_paths: list[str]) -> CodeState:
    """The operator's HEAD and whether the code under test differs from it: tracked changes
    (files hidden with skip-worktree or assume-unchanged included), untracked files, and
    ignored files Python imports (`_ignored_code`), under the code paths."""
    head = git.rev_parse(repo, "HEAD") or "none"
    specs = [p.rstrip("/") or "." for p in code_paths]
    # A submodule's changes count whatever a .gitmodules or the config says (ignore = all
    # or dirty would hide code the run used); the local settings that let git trust a
    # file's stat (or an fsmonitor hook) over its content are set back to git's defaults.
    raw = git.run(repo, *_LOOK_AT_CONTENT, "status", "--porcelain=v1", "-z",
                  "--untracked-files=all", "--ignore-submodules=none", "--", *specs)
    paths = _porcelain_paths(raw.decode("utf-8", "replace"))
    paths += [p for p in _hidden_changes(repo, specs) if p not in paths]
    paths += [p for p in _filtered(repo, specs) if p not in paths]
    paths += [p for p in _ignored_code(repo, specs) if p not in paths]
    paths += [p for p in _beside_scripts(repo, code_paths) if p not in paths]
    from ..evidence.record import CodeState

    return CodeState(commit=head, dirty=bool(paths), dirty_paths=tuple(paths))


# git settings from the operator's config that would make `status` compare a file's stat,
# not its content (a same-size edit with its mtime put back), or ask a hook what changed.
_LOOK_AT_CONTENT = ("-c", "core.checkStat=default", "-c", "core.trustctime=true",
                    "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false")


def _filtered(repo: Path, specs: list[str]) -> list[str]:
    """Tracked files under the code paths that a clean filter stands between and git: git
    compares what the filter makes of a file, and a filter set in .git/info/attributes or
    the user's attributes file (`git show HEAD:%f`, say) would show reviewed code while the
    run imports other code. Fails closed: such a file is dirty code."""
    tracked = git.run(repo, "ls-files", "-z", "--", *specs)
    if not tracked:
        return []
    raw = git.run(repo, "check-attr", "-z", "--stdin", "filter", input=tracked).decode(
        "utf-8", "surrogateescape").split("\x00")
    return [path for path, _attr, value in zip(raw[0::3], raw[1::3], raw[2::3], strict=False)
            if value not in ("unspecified", "unset")]


def _porcelain_paths(raw: str) -> list[str]:
    """The paths `git status --porcelain=v1 -z` names: "XY path", and after a rename or a
    copy (R or C in either column) the path it came from, as an entry of its own."""
    out: list[str] = []
    items = iter(raw.split("\x00"))
    for item in items:
        if len(item) > 3:
            out.append(item[3:])
            if {"R", "C"} & set(item[:2]):
                source = next(items, "")
                out += [source] if source else []
    return out


def _ignored_code(repo: Path, specs: list[str]) -> list[str]:
    """Ignored entries under the code paths that Python can import from: modules (.py,
    .pyw), extension modules (.so, .pyd), compiled modules without their source beside
    them (a .pyc outside __pycache__), symbolic links (to anything) and repositories of
    their own (git lists no file inside). A line in .git/info/exclude or a .gitignore
    would otherwise hide a package that shadows a reviewed module. The caches in
    __pycache__ are not read by `run`'s wrapper (it gets a fresh PYTHONPYCACHEPREFIX),
    nor are logs and the like."""
    from importlib.machinery import EXTENSION_SUFFIXES

    raw = git.run(repo, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--",
                  *specs).decode("utf-8", "replace")
    code = (".py", ".pyw", ".so", ".pyd", *EXTENSION_SUFFIXES)
    return [p for p in filter(None, raw.split("\x00")) if p.endswith(("/", *code))
            or (p.endswith(".pyc") and "__pycache__/" not in f"/{p}")
            or (repo / p).is_symlink()]


def _beside_scripts(repo: Path, code_paths: list[str]) -> list[str]:
    """Modules beside a code path that is a file (main.py), not in git or changed from it:
    `python main.py` puts its folder first on the import path, so a json.py there shadows
    the standard library's, and a helpers.py it imports is code it runs, whether or not
    the folder is itself a code path."""
    folders = {str(Path(p).parent).replace("\\", "/") for p in code_paths
               if p and not p.endswith("/") and (repo / p).is_file()}
    specs = [f":(glob){'' if f == '.' else f + '/'}*{ext}" for f in sorted(folders)
             for ext in (".py", ".pyw", ".so", ".pyd")]
    if not specs:
        return []
    raw = git.run(repo, "ls-files", "-z", "--others", "--", *specs)  # (ignored ones too)
    changed = git.run(repo, *_LOOK_AT_CONTENT, "status", "--porcelain=v1", "-z",
                      "--untracked-files=no", "--", *specs)
    return sorted({*filter(None, raw.decode("utf-8", "replace").split("\x00")),
                   *_porcelain_paths(changed.decode("utf-8", "replace")),
                   *_hidden_changes(repo, specs), *_filtered(repo, specs)})


def _hidden_changes(repo: Path, specs: list[str]) -> list[str]:
    """Files git status does not look at (skip-worktree, assume-unchanged) that differ from
    the index or are gone."""
    listing = git.run(repo, "ls-files", "-v", "-s", "-z", "--", *specs).decode(
        "utf-8", "surrogateescape")
    hidden: list[tuple[str, str]] = []
    for item in filter(None, listing.split("\x00")):
        tag, rest = item[0], item[2:]
        meta, _, path = rest.partition("\t")
        if tag == "S" or tag.islower():
            hidden.append((meta.split()[1], path))
    if not hidden:
        return []
    present = [(sha, p) for sha, p in hidden if (repo / p).is_file()]
    gone = [p for sha, p in hidden if not (repo / p).is_file()]
    out = git.run(repo, "hash-object", "--stdin-paths",
                  input="".join(f"{p}\n" for _, p in present).encode()).decode().split()
    return gone + [p for (sha, p), now in zip(present, out, strict=True) if sha != now]
