"""`evidencebot report` and the page `close` commits: built from the history alone, written
outside the work tree, re-rendered by verify, guarded by the hook, and loaded offline in a
real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from chromium import load
from conftest import git, record_run

from evidencebot.guard.install import install_hooks
from evidencebot.sim.trading_repo import write_repo

OPS = "ops/evidence"
PAGE = "reports/evidence/milestones/MO-2.html"


@pytest.fixture(autouse=True)
def _clock(pinned_now: str) -> None:
    pass


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": '[ops]\nprovider = "none"\n'})


record = record_run  # run n of a burn-in, recorded through the CLI


def refuse(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    """A session the pre-run checks refused (the health command fails): a `check` commit."""
    r = cli("--repo", repo, "run", "--no-push")
    assert r.code == 3, r.err


def history(cli, repo: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Five attempts: non-qualifying, refused, qualifying then voided, two qualifying."""
    runs = [record(cli, repo, 0, filled=0)]
    refuse(cli, repo)
    runs += [record(cli, repo, n) for n in (1, 2, 3)]
    assert cli("--repo", repo, "void", runs[1], "--reason", "wrong account").code == 0
    return runs


def test_report_writes_outside_the_work_tree_and_prints_its_path(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    runs = history(cli, repo)
    tip = git(repo, "rev-parse", OPS)
    r = cli("--repo", repo, "report")
    assert r.code == 0, r.err
    path = Path(r.out.strip())
    assert path == repo / ".git" / "evidencebot" / "report.html" and path.is_file()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "rev-parse", OPS) == tip
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<h1>MO-2: 2/3</h1>" in html
    rows = re.findall(r"<tr(?: class=\"(\w+)\")?><td>([^<]*)</td><td><code>([^<]*)</code>", html)
    assert [(cls, run) for cls, _when, run in rows if run in runs] == [
        ("", runs[0]), ("voided", runs[1]), ("", runs[2]), ("", runs[3])]
    assert [when for _c, when, run in rows if run == runs[0]] == [
        f"{runs[0][:4]}-{runs[0][4:6]}-{runs[0][6:8]} {runs[0][9:11]}:{runs[0][11:13]}"]
    assert "0 filled orders &lt; 1" in html and "voided: wrong account" in html
    assert 'class="mark refused"' in html  # the refused session is marked on the charts
    assert html.count('class="mark ') == 3 * 5
    again = cli("--repo", repo, "--json", "report")
    assert json.loads(again.out) == {"schema": "evidencebot.report/1", "path": str(path)}
    assert path.read_text(encoding="utf-8") == html  # the same history, the same page


