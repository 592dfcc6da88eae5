"""Pre-run checks. Each returns a CheckResult with a reason and a fix; the clock, the
environment and the commands are passed in."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from ..evidence.stamps import stamp
from ..evidence.window import Window, interval_problem, next_window_start
from ..frozen import field, frozen
from ..redact import redact
from ..textsafe import clean, line

Status = Literal["PASS", "FAIL", "WARN"]
EVIDENCE_LIMIT = 4000  # characters of command output kept as evidence


@frozen
class CheckResult:
    name: str
    status: Status
    reason: str
    fix: str = ""
    evidence: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "reason": self.reason,
                "fix": self.fix, "evidence": self.evidence, "data": dict(self.data)}


def check_window(*, now: datetime, run_seconds: int, window: Window) -> CheckResult:
    """PASS when a run started now would start and end inside the session window."""
    now = now.astimezone(UTC)
    data = {"now": stamp(now),  # (as every time --json prints)
            "run_seconds": run_seconds, "window": window.describe()}
    try:
        nxt = next_window_start(after=now, run_seconds=run_seconds, window=window)
    except ValueError as e:
        return CheckResult("window", "FAIL", str(e), "widen [window] or shorten the run",
                           data=data)
    if nxt == now:
        return CheckResult("window", "PASS", f"{now:%a %H:%M} UTC is inside {window.describe()}",
                           data={**data, "next": stamp(nxt)})
    fix = f"start at {nxt:%a %Y-%m-%d %H:%M} UTC, the next slot where the run fits"
    reason = interval_problem(now, now + timedelta(seconds=run_seconds), window) or \
        f"the next slot is {nxt:%a %H:%M} UTC"
    return CheckResult("window", "FAIL", reason, fix, data={**data, "next": stamp(nxt)})


# --- health ------------------------------------------------------------------------------

@contextmanager
def own_pycache() -> Iterator[dict[str, str]]:
    """The environment that gives a child Python a folder of its own for what it compiles
    (PYTHONPYCACHEPREFIX): a .pyc it left in the checkout's __pycache__ would make the code
    under test dirty (newcomer 17), or run code the code state does not see (the wrapper)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="evidencebot-pycache-",
                                     ignore_cleanup_errors=True) as cache:
        yield {"PYTHONPYCACHEPREFIX": cache}


