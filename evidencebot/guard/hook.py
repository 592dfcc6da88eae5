"""Hook entry points, kept off click, rich and pydantic: they run on every commit.

    evidencebot hook pre-commit        the scope guard on the change being committed
    evidencebot hook commit-msg FILE   the trailer block of an ops commit
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

USAGE = """\
usage: evidencebot hook pre-commit [--base BRANCH]
       evidencebot hook commit-msg [--base BRANCH] FILE

pre-commit  judge the staged change against the scope rules committed on the base branch
            (only on branches matching [scope] branches, or with EVIDENCEBOT_SESSION=OPS)
commit-msg  check the trailer block of an ops commit (Evidence-Kind and its keys)
exit 0: allowed; 1: refused (each violation says how to fix it); 2: usage error
"""


def pre_commit(argv: Sequence[str]) -> int:
    from .. import git
    from .changes import judge_staged

    args = list(argv)
    repo = Path(".")
    if args[:1] == ["--base"] and len(args) == 2:
        os.environ["EVIDENCEBOT_BASE"] = args[1]
    elif args:
        sys.stderr.write(USAGE)
        return 2
    try:
        applies, violations = judge_staged(repo)
    except git.GitError as e:
        sys.stderr.write(f"evidencebot: error: {e}\n")
        return 2
    if not applies or not violations:
        return 0
    sys.stderr.write(f"evidencebot: this ops commit breaks {len(violations)} scope rule(s):\n")
    for v in violations:
        sys.stderr.write(f"  {v.render()}\n")
    return 1


def commit_msg(argv: Sequence[str]) -> int:  # noqa: C901
    from ..evidence.trailers import validate
    from .changes import applies, base_name, base_rules, current_branch

    argv = list(argv)
    if argv[:1] == ["--base"] and len(argv) >= 2:
        os.environ["EVIDENCEBOT_BASE"] = argv[1]
        argv = argv[2:]
    if len(argv) != 1:
        sys.stderr.write(USAGE)
        return 2
    try:
        message = Path(argv[0]).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write(f"evidencebot: error: cannot read {argv[0]}: {e}\n")
        return 2
    repo = Path(".")
    rules = base_rules(repo, base_name(), inherit_env=True)
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
                     "message with the trailers DESIGN.md lists for its Evidence-Kind.\n")
    return 1


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name == "pre-commit":
        return pre_commit(rest)
    if name == "commit-msg":
        return commit_msg(rest)
    sys.stderr.write(f"evidencebot: error: no hook named {name!r}\n{USAGE}")
    return 2
