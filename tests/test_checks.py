"""Pre-run checks: the session window (UK bank holidays), health command, kill switch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

import pytest

from evidencebot.evidence.window import Window, next_window_start
from evidencebot.runbook.checks import (
    check_health,
    check_kill_switch,
    check_window,
    strict_health,
)

RUNBOOK = Window(("Mon", "Tue", "Wed", "Thu", "Fri"), clock(8), clock(16), "UK")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("now", "seconds", "status", "reason"), [
    pytest.param("2026-11-25 09:00", 1800, "PASS", "inside", id="wednesday-morning"),
    pytest.param("2026-11-28 10:00", 1800, "FAIL", "Saturday is not a session day", id="saturday"),
    pytest.param("2026-12-28 09:00", 1800, "FAIL",
                 "2026-12-28 is a UK bank holiday (Boxing Day", id="substitute-boxing-day"),
    pytest.param("2026-12-25 09:00", 1800, "FAIL", "Christmas Day", id="christmas"),
    pytest.param("2026-11-25 07:59", 1800, "FAIL",
                 "07:59 UTC is before the window opens at 08:00", id="07-59"),
    pytest.param("2026-11-25 08:00", 1800, "PASS", "inside", id="08-00-exactly"),
    pytest.param("2026-11-25 15:45", 1800, "FAIL",
                 "a 1800 s run started at 15:45 UTC would end at 16:15, after the window "
                 "closes at 16:00", id="15-45-start-ends-late"),
    pytest.param("2026-11-25 15:30", 1800, "PASS", "inside", id="15-30-ends-at-16-00"),
    pytest.param("2026-11-25 16:00", 60, "FAIL", "after the window closed at 16:00",
                 id="after-close"),
])
def test_window(now: str, seconds: int, status: str, reason: str) -> None:
    r = check_window(now=at(now), run_seconds=seconds, window=RUNBOOK)
    assert r.status == status
    assert reason in r.reason
    assert r.data["now"] == f"{now.replace(' ', 'T')}:00Z"  # (as every time --json prints)
    if status == "FAIL":
        assert r.fix.startswith("start at ")


def test_the_window_check_says_now_as_every_time_json_prints() -> None:
    """A newcomer found check's "now" with microseconds and +00:00 beside every other
    time's ...Z."""
    r = check_window(now=at("2026-11-25 09:00").replace(microsecond=148696),
                     run_seconds=1800, window=RUNBOOK)
    assert r.data["now"] == "2026-11-25T09:00:00Z"


@pytest.mark.parametrize(("now", "status", "expected"), [
    pytest.param("2026-11-25 09:00:00.148696", "PASS", "2026-11-25T09:00:00Z", id="fits-now"),
    pytest.param("2026-11-27 15:52:04.808611", "FAIL", "2026-11-30T08:00:00Z", id="monday"),
])
def test_the_window_check_says_next_as_every_time_json_prints(now: str, status: str,
                                                              expected: str) -> None:
    """A newcomer found check's "next" as 2026-11-27T15:52:04.808611+00:00 beside "now"
    as 2026-11-27T15:52:04Z."""
    r = check_window(now=at(now), run_seconds=1800, window=RUNBOOK)
    assert (r.status, r.data["next"]) == (status, expected)


@pytest.mark.parametrize(("start", "seconds", "blackout", "reason"), [
    pytest.param("2026-11-25 15:54:50", 320, (), "a 320 s run started at 15:54:50 UTC would "
                 "end at 16:00:10, after the window closes at 16:00", id="ends-in-the-minute"),
    pytest.param("2026-11-25 15:59:59.250000", 1, (), "a 1 s run started at 15:59:59.25 UTC "
                 "would end at 16:00:00.25, after the window closes at 16:00",
                 id="ends-in-the-second"),
    pytest.param("2026-11-25 15:54:50", 420, (), "a 420 s run started at 15:54 UTC would "
                 "end at 16:01, after the window closes at 16:00", id="minutes-say-it"),
    pytest.param("2026-11-25 11:59:30", 40, ((clock(12), clock(12, 30)),),
                 "a run from 11:59:30 to 12:00:10 UTC overlaps the blackout 12:00-12:30 UTC",
                 id="blackout-entered-in-the-minute"),
])
def test_a_run_ending_just_after_a_bound_says_its_seconds(
        start: str, seconds: int, blackout: tuple[tuple[clock, clock], ...],
        reason: str) -> None:
    """A newcomer read "a 320 s run started at 15:54 UTC would end at 16:00, after the
    window closes at 16:00": the minutes alone said it ended when the window closed."""
    w = Window(RUNBOOK.days, RUNBOOK.start, RUNBOOK.end, "UK", blackout)
    r = check_window(now=at(start), run_seconds=seconds, window=w)
    assert (r.status, r.reason) == ("FAIL", reason)


