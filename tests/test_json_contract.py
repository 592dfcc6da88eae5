"""One JSON contract: every command's --json output (failures included) validates against
the JSON Schema `evidencebot schema COMMAND` prints; --json works before or after the
command; numbers are numbers and a streak or a run has one shape everywhere."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import git

from evidencebot.sim.trading_repo import report, write_report

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
STREAK_KEYS = {"milestone", "count", "needed", "closed"}


def schema_of(cli: Any, command: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = cli("schema", command)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    jsonschema.Draft202012Validator.check_schema(doc)
    return doc


def valid(cli: Any, command: str, args: list[str | Path], *,  # type: ignore[no-untyped-def]
          code: int = 0, after: bool = False) -> dict[str, Any]:
    """Run ``args`` with --json (before the command, or after it) and check the one
    object it prints against the command's schema and exit code."""
    argv = [*args, "--json"] if after else ["--json", *args]
    r = cli(*argv)
    assert r.code == code, (argv, r.out, r.err)
    lines = [ln for ln in r.out.splitlines() if ln.strip()]
    assert len(lines) == 1, f"{command}: not one JSON object: {r.out!r}"
    doc = json.loads(lines[0])
    assert isinstance(doc, dict) and doc["schema"] == f"evidencebot.{command}/1"
    jsonschema.validate(doc, schema_of(cli, command))
    if code:  # (and one line on stderr, as every error is: newcomer 16, `check`'s was not)
        assert doc.get("error", {}).get("exit_code") == code
        said = [x for x in r.err.splitlines() if x.startswith("evidencebot: error: ")]
        assert command == "hook" or said == [f"evidencebot: error: {doc['error']['message']}"], \
            r.err  # (the hook's is its report of each problem, as a pre-commit hook's is)
    return doc


@pytest.fixture
def repo(trading_repo: Path, pinned_now: str) -> Path:
    return trading_repo


def rep(tmp_path: Path, n: int, *, filled: int = 2) -> Path:
    doc = report(finished=NOW - timedelta(minutes=45 * (8 - n)), filled=filled)
    return write_report(tmp_path / f"r{n}.json", doc)


