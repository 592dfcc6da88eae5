"""Hook entry points, kept off click, rich and pydantic: they run on every commit.

    evidencebot hook pre-commit [--base BRANCH]         the scope guard on the staged change
    evidencebot hook commit-msg [--base BRANCH] FILE    the trailer block of an ops commit
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

DESCRIPTION = ("Ops commits (on branches matching [scope] branches, or with "
               "EVIDENCEBOT_SESSION=OPS) are judged against the rules committed on the base "
               "branch. Exit 0: allowed; 1: refused (each violation says how to fix it); "
               "2: usage error.")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evidencebot hook", description=DESCRIPTION)
    sub = p.add_subparsers(dest="hook", required=True, metavar="HOOK")
    pre = sub.add_parser("pre-commit", help="judge the staged change against the scope rules",
                         description=DESCRIPTION)
    msg = sub.add_parser("commit-msg", help="check the trailer block of an ops commit",
                         description=DESCRIPTION)
    msg.add_argument("file", type=Path, help="the commit message file git passes")
    for s in (pre, msg):
        s.add_argument("--base", default="main", metavar="BRANCH",
                       help="the base branch whose committed config holds the rules "
                            "(default: main; origin/BRANCH is read first where it exists)")
    return p


def pre_commit(base: str) -> int:
    from .. import git
    from .changes import judge_staged

    try:
        applies, violations = judge_staged(Path("."), base)
    except git.GitError as e:
        sys.stderr.write(f"evidencebot: error: {e}\n")
        return 2
    if not applies or not violations:
        return 0
    sys.stderr.write(f"evidencebot: this ops commit breaks {len(violations)} scope rule(s):\n")
    for v in violations:
        sys.stderr.write(f"  {v.render()}\n")
    return 1


def commit_msg(file: Path, base: str) -> int:
    from ..evidence.trailers import validate
    from .changes import applies, base_rules, current_branch

    try:
        message = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write(f"evidencebot: error: cannot read {file}: {e}\n")
        return 2
    repo = Path(".")
    rules = base_rules(repo, base, inherit_env=True)
    if not applies(current_branch(repo), rules, os.environ):
        return 0
    body = "\n".join(ln for ln in message.splitlines() if not ln.startswith("#"))
    problems = validate(body)
    if not problems:
        return 0
    sys.stderr.write("evidencebot: an ops commit needs a valid trailer block:\n")
    for p in problems:
        sys.stderr.write(f"  {p}\n")
    sys.stderr.write("  Fix: let evidencebot make ops commits (record, run, close), or end the "
                     "message with the trailers `evidencebot explain trailers` lists for its "
                     "Evidence-Kind.\n")
    return 1


def main(argv: Sequence[str]) -> int:
    try:
        args = parser().parse_args(list(argv))
    except SystemExit as e:  # --help (0) and usage errors (2), as argparse decided
        return int(e.code or 0)
    if args.hook == "pre-commit":
        return pre_commit(args.base)
    return commit_msg(args.file, args.base)