def test_holidays_can_be_switched_off() -> None:
    w = Window(RUNBOOK.days, RUNBOOK.start, RUNBOOK.end, "")
    assert check_window(now=at("2026-12-28 09:00"), run_seconds=1800, window=w).status == "PASS"


def test_always_open_window_for_the_demo() -> None:
    w = Window(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), clock(0), clock(0), "")
    assert check_window(now=at("2026-11-28 23:50"), run_seconds=1800, window=w).status == "PASS"


@pytest.mark.parametrize(("after", "expected"), [
    ("2026-11-27 15:45", "2026-11-30 08:00"),  # Friday too late → Monday
    ("2026-12-24 15:45", "2026-12-29 08:00"),  # Christmas, Boxing Day (substitute) skipped
    ("2026-11-25 07:00", "2026-11-25 08:00"),
    ("2026-11-25 10:00", "2026-11-25 10:00"),
])
def test_next_window_start(after: str, expected: str) -> None:
    assert next_window_start(after=at(after), run_seconds=1800, window=RUNBOOK) == at(expected)


def test_a_run_longer_than_the_window_never_fits() -> None:
    with pytest.raises(ValueError, match="never fits"):
        next_window_start(after=at("2026-11-25 09:00"), run_seconds=9 * 3600, window=RUNBOOK)


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


HEALTHY = 'import json; print(json.dumps({"healthy": True, "checks": [{"name": "ibkr_socket", "ok": True}]}))'
UNHEALTHY = ('import json; print(json.dumps({"healthy": False, "checks": '
             '[{"name": "ibkr_socket", "ok": False}, {"name": "clock", "ok": True}]}))')


NO_HEALTHY_KEY = 'import json; print(json.dumps({"checks": [{"name": "a", "ok": True}]}))'
HEALTHY_BUT_FAILING = ('import json; print(json.dumps({"healthy": True, "checks": '
                       '[{"name": "clock", "ok": False}]}))')


@pytest.mark.parametrize(("code", "strict", "status", "reason"), [
    pytest.param(HEALTHY, True, "PASS", "healthy (strict)", id="pass"),
    pytest.param(HEALTHY, False, "PASS", "healthy", id="pass-not-strict"),
    pytest.param("import sys; sys.exit(1)", True, "FAIL", "exited 1", id="non-zero-exit"),
    pytest.param("import sys; sys.stderr.write('no broker\\nconfig/uk.yaml: not found\\n'); "
                 "sys.exit(2)", True, "FAIL", "exited 2: config/uk.yaml: not found",
                 id="non-zero-exit-says-its-last-error-line"),
    # a long line (a path in it) whole, to where a word would be cut: Python's own error
    pytest.param("import sys; sys.stderr.write(\"python: can't open file '/" + "x" * 90 +
                 "/main.py': [Errno 2] No such file or directory\\n\"); sys.exit(2)", True,
                 "FAIL", "main.py': [Errno 2] No such file or directory",
                 id="a-long-last-line-is-kept-whole"),
    pytest.param(UNHEALTHY, True, "FAIL", "reports healthy: false; failing: ibkr_socket",
                 id="unhealthy-json"),
    pytest.param("print('ok')", False, "WARN", "no JSON", id="no-json-not-strict"),
    pytest.param("print('ok')", True, "FAIL", "exited 0 but printed no JSON health report",
                 id="no-json-strict-is-a-failure"),
    pytest.param("pass", True, "FAIL", "no JSON", id="silent-exit-0-strict-is-a-failure"),
    pytest.param(NO_HEALTHY_KEY, True, "PASS", "healthy (strict)", id="all-checks-ok-strict"),
    pytest.param('print("{}")', True, "FAIL", "does not say healthy: true",
                 id="empty-report-strict"),
    pytest.param('print("{}")', False, "PASS", "healthy", id="empty-report-not-strict"),
    pytest.param(HEALTHY_BUT_FAILING, True, "FAIL", "failing: clock (strict)",
                 id="healthy-but-a-check-failing-strict"),
    pytest.param("print('\\ufeff' + '{\"healthy\": true}')", True, "PASS", "healthy",
                 id="bom-json"),
])
def test_health(tmp_path: Path, code: str, strict: bool, status: str, reason: str) -> None:
    r = check_health(command=py(code), cwd=tmp_path, timeout_seconds=10, strict=strict)
    assert r.status == status and reason in r.reason