def test_record_links_are_relative_and_lead_to_the_records(repo: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runs = history(cli, repo)
    out = tmp_path / "pages" / "burnin.html"
    typo = cli("--repo", repo, "report", "--output", out)  # (a folder not made yet)
    assert typo.code == 2 and f"--output {out}: no folder {out.parent}" in typo.err
    assert not out.parent.exists()  # (a newcomer found it made, as root, under /)
    out.parent.mkdir()
    r = cli("--repo", repo, "report", "--output", out)
    assert r.code == 0 and r.out.strip() == str(out)
    hrefs = re.findall(r'<a href="([^"]+)">', out.read_text(encoding="utf-8"))
    assert hrefs and all(not h.startswith(("/", "file:", "http")) for h in hrefs)
    git(repo, "switch", "-q", OPS)  # the records, checked out
    for h in hrefs:
        assert (out.parent / unquote(h)).resolve().is_file(), h
    assert any(runs[0] in h for h in hrefs)
    assert any("reports/evidence/checks/" in h for h in hrefs)


def close(cli, repo: Path) -> list[str]:  # type: ignore[no-untyped-def]
    runs = [record(cli, repo, n) for n in range(4)]
    r = cli("--repo", repo, "--json", "close", "MO-2")
    assert r.code == 0, r.err
    return runs


def test_close_commits_the_page_and_verify_renders_it_again(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    runs = close(cli, repo)
    page = git(repo, "show", f"{OPS}:{PAGE}")
    assert f"<h1>MO-2: CLOSED on 2026-11-25 (runs {', '.join(runs[1:])})</h1>" in page
    assert 'href="../../../reports/evidence/step1a/' in page  # relative to the page's folder
    assert PAGE in git(repo, "show", f"{OPS}:reports/evidence/milestones/MO-2.md")
    assert PAGE in git(repo, "log", "-1", "--format=%B", OPS)
    git(repo, "switch", "-q", OPS)
    v = cli("--repo", repo, "verify")
    assert v.code == 0, v.out
    # the page is what `report` draws once the milestone closed (same history, same day)
    written = Path(cli("--repo", repo, "report", "--output", repo / PAGE).out.strip())
    assert written.read_text(encoding="utf-8") == page


def amend_closure(repo: Path, page: bytes) -> None:
    """The closure commit again, by hand, with another page (past the hook)."""
    git(repo, "switch", "-q", OPS)
    (repo / PAGE).write_bytes(page)
    git(repo, "add", PAGE)
    git(repo, "commit", "-q", "--amend", "--no-verify", "-C", "HEAD")


def test_verify_catches_a_page_that_is_not_what_close_renders(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    close(cli, repo)
    page = git(repo, "show", f"{OPS}:{PAGE}").encode()
    amend_closure(repo, page.replace(b"CLOSED on", b"closed, reviewed and approved on"))
    r = cli("--repo", repo, "verify")
    assert r.code == 1 and "(page-mismatch)" in r.out, r.out


def hook_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    return subprocess.run(["git", "-C", str(repo), "commit", "-q", *args], capture_output=True,
                          text=True, env=env)


# Pages `close` never writes: a script however spelt (a "/" before the handler, an entity
# in the scheme, a ">" inside a quoted value: found by a reviewer), a refresh, a form, a
# stylesheet, a style that loads.
SCRIPTED = [
    b'<!DOCTYPE html><img src=x onerror="alert(1)">', b"<html><SCRIPT>alert(1)</SCRIPT></html>",
    b'<a href="JavaScript:alert(1)">x</a>',
    b"<h1>MO-3: CLOSED</h1><svg/onload=alert(document.domain)></svg>",
    b"<p><img/src=x/onerror=alert(2)></p>", b'<a href="jav&#x61;script:alert(1)">runs</a>',
    b'<a href="&#10;javascript:alert(1)">runs</a>',
    b'<a title="a>b" onclick="alert(1)" href="x.json">r</a>',
    b'<meta http-equiv="refresh" content="0;url=https://example.com">',
    b'<form action="https://example.com"><p>x</p></form>',
    b'<link rel="stylesheet" href="https://example.com/a.css">',
    b"<style>@import 'https://example.com/a.css';</style>",
    b"<style>body{background:url(https://example.com/p.png)}</style>",
    b'<a href="jav&#x61;script:alert(1)" href="x.json">twice: a browser takes the first</a>',
]


@pytest.mark.parametrize(("path", "data", "rule"), [
    (PAGE, None, ""),  # the closure as `close` made it
    *[(PAGE, page, "page-no-script") for page in SCRIPTED],
    (PAGE, b'<p>ok</p><a href="../../../reports/evidence/step1a/x.json">x</a>', ""),
    (PAGE, b'<a href="https://gitlab.example.com/ops/-/blob/x.json">x</a>', ""),
    ("reports/evidence/milestones/notes.html", b"<p>hi</p>", "evidence-data-only"),
    ("reports/evidence/milestones/MO-2.htm", b"<p>hi</p>", "evidence-data-only"),
    ("reports/evidence/step1a/MO-2.html", b"<p>hi</p>", "evidence-data-only"),
])
def test_the_hook_allows_exactly_the_page_close_writes(repo: Path, cli, path: str,  # type: ignore[no-untyped-def]
                                                       data: bytes | None, rule: str) -> None:
    close(cli, repo)
    git(repo, "switch", "-q", OPS)
    install_hooks(repo, base="main", force=True)
    closure = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "reset", "-q", "--soft", "HEAD~1")
    if data is not None:
        if path != PAGE:
            git(repo, "rm", "-q", "--cached", PAGE)
        (repo / path).write_bytes(data)
        git(repo, "add", path)
    proc = hook_commit(repo, "-C", closure)
    if rule:
        assert proc.returncode == 1 and f"({rule})" in proc.stderr, proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr


def test_chromium_loads_the_committed_page_offline_with_one_mark_per_attempt(
        repo: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history(cli, repo)
    record(cli, repo, 4)  # 3/3 after the void: the streak is met
    assert cli("--repo", repo, "close", "MO-2").code == 0
    page = tmp_path / "MO-2.html"
    page.write_bytes(git(repo, "show", f"{OPS}:{PAGE}").encode())
    loaded = load(page)
    assert loaded.console_errors == [] and loaded.requests == []
    assert loaded.counts == {"filled": 6, "ratio": 6, "bars": 6}  # 5 runs and the refusal
    assert "MO-2: CLOSED on 2026-11-25" in loaded.dom
