"""What `verify` finds: a finding names the commit, the rule, what is wrong and how to
mend it; the report holds them with the range's commits and runs."""

from __future__ import annotations

from typing import Any

from ..evidence.history import OpsCommit
from ..frozen import frozen


@frozen
class Finding:
    commit: str
    rule: str
    message: str
    fix: str = ""
    path: str = ""
    lines: tuple[int, int] | None = None
    section: str = ""

    def render(self) -> str:
        where = self.path + (f":{self.lines[0]}" if self.lines else "")
        sec = f"[{self.section}]" if self.section else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        at = " ".join(part for part in (self.commit[:12], where, sec) if part)
        return f"{at}: {self.message} ({self.rule}).{fix}"

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "rule": self.rule, "message": self.message,
                "fix": self.fix, "path": self.path,
                "lines": list(self.lines) if self.lines else None, "section": self.section}


class Report:
    """What verify found in a range: its commits, its runs, their findings. (A plain
    class: a dataclass compiles its methods at every start, about half a millisecond.)"""

    def __init__(self, range: str) -> None:
        self.range = range
        self.commits = 0
        self.runs: list[str] = []
        self.run_commits: list[OpsCommit] = []
        self.findings: list[Finding] = []
        self.squashed = False
        self.code = False  # a range that holds no ops commit (`judge_code`)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "range": self.range, "commits": self.commits,
                "runs": self.runs, "squashed": self.squashed, "code": self.code,
                "violations": [f.to_json() for f in self.findings]}
