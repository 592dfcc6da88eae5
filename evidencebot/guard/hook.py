"""Hook entry points, kept off click, rich and pydantic: they run on every commit.

    evidencebot hook pre-commit [--base BRANCH]         the scope guard on the staged change
    evidencebot hook commit-msg [--base BRANCH] FILE    the trailer block of an ops commit
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn

if TYPE_CHECKING:
    import argparse

    from ..evidence.store import Store
    from .rules import Rules, Violation

DESCRIPTION = ("Ops commits (on branches matching [scope] branches, or with "
               "EVIDENCEBOT_SESSION=OPS) are judged against the rules committed on the base "
               "branch. Exit 0: allowed; 1: refused (each violation says how to fix it); "
               "2: usage error.")
_OPS = "an ops commit (on a branch matching [scope] branches, or with EVIDENCEBOT_SESSION=OPS)"
_EXITS = "Exit 0: allowed; 1: refused (each violation says how to fix it); 2: usage error."
PRE_COMMIT = (f"The scope guard: judge the change staged for {_OPS} against the scope rules "
              "committed on the base branch: which paths it may change, in what way, and what "
              "its documents may say (`evidencebot explain scope` lists them). Any other "
              f"commit passes. {_EXITS}")
COMMIT_MSG = (f"Check the message FILE of {_OPS} by the rules committed on the base branch: "
              "its trailer block must be the one `evidencebot explain trailers` lists for its "
              "Evidence-Kind, and an evidence record, closure page or check record the commit "
              f"adds must be the one its trailers name. Any other commit passes. {_EXITS}")


class Args(NamedTuple):
    hook: str
    base: str = "main"
    json: bool = False
    file: Path | None = None


class _Usage(Exception):
    """A command line argparse refused: said as every evidencebot error is said."""


def parser() -> argparse.ArgumentParser:
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # not usage lines and exit 2 of its own
            raise _Usage(message)

    p = Parser(prog="evidencebot hook", description=DESCRIPTION)
    sub = p.add_subparsers(dest="hook", required=True, metavar="HOOK")
    pre = sub.add_parser("pre-commit", help="judge the staged change against the scope rules",
                         description=PRE_COMMIT)
    msg = sub.add_parser("commit-msg", help="check the trailer block of an ops commit",
                         description=COMMIT_MSG)
    msg.add_argument("file", type=Path, metavar="FILE", help="the commit message file git passes")
    for s in (pre, msg):
        s.add_argument("--base", default="main", metavar="BRANCH",
                       help="the base branch whose committed config holds the rules "
                            "(default: main; origin/BRANCH is read first where it exists)")
        s.add_argument("--json", action="store_true",
                       help="also print one JSON object on stdout (applies, problems)")
    return p


def _json(hook: str | None, applies: bool, problems: Sequence[str], code: int,
          fix: str | None = None) -> None:
    import json

    doc: dict[str, object] = {"schema": "evidencebot.hook/1", "hook": hook,
                              "applies": applies, "ok": code == 0, "problems": list(problems),
                              "exit_code": code}
    if code:
        doc["error"] = {"message": f"the {hook} hook refused: {len(problems)} problem(s)"
                        if code == 1 else (problems[0] if problems else "usage error"),
                        "fix": fix if code == 2 else
                        "evidencebot explain " + ("scope" if hook == "pre-commit"
                                                  else "trailers"),
                        "exit_code": code}
    sys.stdout.write(json.dumps(doc) + "\n")


def merging(repo: Path) -> bool:
    """Whether the commit being made is a merge (git's MERGE_HEAD is there): its staged
    change is what the other side brought (the base's reviewed code and config), which no
    ops commit may make, and its message names no run. The hooks leave it to `verify`,
    which passes the plain merge of the base and refuses one with changes
    (`merge-with-changes`). Found by a newcomer: `git merge main` on the ops branch, which
    the README calls fine, was refused."""
    gitdir = repo / (os.environ.get("GIT_DIR") or ".git")
    if gitdir.is_file():  # (a linked worktree: ".git" names its folder)
        said = gitdir.read_text(encoding="utf-8", errors="replace").strip()
        gitdir = repo / said.removeprefix("gitdir:").strip() if said.startswith("gitdir:") \
            else gitdir
    return (gitdir / "MERGE_HEAD").is_file()


def pre_commit(base: str, *, as_json: bool = False, repo: Path = Path(".")) -> int:
    from .. import git
    from ..md import blocks as mdblocks
    from .changes import judge_staged

    if merging(repo):
        if as_json:
            _json("pre-commit", False, [], 0)
        return 0

    store = _blocks_store(repo)
    if store is not None:
        mdblocks.adopt(store.load())
    try:
        applies, violations = judge_staged(repo, base)
        if store is not None and applies:
            store.save(mdblocks.found())
    except git.GitError as e:
        return _git_failed("pre-commit", e, repo, as_json)
    if as_json:
        _json("pre-commit", applies, [v.render() for v in violations], 1 if violations else 0)
    if not applies or not violations:
        return 0
    sys.stderr.write(f"evidencebot: this ops commit breaks {len(violations)} scope rule(s):\n")
    for v in violations:
        sys.stderr.write(f"  {v.render()}\n")
    return 1


def _git_failed(hook: str, error: Exception, repo: Path, as_json: bool) -> int:
    """A git command the hook ran failed: exit 2, in one line (and its Fix). Outside any
    repository (the hook run by hand elsewhere: git runs hooks inside one), that."""
    from .. import git
    from ..errors import UsageError

    said, fix = str(error), ""
    try:
        git.top(repo)  # (asked only now: no process on a commit that goes well)
    except UsageError as e:
        said, fix = str(e), "run it inside the trading repository's checkout (git runs it " \
            "there, at each commit)"
    sys.stderr.write(f"evidencebot: error: {said}\n" + (f"Fix: {fix}\n" if fix else ""))
    if as_json:
        _json(hook, False, [said], 2, fix=fix or None)
    return 2


def _blocks_store(repo: Path) -> Store | None:
    """`changes.markdown_shortcut` in the git dir (hooks run at the top level; no process
    to ask git where it is: a worktree without GIT_DIR just goes without)."""
    from .changes import markdown_shortcut

    gitdir = repo / (os.environ.get("GIT_DIR") or ".git")
    return markdown_shortcut(gitdir) if gitdir.is_dir() else None


def commit_msg(file: Path, base: str, *, as_json: bool = False, repo: Path = Path(".")) -> int:
    from .. import git

    try:
        code, applies, problems = _commit_msg(file, base, repo)
    except git.GitError as e:
        return _git_failed("commit-msg", e, repo, as_json)
    if as_json:
        _json("commit-msg", applies, problems, code)
    return code


def _commit_msg(file: Path, base: str, repo: Path) -> tuple[int, bool, list[str]]:
    from ..evidence.trailers import check, parse_block
    from .changes import applies, base_rules, current_branch

    try:
        message = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else \
            "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else str(e)
        sys.stderr.write(f"evidencebot: error: cannot read the commit message file {file}: "
                         f"{why}\nFix: git runs this hook with the message file's path; "
                         "by hand, give the path of a file holding a commit message\n")
        return 2, False, [f"cannot read {file}: {why}"]
    if merging(repo):
        return 0, False, []
    rules = base_rules(repo, base, inherit_env=True)
    if not applies(current_branch(repo), rules, os.environ):
        return 0, False, []
    # lines as git reads them (at LF only: str.splitlines would also break at a form feed
    # or a lone CR, and the block checked would not be the block git reads)
    body = "\n".join(ln for ln in _before_scissors(message.split("\n"))
                     if not ln.startswith("#"))
    pairs, junk = parse_block(body)
    problems = check(pairs, junk, body)
    if problems:
        sys.stderr.write("evidencebot: an ops commit needs a valid trailer block:\n")
        for p in problems:
            sys.stderr.write(f"  {p}\n")
        sys.stderr.write("  Fix: let evidencebot make ops commits (record, run, close), or end "
                         "the message with the trailers `evidencebot explain trailers` lists "
                         "for its Evidence-Kind.\n")
        return 1, True, problems
    # (what only the message tells: whose record or closure page the commit adds)
    found = _strays_staged(repo, dict(pairs), rules)
    for v in found:
        sys.stderr.write(f"evidencebot: {v.render()}\n")
    return (1, True, [v.render() for v in found]) if found else (0, True, [])


def _before_scissors(lines: list[str]) -> list[str]:
    """The message's lines before git's scissors line: `git commit -v` (commit.verbose)
    puts the diff after it in the file the hook reads, and git drops it all afterwards."""
    for k, line in enumerate(lines):
        if line[1:] == " ------------------------ >8 ------------------------":
            return lines[:k]
    return lines


def _strays_staged(repo: Path, trailers: dict[str, str], rules: Rules) -> list[Violation]:
    """`rules.strays` of the commit being made: the paths it adds (the index against HEAD,
    as the hook sees it) against its trailer block."""
    from .. import git
    from .rules import strays

    added = git.run(repo, "diff", "--cached", "--name-only", "--no-renames", "-z",
                    "--diff-filter=A", inherit_env=True).decode("utf-8", "surrogateescape")
    return strays(trailers, [p for p in added.split("\x00") if p], rules)


def plain(argv: Sequence[str]) -> Args | None:
    """``argv`` read without argparse when it is one of the plain forms git and
    pre-commit pass (a hook name, ``--base B`` or ``--base=B``, ``--json``, and
    commit-msg's file); None for anything else, which `parser` reads and answers (help,
    errors, abbreviations). argparse and its help formatter cost a hook about 8 ms.
    tests/test_hook_args.py holds every plain reading to argparse's."""
    if not argv or argv[0] not in ("pre-commit", "commit-msg"):
        return None
    base, as_json, files = "main", False, []
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--json":
            as_json = True
        elif arg == "--base":
            base = next(rest, "-")
            if base.startswith("-"):
                return None
        elif arg.startswith("--base="):
            base = arg[len("--base="):]
        elif arg.startswith("-"):
            return None
        else:
            files.append(arg)
    if len(files) != (argv[0] == "commit-msg"):
        return None
    return Args(argv[0], base, as_json, Path(files[0]) if files else None)


def main(argv: Sequence[str], repo: Path = Path(".")) -> int:
    """The hook ``argv`` names, run in ``repo`` (where git runs hooks: its top level).
    ``--json`` anywhere before ``--`` counts, as it does for every command."""
    end = list(argv).index("--") if "--" in argv else len(argv)
    if "--json" in argv[:end]:
        rest = [a for a in argv[:end] if a != "--json"]
        argv = [*rest[:1], "--json", *rest[1:], *argv[end:]]
    args = plain(argv)
    if args is None:
        try:
            parsed = parser().parse_args(list(argv))
        except SystemExit as e:  # --help
            return int(e.code or 0)
        except _Usage as e:
            sys.stderr.write(f"evidencebot: error: {e}\nFix: see `evidencebot hook --help`\n")
            if "--json" in argv:
                _json(argv[0] if argv[0] in ("pre-commit", "commit-msg") else None,
                      False, [str(e)], 2, fix="see `evidencebot hook --help`")
            return 2
        args = Args(parsed.hook, parsed.base, parsed.json, getattr(parsed, "file", None))
    from .. import git

    try:  # the base's committed rules judge: a revision ("main~1") would read older ones
        git.branch_form(args.base)
    except ValueError as e:
        fix = "give the base branch's name alone, e.g. --base main"
        sys.stderr.write(f"evidencebot: error: --base: {e}\nFix: {fix}\n")
        if args.json:
            _json(args.hook, False, [f"--base: {e}"], 2, fix=fix)
        return 2
    if args.hook == "pre-commit":
        return pre_commit(args.base, as_json=args.json, repo=repo)
    assert args.file is not None  # argparse requires it; `plain` reads exactly one
    return commit_msg(args.file, args.base, as_json=args.json, repo=repo)
