"""`evidencebot explain trailers|scope`: the contract from the installed package, complete
(every trailer of the contract, every rule id the guard and verify can report)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

from evidencebot.evidence.trailers import FORMS, KINDS, REQUIRED
from evidencebot.guard.catalog import SCOPE_RULES
from evidencebot.guard.install import install_hooks
from evidencebot.ledger.catalog import VERIFY_RULES

PACKAGE = Path(__file__).resolve().parent.parent / "evidencebot"
EXE = Path(sys.executable).parent / "evidencebot"

# A rule id as the code writes it: Violation(path, "id", …), add("id", …),
# Finding(sha, "id", …), and the session-log heading rule picked by a conditional.
EMITTED = re.compile(r'(?:Violation\(\s*[^,()]+,\s*|\b(?:add|fault)\(\s*|Finding\([\s\S]{0,60}?,\s*)'
                     r'"([a-z][a-z0-9-]+)"|rule = "([a-z-]+)" if .*? else\s*\\?\s*"([a-z-]+)"',
                     re.S)


def emitted(room: str) -> set[str]:
    found: set[str] = set()
    for p in (PACKAGE / room).glob("*.py"):
        for m in EMITTED.finditer(p.read_text(encoding="utf-8")):
            found.update(g for g in m.groups() if g)
    return found


def test_every_scope_rule_the_guard_reports_is_explained_and_nothing_else() -> None:
    assert emitted("guard") == {r.id for r in SCOPE_RULES}


def test_every_verify_finding_is_explained_and_nothing_else() -> None:
    scope = {r.id for r in SCOPE_RULES}
    assert emitted("ledger") - scope == {r.id for r in VERIFY_RULES} - scope


def test_explain_trailers_from_the_installed_executable() -> None:
    proc = subprocess.run([str(EXE), "explain", "trailers"], capture_output=True, text=True,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line[:1].isupper()}
    for key in FORMS:
        assert key in rows, key
    assert "void" in rows["Void-Reason"] and "every ops commit" in rows["Session-Type"]
    assert "step1a-burnin (qualifying, non-qualifying)" in rows["Burnin-Filled-Orders"]
    assert FORMS["Evidence-Kind"] in rows["Evidence-Kind"]


def test_explain_trailers_json_is_the_contract(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("explain", "trailers", "--json")
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["kinds"] == list(KINDS)
    by_key = {t["key"]: t for t in doc["trailers"]}
    assert set(by_key) == set(FORMS)
    for kind, keys in REQUIRED.items():
        for key in keys:
            assert kind in by_key[key]["required_on"], (kind, key)
    assert by_key["Void-Reason"]["required_on"] == ["void"]


@pytest.mark.parametrize("columns", ["80", "120"])
def test_explain_scope_lists_every_rule_by_id_within_the_terminal(cli, columns: str,
                                                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", columns)
    r = cli("explain", "scope")
    assert r.code == 0
    for rule in (*SCOPE_RULES, *VERIFY_RULES):
        assert re.search(rf"^  {re.escape(rule.id)}\s", r.out, re.M), rule.id
    assert max(len(line) for line in r.out.splitlines()) <= int(columns)


def test_explain_refuses_an_unknown_topic(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("explain", "everything")
    assert r.code == 2 and "Invalid value for 'TOPIC'" in r.err  # (not '{trailers|scope}')


def test_the_commit_msg_hook_points_at_a_command_that_exists(trading_repo: Path) -> None:
    install_hooks(trading_repo, base="main", force=True)
    git(trading_repo, "switch", "-q", "-c", "ops/evidence")
    proc = subprocess.run(["git", "-C", str(trading_repo), "commit", "-q", "--allow-empty",
                           "-m", "by hand"], capture_output=True, text=True)
    assert proc.returncode == 1
    named = re.search(r"`(evidencebot explain \w+)`", proc.stderr)
    assert named, proc.stderr
    shown = subprocess.run([str(EXE), *named.group(1).split()[1:]], capture_output=True,
                           text=True)
    assert shown.returncode == 0 and "Evidence-Kind" in shown.stdout