def _run(command: Sequence[str], *, cwd: Path, timeout: float,
         env: Mapping[str, str] | None) -> tuple[int | None, str, str]:
    """(exit code or None on timeout, output, error) — never raises for the command's sake.
    Python compiles into a folder of the command's own (`own_pycache`)."""
    import os

    try:
        with own_pycache() as cache:
            proc = subprocess.run(list(command), cwd=cwd, capture_output=True, timeout=timeout,
                                  env={**os.environ, **cache, **(env or {})},
                                  stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return -1, "", f"command not found: {command[0]}"
    except PermissionError:
        return -1, "", f"not executable: {command[0]}"
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return None, out, (e.stderr or b"").decode("utf-8", "replace")
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"))


def strict_health(command: Sequence[str]) -> bool:
    """Whether a health command asks for the strict check (`--strict-health`, or the
    PowerShell spelling `-StrictHealth`)."""
    return any(re.sub(r"[^a-z]", "", arg.lower()) == "stricthealth" for arg in command)


def check_health(*, command: Sequence[str], cwd: Path, timeout_seconds: float,
                 env: Mapping[str, str] | None = None, strict: bool = False) -> CheckResult:
    """The bot's health check: exit 0 and no `"healthy": false` in its JSON. ``strict``
    (the runbook's `--strict-health`): anything short of a clear pass fails — exit 0 and a
    JSON report saying `"healthy": true` (or, without that key, listing checks that are
    all ok) with no failing check."""
    code, out, err = _run(command, cwd=cwd, timeout=timeout_seconds, env=env)
    evidence = clean(redact((out + ("\n" + err if err else "")).strip()))[-EVIDENCE_LIMIT:]
    shown = " ".join(command)
    data: dict[str, Any] = {"command": list(command), "exit_code": code, "strict": strict}
    fix = f"run `{shown}` and fix what it reports"
    if code is None:
        return CheckResult("health", "FAIL", f"timed out after {timeout_seconds:g} s", fix,
                           evidence, data)
    if code == -1:
        return CheckResult("health", "FAIL", err, "set [health] command", evidence, data)
    doc = _json(out)
    checks = doc.get("checks") if isinstance(doc, dict) else None
    checks = [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []
    failing = [line(str(c.get("name", "?")))[:60] for c in checks if c.get("ok") is False]
    if code != 0:
        last = [line(ln) for ln in clean(redact(err)).splitlines() if ln.strip()][-1:]
        told = [t if len(t) <= 240 else t[:239] + "…" for t in last]  # (the whole log is kept)
        return CheckResult("health", "FAIL", f"exited {code}" + (
            f"; failing: {', '.join(failing)}" if failing else
            f": {told[0]}" if told else ""), fix, evidence, data)
    if isinstance(doc, dict) and doc.get("healthy") is False:
        return CheckResult("health", "FAIL", "reports healthy: false" + (
            f"; failing: {', '.join(failing)}" if failing else ""), fix, evidence, data)
    if not isinstance(doc, dict):
        if strict:
            return CheckResult("health", "FAIL", "exited 0 but printed no JSON health report: "
                               "under --strict-health only a clear pass passes", fix,
                               evidence, data)
        return CheckResult("health", "WARN", "exited 0 but printed no JSON health report",
                           "check the command is the strict health check", evidence, data)
    if strict:
        said = doc.get("healthy")
        if failing:
            return CheckResult("health", "FAIL", f"failing: {', '.join(failing)} (strict)", fix,
                               evidence, data)
        if said is not True and not (said is None and checks
                                     and all(c.get("ok") is True for c in checks)):
            return CheckResult("health", "FAIL", "the report does not say healthy: true "
                               "(strict)", fix, evidence, data)
        return CheckResult("health", "PASS", "healthy (strict)", "", evidence, data)
    return CheckResult("health", "PASS", "healthy", "", evidence, data)


def _json(text: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError:
        return None


# --- kill switch -------------------------------------------------------------------------

def check_kill_switch(*, repo: Path, path: str, command: Sequence[str] = (),
                      timeout_seconds: float = 30,
                      env: Mapping[str, str] | None = None) -> CheckResult:
    """Cleared: the command exits 0, or the file is absent or holds `"active": false`."""
    fix_clear = "the operator clears the kill switch after checking why it was set"
    if command:
        code, out, err = _run(command, cwd=repo, timeout=timeout_seconds, env=env)
        data = {"command": list(command), "exit_code": code}
        if code == 0:
            return CheckResult("kill-switch", "PASS", "cleared (command exited 0)", data=data)
        why = "timed out" if code is None else err if code == -1 else f"exited {code}"
        return CheckResult("kill-switch", "FAIL", f"not cleared: the command {why}",
                           fix_clear, (out + err)[-EVIDENCE_LIMIT:], data)
    file = repo / path
    data2: dict[str, Any] = {"path": path}
    if not file.exists():
        return CheckResult("kill-switch", "PASS", f"cleared ({path} absent)", data=data2)
    try:
        doc = json.loads(file.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return CheckResult("kill-switch", "FAIL",
                           f"{path} is unreadable ({type(e).__name__}): a kill switch that "
                           "cannot be read is not cleared", f"fix or remove {path}", data=data2)
    active = doc.get("active") if isinstance(doc, dict) else None
    if active is False:
        return CheckResult("kill-switch", "PASS", f'cleared ({path}: "active": false)',
                           data=data2)
    if active is True:
        return CheckResult("kill-switch", "FAIL", f'active ({path}: "active": true)',
                           fix_clear, data=data2)
    return CheckResult("kill-switch", "FAIL", f'{path} has no boolean "active"',
                       f'write {{"active": false}} to {path} once it is safe', data=data2)


def summary(results: Sequence[CheckResult]) -> str:
    """One line for the session log: 'window ok; health ok; ...'."""
    return "; ".join(f"{r.name} {'ok' if r.status == 'PASS' else r.status.lower()}"
                     + ("" if r.status == "PASS" else f" ({r.reason})") for r in results)
