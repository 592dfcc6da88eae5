"""The operator's checkout as the code under test: HEAD, and whether what a run would
import differs from it (`code_state`, read by `run`, `run --dry-run` and `check`)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from .. import git

if TYPE_CHECKING:
    from ..evidence.record import CodeState


def code_state(repo: Path, code_paths: list[str]) -> CodeState:
    """The operator's HEAD and whether the code under test differs from it: tracked changes
    (files hidden with skip-worktree or assume-unchanged included), untracked files, and
    ignored files Python imports (`_ignored_code`), under the code paths; a .gitattributes
    changed anywhere, local attribute files that change what git compares
    (`_local_attributes`), and modules beside a script code path (`_beside_scripts`): one
    status and one index listing for them all (and a status of their own for a link or a
    repository of its own beside the script, where there is one)."""
    head = git.rev_parse(repo, "HEAD") or "none"
    specs = [p.rstrip("/") or "." for p in code_paths]
    # A submodule's changes count whatever a .gitmodules or the config says (ignore = all
    # or dirty would hide code the run used); the local settings that let git trust a
    # file's stat (or an fsmonitor hook) over its content are set back to git's defaults.
    folders = _script_folders(repo, code_paths)
    beside, shadows = _beside_scripts(repo, folders)
    raw = git.run(repo, *_LOOK_AT_CONTENT, "status", "--porcelain=v1", "-z",
                  "--untracked-files=all", "--ignore-submodules=none", "--", *specs, *beside,
                  *_ATTRIBUTE_FILES, env=_NO_SYSTEM_ATTRIBUTES)

    def code(p: str, ignored: bool) -> bool:
        """(an ignored module below a folder counts inside a package only: a build/lib/
        copy, a venv's activate_this.py, node_modules' Python made every run dirty)"""
        return _under(p, specs) or f"/{p}".endswith("/.gitattributes") or \
            _importable(p, folders, repo=repo if ignored else None)

    found = [*_porcelain_paths(raw.decode("utf-8", "replace")),
             *_hidden_changes(repo, [*specs, *beside])]
    paths = [p for p in dict.fromkeys(found) if code(p, False)]
    paths += [p for p in _ignored_code(repo, specs, beside) if p not in paths and code(p, True)]
    paths += [p for p in _local_attributes(repo) if p not in paths]
    if shadows:  # (asked alone: beside the globs, git lists no repository of its own there)
        raw = git.run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all",
                      "--ignored", "--", *shadows)
        paths += [p for p in _porcelain_paths(raw.decode("utf-8", "replace")) if p not in paths]
    from ..evidence.record import CodeState

    return CodeState(commit=head, dirty=bool(paths), dirty_paths=tuple(paths))


# git settings from the operator's config that would make `status` compare a file's stat,
# not its content (a same-size edit with its mtime put back), or ask a hook what changed.
_LOOK_AT_CONTENT = ("-c", "core.checkStat=default", "-c", "core.trustctime=true",
                    "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false")
# Every .gitattributes, wherever it is: one changed, added or ignored changes how git reads
# the code (`_ignored_code` lists the ignored ones).
_ATTRIBUTE_FILES = (":(glob)**/.gitattributes",)
# The system's attributes file (/etc/gitattributes) is no reviewed file either: unread.
_NO_SYSTEM_ATTRIBUTES = {"GIT_ATTR_NOSYSTEM": "1"}


# Attributes that change what git compares of a file: a clean filter (one that shows git
# HEAD's version, say), $Id$ expansion, a working-tree encoding, line-ending conversion.
_CONTENT_ATTRIBUTES = frozenset({"filter", "ident", "working-tree-encoding", "text", "eol",
                                 "crlf"})


def _local_attributes(repo: Path) -> list[str]:
    """The attribute files no reviewer sees (.git/info/attributes, the user's
    core.attributesFile) when they set an attribute that changes what git compares of a
    file (`_sets_content_attribute`): git status reads the code through them, so they make
    the code state unknowable and count as dirty code, by their path. The repository's own
    .gitattributes are reviewed (a Git LFS or git-crypt filter among them changes nothing
    here); one changed, added or ignored in the checkout is found with the status. The
    system's attributes file is not read by the status (GIT_ATTR_NOSYSTEM)."""
    user = git.run(repo, "config", "--path", "core.attributesFile", ok=(0, 1)).decode().strip()
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    mine = Path(user).expanduser() if user else home / "git" / "attributes"
    found = []
    for path, shown in ((git.common_dir(repo) / "info" / "attributes", ".git/info/attributes"),
                        (mine if mine.is_absolute() else repo / mine,  # (git: from the top)
                         user or "~/.config/git/attributes")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if any(map(_sets_content_attribute, text.split("\n"))):  # (git ends lines at LF only)
            found.append(shown)
    return found


def _sets_content_attribute(line: str) -> bool:
    """Whether an attributes line sets (or, for a macro, names) one of the attributes that
    change what git compares: its pattern is skipped, and an attribute unset (-text) or
    unspecified (!ident) changes nothing. A line git reads as a comment never counts."""
    words = line.strip(" \t\r").split()
    if not words or words[0].startswith("#"):
        return False
    return any(not w.startswith(("-", "!")) and w.split("=", 1)[0].strip('"') in
               _CONTENT_ATTRIBUTES for w in words[1:])


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


def _ignored_code(repo: Path, specs: list[str], beside: list[str]) -> list[str]:
    """Ignored entries under the code paths, and among the modules beside a script
    (``beside``: `_beside_scripts`' pathspecs), that Python can import from: modules (.py,
    .pyw), extension modules (.so, .pyd: every tagged suffix ends so), compiled modules
    without their source beside them (a .pyc outside __pycache__), symbolic links (to
    anything) and repositories of their own (git lists no file inside); and an ignored
    .gitattributes anywhere (git applies it all the same). A line in .git/info/exclude or
    a .gitignore would otherwise hide a package that shadows a reviewed module. The caches
    in __pycache__ are not read by `run`'s wrapper (it gets a fresh PYTHONPYCACHEPREFIX),
    nor are logs and the like."""
    raw = git.run(repo, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--",
                  *specs, *beside, *_ATTRIBUTE_FILES).decode("utf-8", "replace")
    return [p for p in filter(None, raw.split("\x00")) if p.endswith(_SOURCES)
            or (p.endswith("/") and _under(p, specs))
            or (p.endswith(".pyc") and "/__pycache__/" not in f"/{p}")
            or f"/{p}".endswith("/.gitattributes") or (repo / p).is_symlink()]


def in_code(repo: Path, path: Path, code_paths: list[str]) -> str | None:
    """``path`` as the repository names it, when it is a file there that would make the
    code under test dirty (`code_state`): under a code path, and not ignored by git."""
    # (where it really is: "../run.log" typed in src/, "logs/../src/run.log", a link)
    try:
        name = Path(os.path.realpath(path)).relative_to(os.path.realpath(repo)).as_posix()
    except ValueError:  # (outside the checkout)
        return None
    specs = [p.rstrip("/") or "." for p in code_paths]
    if name.startswith(".git/") or not any(
            fnmatch.fnmatchcase(name, s) or fnmatch.fnmatchcase(name, f"{s}/*")
            if any(c in s for c in "*?[") else name == s or name.startswith(f"{s}/")
            for s in specs):  # (a wildcard as git reads a pathspec: "*" crosses "/")
        return None
    ignored = git.out(repo, "check-ignore", "--no-index", "--", name, ok=(0, 1)).strip()
    return None if ignored else name


def _under(path: str, specs: list[str]) -> bool:
    """Whether ``path`` is under a code path: a repository of its own that git lists for
    the .gitattributes pathspec alone (a worktree inside the checkout, say) is no code.
    A code path with wildcards counts as covering everything (as before: never less)."""
    return any(s == "." or any(c in s for c in "*?[") or path == s or
               path.startswith(s.rstrip("/") + "/") for s in specs)


def _beside_scripts(repo: Path, folders: list[str]) -> tuple[list[str], list[str]]:
    """The pathspecs of the modules in ``folders`` (`_script_folders`: the checkout's top,
    and the folder of a code path that is a file, main.py), which
    count as code whether in git (changed) or not: `python main.py` puts its folder first
    on the import path, so a json.py there shadows the standard library's, and a
    helpers.py it imports is code it runs, whether or not the folder is a code path. The
    checkout's top is always one such folder: the wrapper runs there, and `python -m` or
    `python -c` puts it first on the import path as `python main.py` puts main.py's. A
    module there is a source, a compiled module without its source (json.pyc), an
    extension module (json.abi3.so), or one inside a folder below it, at any depth (a
    package's, with an __init__ or a namespace package without one: `import
    strategies.edge`; `_importable` keeps those Python can name); a symbolic link or a
    repository of its own (git lists nothing inside) that Python would import: those, by
    name, as the second list."""
    specs = [f":(glob){'' if f == '.' else f + '/'}{name}{ext}"
             for f in folders for name in ("*", "*/**/*") for ext in _SUFFIXES]
    return specs, [f":(literal){p}" for f in folders for p in _links_and_repositories(repo, f)]


def _links_and_repositories(repo: Path, folder: str) -> list[str]:
    """The symbolic links and repositories of their own in ``folder`` that Python would
    import, and in the packages below it at any depth (strategies/edge, a link to a
    package elsewhere, shadows strategies/edge.py: found by an adversary), as paths from
    the checkout's top."""
    out, todo = [], [folder]
    while todo:
        f = todo.pop()
        try:
            entries = list(os.scandir(repo / f))
        except OSError:
            continue
        for e in entries:
            path = e.name if f == "." else f"{f}/{e.name}"
            if (e.is_symlink() or (Path(e.path) / ".git").exists()) and _imports(e):
                out.append(path)
            elif e.is_dir(follow_symlinks=False) and e.name.isidentifier() and _imports(e):
                todo.append(path)  # (a package: its modules are imported through it)
    return sorted(out)


def _script_folders(repo: Path, code_paths: list[str]) -> list[str]:
    """The folders Python imports from first when the wrapper runs: the checkout's top,
    and the folder of each code path that is a file (`_beside_scripts`)."""
    return sorted({".", *(str(Path(p).parent).replace("\\", "/") for p in code_paths
                          if p and not p.endswith("/") and (repo / p).is_file())})


def _importable(path: str, folders: list[str], *, repo: Path | None = None) -> bool:
    """Whether Python can import ``path`` from one of ``folders`` (`_script_folders`): each
    folder on the way a name (a package or a namespace package), and the module's stem one
    too (a .venv, a folder python3.11, a my-notes.py are not imported by name). With
    ``repo``, each folder on the way must be a package (an __init__ in it): what git
    ignores counts there only."""
    for f in folders:
        if f != "." and not path.startswith(f + "/"):
            continue
        parts = (path if f == "." else path[len(f) + 1:]).rstrip("/").split("/")
        if not (all(d.isidentifier() for d in parts[:-1]) and
                parts[-1].partition(".")[0].isidentifier()):
            continue
        top = repo / f if repo is not None else None
        if top is None or all(any((top.joinpath(*parts[:i + 1]) / f"__init__{x}").is_file()
                                  for x in _SUFFIXES) for i in range(len(parts) - 1)):
            return True
    return False


# What Python imports a module from (an extension module's tagged suffixes, .abi3.so and
# the like, end in .so or .pyd); and with a compiled module without its source
_SOURCES = (".py", ".pyw", ".so", ".pyd")
_SUFFIXES = (*_SOURCES, ".pyc")


def _imports(entry: os.DirEntry[str]) -> bool:
    """Whether ``import <name>`` would load ``entry`` (a link followed): a module file, or a
    folder with an __init__ module (a link to a data folder, a worktree inside the
    checkout, are not code)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    stem, _, _ = entry.name.partition(".")
    if not stem.isidentifier():
        return False
    path = Path(entry.path)
    if path.is_file():
        return entry.name.endswith(_SUFFIXES)
    return path.is_dir() and any((path / f"__init__{s}").is_file()  # (tagged ones too)
                                 for s in (*_SUFFIXES, *EXTENSION_SUFFIXES))


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


POWERSHELL = ("pwsh", "powershell")
SCRIPTS = (".ps1", ".py", ".sh", ".cmd", ".bat")


def wrapper_script(argv: Sequence[str]) -> str | None:
    """The script a wrapper command hands its interpreter: PowerShell's `-File X`, else the
    first argument that names a script file."""
    program = PurePath(argv[0].replace("\\", "/")).stem.lower()
    if program in POWERSHELL:
        lowered = [a.lower() for a in argv]
        if "-file" in lowered and lowered.index("-file") + 1 < len(argv):
            return argv[lowered.index("-file") + 1]
        return None
    first = next((a for a in argv[1:] if not a.startswith("-")), None)
    return first if first and " " not in first and first.lower().endswith(SCRIPTS) else None


def wrapper_files(argv: Sequence[str], repo: Path, *, report: str = "") -> list[str]:
    """The files in the checkout ``repo`` a wrapper command runs, relative to its top:
    its script (the first argument naming a program file in the checkout: a script's
    suffix, none, or executable; words of a `bash -c` line included, read from the top;
    the report it writes, ``report``, aside) and its program when named by a path, unless
    HEAD does not hold it and git ignores it (a virtualenv's interpreter is the
    machine's). The paths as named, links not followed (one pointed out of the checkout is
    a change git sees). Code whatever the code paths say (found by adversaries: a
    top-level burnin.sh, edited and not committed, ran as clean code; so did one named
    after `env`, `timeout`, `bash -o pipefail`, or as PowerShell's first argument)."""
    import shlex

    if not argv:
        return []
    top = os.path.abspath(repo)

    def inside(given: str) -> str | None:
        try:
            path = os.path.normpath(os.path.join(top, given.replace("\\", "/")))
            named = Path(path).relative_to(top).as_posix()
        except (ValueError, OSError):  # (outside the checkout; a NUL in it)
            return None
        return named if named != "." and os.path.lexists(path) else None

    def program_file(named: str) -> bool:
        path = os.path.join(top, named)
        return PurePath(named).suffix.lower() in (*SCRIPTS, "") or os.access(path, os.X_OK) \
            or os.path.islink(path)

    out = []
    program = inside(argv[0]) if "/" in argv[0] or "\\" in argv[0] else None
    if program is not None and (
            git.succeeds(repo, "cat-file", "-e", f"HEAD:{program}") or not
            git.succeeds(repo, "check-ignore", "-q", "--no-index", "--", program)):
        out.append(program)
    words = [w for arg in argv[1:] for w in (_words(arg, shlex) if " " in arg else [arg])]
    kept = inside(report) if report else None
    script = next((f for w in words if not w.startswith("-") and (f := inside(w)) is not None
                   and f != kept and program_file(f)), None)
    return [*out, script] if script is not None else out


def _words(line: str, shlex: Any) -> list[str]:
    try:
        return list(shlex.split(line))
    except ValueError:  # (an unclosed quote: the line as it is)
        return [line]
