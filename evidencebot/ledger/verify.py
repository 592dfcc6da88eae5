"""`verify`: CI's second look. Every commit in the range passes the scope rules against its
parent; every run commit's trailers equal what its record says; closures have their
streak. Catches what slipped past the hook (`--no-verify`, a forged trailer), not a
fabricated but self-consistent record (that is the reviewer's job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import git
from ..evidence import history
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.record import EvidenceRecord
from ..evidence.render import run_trailers
from ..guard import changes as guard
from ..guard.rules import Rules


@dataclass(frozen=True)
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
        sec = f" [{self.section}]" if self.section else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{self.commit[:12]} {where}{sec}: {self.message} ({self.rule}).{fix}"

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "rule": self.rule, "message": self.message,
                "fix": self.fix, "path": self.path,
                "lines": list(self.lines) if self.lines else None, "section": self.section}


@dataclass
class Report:
    range: str
    commits: int = 0
    runs: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    squashed: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "range": self.range, "commits": self.commits,
                "runs": self.runs, "squashed": self.squashed,
                "violations": [f.to_json() for f in self.findings]}


def resolve_range(repo: Path, *, spec: str | None, base: str,
                  end: str | None = None) -> tuple[str | None, str, str]:
    """(start, end, mode): "range" judges every commit in start..end; "history" judges the
    ops commits reachable from HEAD (on the base branch itself, after a merge)."""
    if spec:
        start, sep, end = spec.partition("..")
        if not sep or not start or git.rev_parse(repo, start) is None or \
                git.rev_parse(repo, end or "HEAD") is None:
            from ..errors import UsageError

            raise UsageError(f"--range {spec!r}: give two existing commits as A..B")
        return git.rev_parse(repo, start), git.rev_parse(repo, end or "HEAD") or "", "range"
    head = git.rev_parse(repo, end or "HEAD")
    if head is None:
        from ..errors import UsageError

        raise UsageError("HEAD has no commits to verify")
    ref = guard.base_ref(repo, base)
    if ref is None:
        return None, head, "history"
    mb = git.out(repo, "merge-base", head, ref).strip()
    if mb == head:  # on the base branch (or behind it): look at the whole history
        return None, head, "history"
    return mb, head, "range"


def verify(repo: Path, *, spec: str | None, base: str, bot_author: str,
           end: str | None = None) -> Report:
    """Verify ``spec`` (A..B), or the merge base with ``base`` up to ``end`` (HEAD)."""
    start, end, mode = resolve_range(repo, spec=spec, base=base, end=end)
    if mode == "range":
        # One process for the whole range, parents included.
        listing = git.out(repo, "rev-list", "--reverse", "--topo-order", "--parents",
                          f"{start}..{end}").splitlines()
        shas = {line.split()[0]: line.split()[1:] for line in listing if line}
        everything = {c.sha: c for c in history.read(repo, end, bot_author=bot_author)}
        prior = history.read(repo, start, bot_author=bot_author) if start else []
        rules = guard.rules_at(repo, start)
        report = Report(f"{(start or '')[:12]}..{end[:12]}")
        _walk(repo, report, shas, everything, prior, rules, require_ops=True)
        return report
    ops = history.read(repo, end, bot_author=bot_author)
    oldest_parent = ops[-1].parents[0] if ops and ops[-1].parents else None
    rules = guard.rules_at(repo, oldest_parent or guard.base_ref(repo, base))
    report = Report(f"ops commits reachable from {end[:12]}")
    by_sha = {c.sha: c for c in ops}
    _walk(repo, report, {c.sha: list(c.parents) for c in reversed(ops)}, by_sha, [], rules,
          require_ops=False)
    _check_squash(repo, report, end, set(by_sha))
    return report


def _walk(repo: Path, report: Report, shas: dict[str, list[str]], ops: dict[str, OpsCommit],
          prior: list[OpsCommit], rules: Rules, *, require_ops: bool) -> None:
    """Judge each commit (oldest first; ``shas`` maps each to its parents)."""
    streak_runs = [c.run_id for c in reversed(streaks.streak_runs(prior))]
    streak = len(streak_runs)
    for sha, parents in shas.items():
        report.commits += 1
        c = ops.get(sha)
        if c is None:
            if require_ops:
                report.findings.append(Finding(sha, "not-an-ops-commit",
                                               "a commit without an evidence trailer block",
                                               "ops branches hold evidencebot's commits only"))
                _scope(repo, report, sha, parents, rules, streak)
            continue
        for problem in c.problems:
            report.findings.append(Finding(sha, "trailers", problem,
                                           "trailers are written by evidencebot; do not edit"))
        if len(parents) > 1 and not require_ops:
            continue
        _scope(repo, report, sha, parents, rules, streak)
        if c.is_run:
            streak, streak_runs = _check_run(repo, report, c, rules, streak, streak_runs)
        elif c.kind == "milestone":
            _check_closure(report, c, rules, streak, streak_runs)


def _scope(repo: Path, report: Report, sha: str, parents: list[str], rules: Rules,
           streak: int) -> None:
    from ..guard.scope import judge

    changes = guard.commit_changes(repo, parents[0] if parents else None, sha,
                                   {rules.backlog, rules.design, rules.session_log})
    for v in judge(changes, rules, streak_of=lambda _m: streak):
        report.findings.append(Finding(sha, v.rule, v.message, v.fix, v.path, v.lines,
                                       v.section))


def _check_run(repo: Path, report: Report, c: OpsCommit, rules: Rules, streak: int,
               streak_runs: list[str]) -> tuple[int, list[str]]:
    t = c.trailers
    path = t.get("Evidence-Record", "")
    data = git.show_bytes(repo, c.sha, path) if path else None
    e = streaks.commit_effect(c)
    new_streak = streaks.next_streak(streak, c.outcome,
                                     dirty=t.get("Code-Dirty") == "true")
    runs = ([*streak_runs, c.run_id] if e == streaks.COUNTS else
            [] if e == streaks.RESETS_STREAK else streak_runs)
    report.runs.append(c.run_id)
    if data is None:
        report.findings.append(Finding(c.sha, "record-missing", f"no record at {path!r}",
                                       path=path))
        return new_streak, runs
    parent_has = c.parents and git.show_bytes(repo, c.parents[0], path) is not None
    if parent_has:
        report.findings.append(Finding(c.sha, "record-not-new",
                                       "the record existed before this commit", path=path))
    try:
        record = EvidenceRecord.model_validate_json(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the record"
        report.findings.append(Finding(c.sha, "record-unreadable",
                                       f"record unreadable: {where}: {first['msg']}",
                                       path=path))
        return new_streak, runs
    expected = run_trailers(
        record, path=path, data=data, streak=new_streak,
        consecutive=rules.burnin_needed,
        config_sha=t.get("Config-Sha256", ""), version=t.get("Evidencebot-Version", ""))
    want = dict(expected)
    for key in set(want) | {k for k in t if k.startswith(("Burnin-", "Evidence-", "Code-",
                                                           "Ibkr-"))}:
        if t.get(key) != want.get(key):
            report.findings.append(Finding(
                c.sha, "trailer-mismatch",
                f"{key}: trailer says {t.get(key)!r}, the record gives {want.get(key)!r}",
                "trailers must be recomputable from the record; re-record the run", path))
    outcome = _outcome_from(record, rules)
    if outcome is not None and outcome != record.outcome.value:
        report.findings.append(Finding(
            c.sha, "outcome-mismatch",
            f"the record says {record.outcome.value!r} but its metrics and the thresholds "
            f"give {outcome!r}", path=path))
    return new_streak, runs


def _outcome_from(record: EvidenceRecord, rules_: Rules) -> str | None:
    """The verdict recomputed from the record's metrics and the base config's thresholds."""
    from types import SimpleNamespace

    from ..config import Qualify
    from ..evidence.verdict import verdict

    m = record.metrics
    if m is None or not record.outcome.reported:
        return None
    metrics = SimpleNamespace(**m.model_dump(), report_passed=None)
    q = Qualify.model_validate(rules_.qualify) if rules_.qualify else Qualify()
    return verdict(metrics, q, code_dirty=record.code.dirty is True).outcome


def _check_closure(report: Report, c: OpsCommit, rules: Rules, streak: int,
                   streak_runs: list[str]) -> None:
    mo = c.trailers.get("Milestone", "")
    need = rules.milestones.get(mo)
    if need is None:
        report.findings.append(Finding(c.sha, "milestone-without-rule",
                                       f"{mo} closed without a [milestone.{mo}] rule"))
        return
    if streak < need:
        report.findings.append(Finding(c.sha, "milestone-closed-early",
                                       f"{mo} closed with a streak of {streak}/{need}",
                                       f"record {need - streak} more qualifying run(s)"))
        return
    named = [r.strip() for r in c.trailers.get("Milestone-Evidence", "").split(",") if r.strip()]
    if named != streak_runs[-need:]:
        report.findings.append(Finding(
            c.sha, "milestone-evidence-mismatch",
            f"Milestone-Evidence names {', '.join(named)}; the streak is "
            f"{', '.join(streak_runs[-need:])}"))


def _check_squash(repo: Path, report: Report, end: str, ops: set[str]) -> None:
    raw = git.run(repo, "log", "-z", "--format=%x01%H", "--diff-filter=A", "--name-only",
                  end, "--", "reports/evidence/").decode("utf-8", "replace")
    for block in raw.split("\x01")[1:]:
        sha, _, names = block.partition("\n")
        records = [n for n in names.replace("\x00", "\n").split("\n") if n.endswith(".json")]
        if sha.strip("\x00") not in ops and records:
            report.squashed = True
            report.findings.append(Finding(
                sha.strip("\x00"), "history-squashed",
                f"the history was squashed: this commit adds {len(records)} evidence "
                "record(s) without their ops commits, so their trailers are gone",
                "merge the ops branch with a merge commit; do not squash"))