@pytest.mark.parametrize(("command", "strict"), [
    (["python", "main.py", "uk_health_check", "--profile", "uk_paper", "--strict-health"], True),
    (["pwsh", "-File", "health.ps1", "-StrictHealth"], True),
    (["python", "main.py", "uk_health_check"], False),
    (["python", "main.py", "--strict-healthy"], False),
])
def test_strict_health_is_read_from_the_command(command: list[str], strict: bool) -> None:
    assert strict_health(command) is strict


def test_health_timeout_is_a_failure_and_returns_promptly(tmp_path: Path) -> None:
    start = time.monotonic()
    r = check_health(command=py("import time; time.sleep(30)"), cwd=tmp_path,
                     timeout_seconds=0.5)
    assert r.status == "FAIL" and r.reason == "timed out after 0.5 s"
    assert time.monotonic() - start < 10


def test_health_missing_command(tmp_path: Path) -> None:
    r = check_health(command=["no-such-health-check-xyz"], cwd=tmp_path, timeout_seconds=5)
    assert r.status == "FAIL" and "command not found" in r.reason


def test_health_output_is_kept_redacted(tmp_path: Path) -> None:
    r = check_health(command=py("print('{\"healthy\": true, \"account\": \"DU1234567\"}')"),
                     cwd=tmp_path, timeout_seconds=5)
    assert "DU***" in r.evidence and "1234567" not in r.evidence


@pytest.mark.parametrize(("content", "status", "reason"), [
    pytest.param(None, "PASS", "absent", id="absent"),
    pytest.param({"active": False}, "PASS", '"active": false', id="inactive"),
    pytest.param({"active": True}, "FAIL", "active", id="active"),
    pytest.param("{not json", "FAIL", "unreadable", id="invalid-json"),
    pytest.param({"state": "off"}, "FAIL", 'no boolean "active"', id="no-active-key"),
])
def test_kill_switch_file(tmp_path: Path, content: object, status: str, reason: str) -> None:
    if content is not None:
        f = tmp_path / "state" / "kill_switch.json"
        f.parent.mkdir()
        f.write_text(content if isinstance(content, str) else json.dumps(content))
    r = check_kill_switch(repo=tmp_path, path="state/kill_switch.json")
    assert r.status == status and reason in r.reason


@pytest.mark.parametrize(("exit_code", "status"), [(0, "PASS"), (1, "FAIL")])
def test_kill_switch_command(tmp_path: Path, exit_code: int, status: str) -> None:
    r = check_kill_switch(repo=tmp_path, path="unused", command=py(f"raise SystemExit({exit_code})"))
    assert r.status == status


@pytest.mark.parametrize(("after", "expected"), [
    ("2026-11-25 10:00", "2026-11-26 08:00"),  # not the rest of today: tomorrow's window
    ("2026-11-27 10:00", "2026-11-30 08:00"),  # Friday → Monday
    ("2026-12-24 10:00", "2026-12-29 08:00"),  # over Christmas and the substitute Boxing Day
])
def test_market_data_retry_goes_to_a_later_window(after: str, expected: str) -> None:
    from evidencebot.evidence.window import retry_start

    assert retry_start(after=at(after), run_seconds=1800, window=RUNBOOK) == at(expected)


def test_checks_that_import_the_bot_leave_no_cache_in_the_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Newcomer 17: a health check importing the bot wrote src/bot/__pycache__, and the run
    it cleared was judged on dirty code (an untracked file under a code path)."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    (tmp_path / "src" / "bot").mkdir(parents=True)
    (tmp_path / "src" / "bot" / "__init__.py").write_text("HEALTHY = True\n")
    imports = "import sys; sys.path.insert(0, 'src'); import bot; "
    health = check_health(command=py(imports + "print('{\"healthy\": true}')"), cwd=tmp_path,
                          timeout_seconds=20)
    switch = check_kill_switch(repo=tmp_path, path="unused", command=py(imports + "pass"))
    assert (health.status, switch.status) == ("PASS", "PASS")
    assert not list(tmp_path.rglob("__pycache__"))
    # (as Python writes it when no folder of its own is given: the test can fail)
    subprocess.run(py(imports + "pass"), cwd=tmp_path, check=True, env={
        k: v for k, v in os.environ.items() if k not in ("PYTHONPYCACHEPREFIX",)})
    assert list(tmp_path.rglob("__pycache__"))