def test_every_command_speaks_the_contract(repo: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    base = ["--repo", repo]
    first = valid(cli, "record", [*base, "record", rep(tmp_path, 0, filled=0)])
    assert set(first["streak"]) == STREAK_KEYS and first["run"]["qualifying"] is False
    assert first["run"]["metrics"]["filled_orders"] == 0  # a number, not "0"
    valid(cli, "void", [*base, "void", first["run"]["run_id"], "--reason", "wrong account"])
    for n in (1, 2, 3):
        doc = valid(cli, "record", [*base, "record", rep(tmp_path, n)], after=n == 2)
    assert doc["streak"]["count"] == 3 and doc["run"]["metrics"]["paper_duration_seconds"] == 1800
    again = valid(cli, "record", [*base, "record", rep(tmp_path, 3)])
    assert again["status"] == "unchanged" and again["run"]["run_id"] == doc["run"]["run_id"]
    closed = valid(cli, "close", [*base, "close", "MO-2", "--no-push"])
    assert [r["run_id"] for r in closed["runs"]] == [r["run"]["run_id"] for r in [doc]][-1:] \
        or len(closed["runs"]) == 3
    assert all(set(r) == set(doc["run"]) for r in closed["runs"])  # one run shape
    history = valid(cli, "history", [*base, "history"])
    assert set(history["streak"]) == STREAK_KEYS and history["streak"]["closed"] is True
    runs = [e for e in history["entries"] if e["kind"] == "step1a-burnin"]
    assert all(isinstance(e["filled"], int) for e in runs)
    assert any(e["voided"] for e in runs)
    status = valid(cli, "status", [*base, "status"], after=True)
    assert isinstance(status["runs"], list) and all(set(r) == set(doc["run"])
                                                    for r in status["runs"])
    assert set(status["milestones"][0]["streak"]) == STREAK_KEYS
    git(repo, "switch", "-q", "ops/evidence")
    verified = valid(cli, "verify", [*base, "verify"])
    assert verified["ok"] and all(set(r) == set(doc["run"]) for r in verified["runs"])
    git(repo, "switch", "-q", "main")
    valid(cli, "context", [*base, "context"])
    valid(cli, "next", [*base, "next"])
    valid(cli, "schedule", [*base, "schedule", "--format", "systemd"])
    valid(cli, "report", [*base, "report", "--output", tmp_path / "page.html"])
    valid(cli, "explain", ["explain", "trailers"])
    valid(cli, "explain", ["explain", "scope"], after=True)
    valid(cli, "schema", ["schema", "run"])
    valid(cli, "install-hooks", [*base, "install-hooks"])
    (repo / "evidencebot.toml").unlink()
    valid(cli, "init", [*base, "init"], after=True)


def test_failures_speak_the_contract_too(repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["--repo", repo]
    bad = valid(cli, "record", [*base, "record", tmp_path / "missing.json"], code=2)
    assert "cannot read report" in bad["error"]["message"]
    valid(cli, "close", [*base, "close", "MO-2"], code=1)
    valid(cli, "verify", [*base, "verify", "--range", "nope..x"], code=2)
    valid(cli, "history", [*base, "history", "--limit", "x"], code=2, after=True)
    monkeypatch.delenv("EVIDENCEBOT_NOTIFY_URLS", raising=False)
    valid(cli, "notify", [*base, "notify", "--test"], code=2)
    # A session refused by its checks: recorded (a check commit), exit 3, one object.
    refused = valid(cli, "run", [*base, "run"], code=3)
    assert refused["status"] == "refused" and refused["added"] is True
    assert any(c["status"] == "FAIL" for c in refused["checks"])
    check = valid(cli, "check", [*base, "check"], code=3)
    assert check["ok"] is False and isinstance(check["checks"], list)


def test_every_json_output_has_a_schema(cli) -> None:  # type: ignore[no-untyped-def]
    from evidencebot.cli import every_command
    from evidencebot.cli.contract import OUTPUTS

    missing = sorted(set(every_command()) - set(OUTPUTS))
    assert missing == []
    for command in OUTPUTS:
        schema = schema_of(cli, command)
        assert schema["title"] == f"evidencebot.{command}/1"


def test_every_command_lists_json_in_its_help() -> None:
    """--json works after every command; its help says so (hook and sim-gateway hand their
    arguments to parsers of their own, whose help lists it)."""
    import click

    from evidencebot.cli import every_command

    lacking = sorted(name for name, cmd in every_command().items()
                     if not any("--json" in getattr(p, "opts", ()) for p in cmd.params)
                     and not any(isinstance(p, click.Argument) and p.nargs == -1
                                 for p in cmd.params))
    assert lacking == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_demo_prints_one_object(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    doc = valid(cli, "demo", ["demo", tmp_path / "demo"])
    assert Path(doc["repo"]).is_dir() and doc["seconds"] > 0
    assert os.path.commonpath([doc["repo"], str(tmp_path)]) == str(tmp_path)


def test_the_hooks_and_the_gateway_speak_it_too(repo: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    monkeypatch.chdir(repo)
    git(repo, "switch", "-q", "-c", "ops/evidence")
    (repo / "src" / "broker" / "session.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    doc = valid(cli, "hook", ["hook", "pre-commit"], code=1)
    assert doc["applies"] and any("(path-not-allowed)" in p for p in doc["problems"])
    msg = tmp_path / "MSG"
    msg.write_text("no trailers here\n")
    doc = valid(cli, "hook", ["hook", "commit-msg", msg], code=1, after=True)
    assert any("Evidence-Kind" in p for p in doc["problems"])
    for wrong in (["hook", "bogus"], ["hook", "pre-commit", "--bogus"], ["hook"]):
        doc = valid(cli, "hook", wrong, code=2)  # a usage error is an object too
        assert doc["error"]["fix"] == "see `evidencebot hook --help`"
    monkeypatch.chdir(tmp_path)  # --repo: the hook judges that repository's staged change
    doc = valid(cli, "hook", ["--repo", repo, "hook", "pre-commit"], code=1)
    assert any("(path-not-allowed)" in p for p in doc["problems"])
    proc = subprocess.Popen([sys.executable, "-m", "evidencebot", "--json", "sim-gateway"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        jsonschema.validate(ready, schema_of(cli, "sim-gateway"))
        assert ready["host"] == "127.0.0.1" and ready["port"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
