"""Closing MO-2: refused at 2/3, one closure commit at 3/3, and the merge request."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from conftest import git, other_operator

from evidencebot.guard.install import install_hooks
from evidencebot.sim.demo import make_remote
from evidencebot.sim.trading_repo import report, write_repo, write_report
from evidencebot.textsafe import shown

OPS = "ops/evidence"
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(pinned_now: str) -> None:
    pass


def make(tmp_path: Path, provider: str = "gitlab", extra_cfg: str = "") -> tuple[Path, Path]:
    remote = make_remote(tmp_path)
    repo = write_repo(tmp_path / "bot", extra={
        "evidencebot.toml": f'[ops]\nprovider = "{provider}"\n{extra_cfg}'})
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    return repo, remote


def record(cli, repo: Path, tmp_path: Path, n: int, *, filled: int = 2) -> None:  # type: ignore[no-untyped-def]
    doc = report(finished=NOW - timedelta(minutes=35 * (10 - n)), filled=filled)
    r = cli("--repo", repo, "record", write_report(tmp_path / f"r{n}.json", doc))
    assert r.code == 0, r.err


def pushes(remote: Path) -> list[dict[str, list]]:
    log = remote / "push-options.log"
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def test_close_is_refused_at_2_of_3_and_succeeds_at_3(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo, remote = make(tmp_path)
    record(cli, repo, tmp_path, 0, filled=0)  # a non-qualifying run first
    record(cli, repo, tmp_path, 1)
    record(cli, repo, tmp_path, 2)
    tip = git(repo, "rev-parse", OPS)
    refused = cli("--repo", repo, "close", "MO-2")
    assert refused.code == 1 and "streak is 2/3; 1 more" in refused.err
    assert git(repo, "rev-parse", OPS) == tip
    doc = report(finished=NOW - timedelta(minutes=35 * 7), filled=2)
    third = cli("--repo", repo, "record", write_report(tmp_path / "r3.json", doc))
    assert third.code == 0 and "  next: the streak is met: `evidencebot close MO-2` makes " \
        "the closure commit and its merge request" in third.out, third.out
    st = cli("--repo", repo, "status").out  # (each a report given to `record`)
    streak = next(x for x in st.splitlines() if x.startswith("streak runs: "))
    assert streak.endswith(" recorded by hand: a report given to `record`, not a session "
                           "`run` ran)") and streak.count("2026") == 6, st
    ok = cli("--repo", repo, "--json", "close", "MO-2")
    assert ok.code == 0, ok.err
    doc = json.loads(ok.out)
    runs = [r["run_id"] for r in doc["runs"]]
    assert len(runs) == 3 and doc["merge_request"]["provider"] == "gitlab"
    assert all(r["qualifying"] and r["metrics"]["filled_orders"] == 2 for r in doc["runs"])
    t = dict(line.split(": ", 1) for line in git(
        repo, "log", "-1", "--format=%(trailers:only,unfold)", OPS).splitlines() if line)
    assert t["Evidence-Kind"] == "milestone" and t["Milestone"] == "MO-2"
    assert t["Milestone-Status"] == "CLOSED" and t["Milestone-Evidence"] == ", ".join(runs)
    design = git(repo, "show", f"{OPS}:PROJECT_DESIGN.md")
    row = next(x for x in design.splitlines() if x.startswith("| MO-2 "))
    assert "| CLOSED |" in row and runs[0] in row
    backlog = git(repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    assert "| MO-2 | CLOSED | 2026-11-25 |" in backlog
    description = git(repo, "show", f"{OPS}:reports/evidence/milestones/MO-2.md")
    for run in runs:
        assert run in description
    assert "```mermaid\nxychart-beta" in description
    assert "Merge with a merge commit; do not squash" in description
    assert "non-qualifying" in description  # every attempt since the last closure
    assert "own verdict differed" not in description  # (every wrapper agreed)
    # every run came through `record`: the reviewer is told so, and which
    callout = description.split("> **Recorded by hand: 3 of these 3 runs**\n> (", 1)[1]
    assert sorted(callout.split(")", 1)[0].split(", ")) == sorted(runs)
    assert description.count(" | **hand** | ") == 3
    # the closure commit passes verify ...
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0
    # ... and the hook, re-committed by hand with the hooks installed
    install_hooks(repo, base="main", force=True)
    closure = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "reset", "-q", "--soft", "HEAD~1")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-C", closure],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    # the merge request: GitLab push options, the description pointing at the file
    opts = pushes(remote)[-1]["options"]
    assert opts[:2] == ["merge_request.create", "merge_request.target=main"]
    assert any(o.startswith("merge_request.title=Close MO-2") for o in opts)
    assert any("reports/evidence/milestones/MO-2.md" in o for o in opts)


def test_the_description_shows_where_the_wrapper_s_own_verdict_differed(
        tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The thresholds decide, never the report's ``passed``; but a streak run whose wrapper
    said it failed is named in the description, not hidden in its record, where no
    reviewer looks (the wrapper's reasons stay there)."""
    repo, _remote = make(tmp_path, "none")
    for n in range(3):
        doc = report(finished=NOW - timedelta(minutes=35 * (10 - n)), filled=2,
                     passed=n != 1)
        if n == 1:
            doc["failure_reasons"] = ["kill switch engaged at 09:12", "2 orders rejected"]
        assert cli("--repo", repo, "record", write_report(tmp_path / f"r{n}.json", doc)).code == 0
    assert cli("--repo", repo, "close", "MO-2").code == 0
    description = git(repo, "show", f"{OPS}:reports/evidence/milestones/MO-2.md")
    runs = git(repo, "log", "--format=%(trailers:key=Evidence-Run-Id,valueonly)",
               f"main..{OPS}").split()[::-1]
    assert "**The wrapper's own verdict differed**" in description
    listed = [x for x in description.splitlines() if x.startswith("- 2026")]
    assert listed == [f"- {runs[1]}: the report says passed=false, the thresholds say "
                      "qualifying"], listed
    assert "kill switch" not in description  # (a report's free text: in its record only)
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0  # (verify renders the same description)


def test_closing_twice_adds_nothing(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo, _remote = make(tmp_path, "none")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    tip = git(repo, "rev-parse", OPS)
    again = cli("--repo", repo, "close", "mo-2")  # ids are case-insensitive here
    assert again.code == 0 and "MO-2 is already closed" in again.out
    assert git(repo, "rev-parse", OPS) == tip
    named = git(repo, "log", "-1", "--format=%(trailers:key=Milestone-Evidence,valueonly)",
                OPS).strip().split(", ")
    record(cli, repo, tmp_path, 3)  # a run after the closure: evidence, not the closure's
    doc = json.loads(cli("--repo", repo, "--json", "close", "MO-2").out)
    assert doc["status"] == "already-closed"
    assert [r["run_id"] for r in doc["runs"]] == named and len(named) == 3


def test_a_closure_that_could_not_be_pushed_says_it_stands(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: a failed push gave git's error alone, exit 2 ("nothing
    written"), while the closure commit stood. It says so, and how to push it."""
    repo, remote = make(tmp_path, "none")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    gone = remote.rename(tmp_path / "moved.git")
    r = cli("--repo", repo, "close", "MO-2")
    tip = git(repo, "rev-parse", OPS).strip()
    assert r.code == 2 and f"(the closure stands in {tip[:12]} on {OPS}, on this machine: " \
        "not pushed)" in r.err and "`evidencebot close MO-2` again" in r.err, r.err
    gone.rename(remote)
    again = cli("--repo", repo, "close", "MO-2")
    assert again.code == 0 and git(remote, "rev-parse", OPS).strip() == tip

def test_a_remote_of_another_name_is_pointed_at_the_setting(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer whose remote was `upstream`: `close` said to add `origin`, and
    never that [ops] remote names the one to push to."""
    repo, _remote = make(tmp_path, "none")
    git(repo, "remote", "rename", "origin", "upstream")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0 and "git remote add origin <url of the trading repository> (or set " \
        "[ops] remote to the name of the remote you push to)" in r.out, r.out

def test_a_second_closure_commit_is_a_finding_not_a_traceback(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A copy of the closure committed by hand on top of it: verify names it (and renders
    no description for a streak that was already closed, which crashed the template)."""
    repo, _remote = make(tmp_path, "none")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    git(repo, "switch", "-q", OPS)
    message = git(repo, "log", "-1", "--format=%B")
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "--no-verify",
                    "-F", "-"], input=message, text=True, check=True)
    r = cli("--repo", repo, "--json", "verify")
    doc = json.loads(r.out)  # the JSON contract holds: no traceback
    assert r.code == 1 and "milestone-closed-twice" in {v["rule"] for v in doc["violations"]}


def test_unknown_milestone_is_a_usage_error(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo, _ = make(tmp_path, "none")
    r = cli("--repo", repo, "close", "MO-3")
    assert r.code == 2 and "[milestone.MO-3]" in r.err and "(rules: MO-2)" in r.err
    assert "Fix:" not in r.err  # (MO-3 is no spelling of MO-2)
    typed = cli("--repo", repo, "close", "mo2")
    assert typed.code == 2 and "Fix: evidencebot close MO-2" in typed.err
    bare = cli("--repo", repo, "close")  # (it names what is missing, not MO-2 itself)
    assert bare.code == 2 and "Missing argument 'MILESTONE'" in bare.err


def test_pushing_twice_updates_and_never_forces(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo, remote = make(tmp_path)
    for n in range(3):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    first = git(repo, "rev-parse", OPS).strip()
    record(cli, repo, tmp_path, 3)  # a fourth run after the closure: 4/3
    assert cli("--repo", repo, "close", "MO-2").code == 0  # updates the same merge request
    second = pushes(remote)[-1]
    (old, new, ref), = second["updates"]
    assert ref == f"refs/heads/{OPS}" and old == first and new == git(repo, "rev-parse", OPS).strip()
    assert second["options"][0] == "merge_request.create"


def test_a_fresh_clone_carries_on_the_evidence_already_pushed(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A clone with no local ops branch reads origin's: status counts its runs, and the
    next record is committed on top of them (a push that fast-forwards), not on a new
    branch from the base whose push the remote would refuse."""
    repo, remote = make(tmp_path, "none")
    record(cli, repo, tmp_path, 0)
    record(cli, repo, tmp_path, 1)
    git(repo, "push", "-q", "origin", OPS)
    pushed = git(repo, "rev-parse", OPS).strip()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    st = cli("--repo", clone, "status")
    assert st.code == 0 and "MO-2: 2/3" in st.out, st.out
    assert f"(not created here yet; origin's is at {pushed[:12]})" in st.out
    doc = report(finished=NOW - timedelta(minutes=35 * 8), filled=2)
    r = cli("--repo", clone, "record", write_report(tmp_path / "r2.json", doc))
    assert r.code == 0 and r.out.splitlines()[-1] == (
        "  not pushed: `run` pushes ops/evidence (`close` too, with a merge-request provider)"
        ", or push it now with `git push origin ops/evidence`"), r.out
    assert git(clone, "rev-parse", f"{OPS}~1").strip() == pushed
    git(clone, "push", "-q", "origin", OPS)  # (a fast-forward)
    assert "MO-2: 3/3" in cli("--repo", clone, "status").out
    # the remote [ops] names, whatever it is called (origin here is someone's fork)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-o", "gitlab", str(remote), str(other))
    cfg = other / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "[ops]\n", '[ops]\nremote = "gitlab"\n', 1), encoding="utf-8")
    st = cli("--repo", other, "status")
    assert "MO-2: 3/3" in st.out and "gitlab" not in st.err, st.out + st.err


def test_non_fast_forward_push_is_rebuilt_on_the_new_tip(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo, remote = make(tmp_path)
    record(cli, repo, tmp_path, 0)
    assert cli("--repo", repo, "close", "MO-2").code == 1  # not yet; nothing pushed
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    record(cli, other, tmp_path, 1)  # another operator records run 1 and pushes first
    git(other, "push", "-q", "origin", OPS)
    theirs = git(other, "rev-parse", OPS).strip()
    record(cli, repo, tmp_path, 2)  # we record run 2 on the old tip
    record(cli, repo, tmp_path, 3)
    ok = cli("--repo", repo, "--json", "close", "MO-2")
    assert ok.code == 0, ok.err
    log = git(repo, "log", "--format=%(trailers:key=Evidence-Run-Id,valueonly)", OPS).split()
    assert len(log) == 4 and len(set(log)) == 4  # run 1 (theirs) kept, 2 and 3 rebuilt on it
    # what `close` says is the closure the branch holds: rebuilt, on the runs it now ends
    said = json.loads(ok.out)
    tip = git(repo, "rev-parse", OPS).strip()
    named = git(repo, "log", "-1", "--format=%(trailers:key=Milestone-Evidence,valueonly)",
                OPS).strip()
    runs = ", ".join(r["run_id"] for r in said["runs"])
    assert said["commit"] == tip and runs == named == ", ".join(log[2::-1])
    path = said["description"]
    body = repo / ".git" / "evidencebot" / "MO-2-merge-request.md"  # (what gh would post)
    assert body.read_text(encoding="utf-8") == git(repo, "show", f"{OPS}:{path}")
    assert f"closed on 3 consecutive qualifying runs: {named}." in git(
        repo, "log", "-1", "--format=%b", OPS)
    assert git(repo, "merge-base", "--is-ancestor", theirs, OPS) == ""
    last = pushes(remote)[-1]
    assert last["updates"][0][0] == theirs  # a fast-forward from their tip: never forced
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0
    rows = [x for x in git(repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md").splitlines()
            if x.startswith("| ") and "reports/evidence" in x]
    assert [r.split(" | ")[0] for r in rows] == ["| 2", "| 3", "| 4", "| 5"]  # re-rendered


def test_status_says_what_the_remote_lacks(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 14: `status` read the same before and after a failed push."""
    repo, remote = make(tmp_path)

    def said() -> tuple[int | None, list[str]]:
        r = cli("--repo", repo, "--json", "status")
        assert r.code == 0, r.err
        doc = json.loads(r.out)
        return doc["unpushed"], [x for x in doc["lines"] if "origin" in x and "lacks" in x]

    record(cli, repo, tmp_path, 0)
    assert said() == (1, ["  not pushed: 1 ops commit(s) origin lacks: `git push origin "
                          f"{OPS}` (`run` pushes them too)"])
    git(repo, "push", "-q", "origin", OPS)
    assert said() == (0, [])
    record(cli, repo, tmp_path, 1)
    record(cli, repo, tmp_path, 2)
    assert said()[0] == 2
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    record(cli, other, tmp_path, 3)
    git(other, "push", "-q", "origin", OPS)
    record(cli, repo, tmp_path, 4)  # (on the old tip)
    git(repo, "fetch", "-q", "origin")
    unpushed, lines = said()
    assert unpushed == 1 and lines == [f"  origin/{OPS} (as last fetched) holds 1 commit(s) "
                                       "this branch lacks, and it 1 that one lacks: the "
                                       "next `run` rebuilds this branch's on them when it "
                                       "pushes"]
    git(repo, "update-ref", f"refs/heads/{OPS}", f"origin/{OPS}~1")  # (behind it alone)
    assert said() == (0, [f"  origin/{OPS} (as last fetched) holds 1 commit(s) this branch "
                          "lacks: the next `run` records on them when it pushes"])


FAKE_GH = r'''#!{python}
import json, os, sys
state = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gh-state.json")
calls = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gh-calls.jsonl")
with open(calls, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
args = sys.argv[1:]
opened = os.path.exists(state)
if args[:2] == ["pr", "list"]:
    print(json.dumps([{{"number": 7, "url": "https://example.invalid/pull/7"}}] if opened else []))
elif args[:2] == ["pr", "create"]:
    body = open(args[args.index("--body-file") + 1]).read()
    open(state, "w").write(json.dumps({{"body": body}}))
    print("https://example.invalid/pull/7")
elif args[:2] == ["pr", "edit"]:
    pass
else:
    sys.exit(1)
'''


def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """A `gh` on PATH that is ``script`` (a Python program): its folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(script)
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_github_path_with_a_gh_on_path(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo, _remote = make(tmp_path, "github")
    bin_dir = fake_gh(tmp_path, monkeypatch, FAKE_GH.format(python=sys.executable))
    for n in range(3):
        record(cli, repo, tmp_path, n)
    first = cli("--repo", repo, "--json", "close", "MO-2")
    assert first.code == 0, first.err
    assert json.loads(first.out)["merge_request"]["action"] == "created"
    record(cli, repo, tmp_path, 3)
    second = cli("--repo", repo, "--json", "close", "MO-2")
    assert json.loads(second.out)["merge_request"]["action"] == "updated"
    calls = [json.loads(x) for x in (bin_dir / "gh-calls.jsonl").read_text().splitlines()]
    create = next(c for c in calls if c[:2] == ["pr", "create"])
    assert create[create.index("--base") + 1] == "main" and create[create.index("--head") + 1] == OPS
    assert any(c[:3] == ["pr", "edit", "7"] for c in calls)
    body = json.loads((bin_dir / "gh-state.json").read_text())["body"]
    assert "do not squash" in body and "```mermaid" in body


def test_github_without_gh_closes_pushes_and_prints_the_request_to_open(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """No `gh` on PATH: the closure is made and pushed, exit 0, and what is left (the pull
    request) is said with the command that opens it; `run --dry-run` warns before."""
    repo, remote = make(tmp_path, "github")
    bin_dir = tmp_path / "only-git"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git") or "git")
    monkeypatch.setenv("PATH", str(bin_dir))
    for n in range(3):
        record(cli, repo, tmp_path, n)
    dry = cli("--repo", repo, "run", "--dry-run", "--skip-checks")
    assert "merge request" in dry.out and "`gh` is not installed" in dry.out
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0, r.err
    assert "`gh` is not installed (or not on PATH): the merge request was not opened" in r.out
    assert "GitHub: gh pr create --base main --head ops/evidence" in r.out
    assert git(remote, "rev-parse", OPS) == git(repo, "rev-parse", OPS)  # pushed
    assert "Evidence-Kind: milestone" in git(repo, "log", "-1", "--format=%B", OPS)


ODD_GH = r'''#!{python}
import sys
if sys.argv[1:3] == ["pr", "list"]:
    print({listed!r})
'''


@pytest.mark.parametrize("listed", ['A new release of gh is available\n[{"number": 7}]',
                                    '[{"url": "https://example.invalid/pull/7"}]', "[1]",
                                    '{"number": 7}'])
def test_a_gh_answer_of_another_shape_is_one_line(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  listed: str) -> None:
    """`gh pr list` printing a notice first, objects without a number, or no list: the
    closure is committed and pushed already; what is left is said, with the command that
    opens the request, exit 0 (as without `gh`)."""
    repo, _remote = make(tmp_path, "github")
    fake_gh(tmp_path, monkeypatch, ODD_GH.format(python=sys.executable, listed=listed))
    for n in range(3):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0 and "Traceback" not in r.err
    assert "`gh pr list --json number,url` output is not a list of objects with 'number'; " \
        "the branch was pushed" in r.out and "GitHub: gh pr create --base main" in r.out
    assert "Evidence-Kind: milestone" in git(repo, "log", "-1", "--format=%B", OPS)


FAILING_GH = r'''#!{python}
import sys, time
if {hang!r}:
    time.sleep(3600)  # (a login prompt waiting, or a network that never answers)
sys.stderr.buffer.write(b"gh: HTTP 401: Bad credentials (Gr\xfc\xdfe vom Proxy)\n")
sys.exit(1)
'''


@pytest.mark.parametrize("hang", [False, True], ids=["fails", "hangs"])
def test_a_gh_that_fails_or_hangs_leaves_the_request_to_a_human(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, hang: bool) -> None:
    """Found by a newcomer and an adversary: a `gh` without a login made the streak's last
    `run` exit 2 ("nothing written") with the closure committed and pushed, and no word of
    it; one that never answered held `close` and `run` for ever (and one that answered in
    Latin-1 stopped with a traceback). Now both say the closure,
    why the request was not opened, and the commands that open it, exit 0 as without gh."""
    from evidencebot.milestone import providers

    repo, remote = make(tmp_path, "github")
    fake_gh(tmp_path, monkeypatch, FAILING_GH.format(python=sys.executable, hang=hang))
    monkeypatch.setattr(providers, "GH_TIMEOUT_SECONDS", 1)
    for n in range(3):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0, r.err
    said = "did not answer within 1 s" if hang else "gh pr list failed: gh: HTTP 401"
    assert r.out.startswith("MO-2 closed in ") and said in r.out, r.out
    assert "`gh auth status` is right, `evidencebot close MO-2` opens it" in r.out
    assert "GitHub: gh pr create --base main --head ops/evidence" in r.out
    assert git(remote, "rev-parse", OPS) == git(repo, "rev-parse", OPS)  # pushed


def test_no_provider_writes_the_description_outside_the_tree(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = write_repo(tmp_path / "bot")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    status = git(repo, "status", "--porcelain")
    r = cli("--repo", repo, "--json", "close", "MO-2")
    mr = json.loads(r.out)["merge_request"]
    assert mr["provider"] == "none" and mr["action"] == "written"
    path = Path(mr["description_file"])
    assert path.is_file() and (repo / ".git") in path.parents
    assert "Merge with a merge commit; do not squash" in path.read_text()
    assert any("git push origin ops/evidence" in c for c in mr["commands"])
    assert git(repo, "status", "--porcelain") == status


class _FakeGitLab(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str, bytes]] = []

    def _reply(self, doc: object) -> None:
        data = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(("GET", self.path, self.headers.get("PRIVATE-TOKEN", ""), b""))
        self._reply([{"iid": 12}])

    def do_PUT(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(("PUT", self.path, self.headers.get("PRIVATE-TOKEN", ""), body))
        self._reply({"iid": 12, "web_url": "http://127.0.0.1/group/bot/-/merge_requests/12"})

    def log_message(self, *args: object) -> None:
        pass


def test_gitlab_token_sets_the_full_description_through_the_api(
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    server = HTTPServer(("127.0.0.1", 0), _FakeGitLab)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"http://127.0.0.1:{server.server_address[1]}/api/v4"
        repo, remote = make(tmp_path, "gitlab", f'gitlab_api = "{api}"\n')
        # GitLab knows the project by its path: name the bare remote like one.
        project = tmp_path / "group" / "bot.git"
        project.parent.mkdir()
        shutil.move(str(remote), project)
        git(repo, "remote", "set-url", "origin", str(project))
        monkeypatch.setenv("GITLAB_TOKEN", "glpat-test")
        for n in range(3):
            record(cli, repo, tmp_path, n)
        r = cli("--repo", repo, "--json", "close", "MO-2")
        assert r.code == 0, r.err
    finally:
        server.shutdown()
    put = next(s for s in _FakeGitLab.seen if s[0] == "PUT")
    assert put[1].endswith("/merge_requests/12") and put[2] == "glpat-test"
    assert "```mermaid" in json.loads(put[3])["description"]
    assert json.loads(r.out)["merge_request"]["url"].endswith("/merge_requests/12")


def test_a_forged_history_shortcut_cannot_close_the_milestone(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The shortcut file says the non-qualifying run qualified (3/3): `close` believes it
    and drafts the closure, and the scope rules, which read the history from git, refuse
    it. Nothing is committed."""
    from conftest import shortcut_read, shortcut_write

    repo, _remote = make(tmp_path)
    record(cli, repo, tmp_path, 1)
    record(cli, repo, tmp_path, 2, filled=0)  # breaks the streak
    record(cli, repo, tmp_path, 3)
    record(cli, repo, tmp_path, 4)
    assert cli("--repo", repo, "status").out.count("2/3") >= 1
    cache = repo / ".git" / "evidencebot" / "history-cache.bin"
    key, (tip, rows) = shortcut_read(cache)
    forged = [(*r[:5], {**r[5], "Evidence-Outcome": "qualifying"}, *r[6:]) for r in rows]
    shortcut_write(cache, key, (tip, forged))
    assert "4/3" in cli("--repo", repo, "status").out  # the shortcut lied to status
    shortcut_write(cache, key, (tip, forged))  # (status, at 3/3 or more, read the base's)
    before = git(repo, "rev-parse", OPS)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code != 0 and "closed-early" in r.err + r.out, r.err
    assert git(repo, "rev-parse", OPS) == before


def test_verify_re_renders_the_closure_from_git_not_from_the_shortcut(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The closure's description and page are re-rendered from the history at its parent:
    a shortcut file claiming other figures there changes nothing verify says."""
    from conftest import shortcut_read, shortcut_write

    from evidencebot.evidence import history

    repo, _remote = make(tmp_path)
    for n in (1, 2, 3):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    git(repo, "switch", "-q", OPS)
    first = cli("--repo", repo, "verify")
    assert first.code == 0 and "1 commit" not in first.out, first.out
    parent = git(repo, "rev-parse", "HEAD~1").strip()
    cache = repo / ".git" / "evidencebot" / "history-cache.bin"
    key, _ = shortcut_read(cache)
    real = history.read(repo, parent, bot_author="evidencebot <evidencebot@localhost>",
                        cache=False)
    forged = [(c.sha, c.parents, c.author, c.date, c.subject,
               {**c.trailers, "Burnin-Filled-Orders": "999"} if c.is_run else c.trailers,
               c.problems, c.started, c.finished) for c in real]
    shortcut_write(cache, key, (parent, forged))
    second = cli("--repo", repo, "verify")
    assert second.code == 0, second.out


@pytest.mark.parametrize(("between", "merged", "blamed"), [
    (True, False, True), (False, False, False), (True, True, False)])
def test_a_failing_session_recorded_after_the_closure_among_its_runs_is_blamed(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, between: bool, merged: bool, blamed: bool) -> None:
    """Found by an adversary: a non-qualifying session that fell between two of the runs a
    closure named, recorded after the closure, left verify saying OK over a closure the
    branch's own history contradicts. One recorded after the named runs is no finding, and
    neither is one recorded once the closure was merged (reviewed, never reopened)."""
    repo, _remote = make(tmp_path, "none")
    for n in range(1, 4):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    if merged:
        git(repo, "merge", "-q", "--no-ff", "--no-edit", OPS)  # (on main)
        git(repo, "push", "-q", "origin", "main")  # (the base is origin's main)
    # Runs are 35 minutes apart, 30 long: a 3-minute session fits in each 5-minute gap.
    gap_end = NOW - timedelta(minutes=35 * (10 - 2) + 31) if between else \
        NOW - timedelta(minutes=35 * (10 - 3) - 4)
    late = write_report(tmp_path / "late.json", report(finished=gap_end, duration=180,
                                                       filled=0))
    r = cli("--repo", repo, "record", late)
    assert r.code == 0, r.err
    assert ("closure-contradicted" in r.out) is blamed
    v = cli("--repo", repo, "--json", "verify", "--range", f"main..{OPS}")
    rules = {x["rule"] for x in json.loads(v.out)["violations"]}
    assert (v.code, rules) == ((1, {"closure-contradicted"}) if blamed else (0, set()))
    status = cli("--repo", repo, "status").out  # (CLOSED still: a closure is a commit)
    assert ("the closure does not hold" in status) is blamed


@pytest.mark.parametrize(("provider", "shown", "left_out"), [
    ("gitlab", ["GitLab: git push -o"], ["GitHub:", "git push origin ops/evidence"]),
    ("github", ["git push origin ops/evidence", "GitHub: gh pr create"], ["GitLab:"]),
])
def test_close_without_pushing_names_the_configured_hosts_commands_only(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, provider: str, shown: list[str], left_out: list[str]) -> None:
    """A newcomer found `close --no-push` with provider gitlab listing GitHub's command
    and a plain push besides GitLab's."""
    repo, _remote = make(tmp_path, provider)
    for n in range(3):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2", "--no-push")
    assert r.code == 0, r.err
    commands = r.out.split("open the merge request with:", 1)[1]
    assert all(s in commands for s in shown) and not any(s in commands for s in left_out)


# A failing session written down by hand on main: one of its own between the closure's
# first and second runs, or the closure's second run said, at a desk review, not to
# qualify (its id is the run's: the run commit wrote a row of its own on the ops branch).
BASE_ROWS = {
    "own-session": "| 2 | 2026-11-25 | 20261125T114600Z | 180 | 0 | 0.90 | 200 | 21 | "
                   "non-qualifying | copied by hand from the report |",
    "same-run-id": "| 2 | 2026-11-25 | 20261125T114958Z | 1800 | 0 | 0.90 | 200 | 18 | "
                   "non-qualifying | desk review: the fills were from another account |",
    # no one can place it in time (it breaks every streak, so this one too)
    "unplaced": "| 2 | 25/11/2026 | `20261125T114958Z` | 1800 | 0 | 0.90 | 200 | 18 | "
                "non-qualifying | desk review |",
    # in a second table of the tracker's section (its rows are read too)
    "second-table": "| Run ID | Outcome |\n|---|---|\n| 20261125T114958Z | non-qualifying |",
    # there, a run id as a link, and a session known by words and its day (found by an
    # adversary: only a bare run id was read there)
    "second-table-link": "| Run | Outcome |\n|---|---|\n"
                         "| [20261125T114958Z](https://desk.example/1) | non-qualifying |",
    "second-table-words": "| Run | Date (UTC) | Outcome |\n|---|---|---|\n"
                          "| by hand, desk 2 | 2026-11-25 | non-qualifying |",
    # (round 37: placeholders in the first run and outcome columns, the verdict in a later)
    "second-table-two-outcomes": "| Run # | Run ID | Wrapper outcome | Desk outcome |\n"
                                 "|---|---|---|---|\n| \u2014 | 20261125T114958Z | \u2014 | "
                                 "non-qualifying (0 fills) |",
    # any time it can mean counts (found by an adversary: placed at the latest, after the
    # closure's runs, these contradicted nothing): its Date a day off its stamp, and a row
    # known by its day only
    "a-day-off": "| 2 | 2026-11-26 | 20261125T114600Z | 180 | 0 | 0.90 | 200 | 21 | "
                 "non-qualifying | copied by hand from the report |",
    "known-by-its-day": "| 2 | 2026-11-25 | gw-crash-1 | 180 | 0 | 0.90 | 200 | 21 | "
                        "non-qualifying | the gateway crashed |"}


def row_on_main(repo: Path, row: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``row`` written by hand at the top of main's tracker (git merges it cleanly),
    committed before the pinned clock's now and pushed; its run id."""
    backlog = repo / "IMPLEMENTATION_BACKLOG.md"
    text = backlog.read_text(encoding="utf-8")
    if row.startswith("| Run"):  # (a table of its own, below the tracker's)
        cells = [shown(c) for c in row.rsplit("\n", 1)[1].strip("| ").split(" | ")]
        text, run_id = text.replace("\n## Later", f"\n{row}\n\n## Later", 1), \
            next((c for c in cells if re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", c)), cells[0])
    else:
        line = next(ln for ln in text.splitlines() if ln.startswith("|---|"))
        text, run_id = text.replace(line, f"{line}\n{row}", 1), row.split(" | ")[2]
    backlog.write_text(text, encoding="utf-8")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_DATE", "2026-11-25T16:30:00Z")
    git(repo, "switch", "-q", "main")
    git(repo, "commit", "-qam", "a session written down by hand")
    git(repo, "push", "-q", "origin", "main")
    return run_id


def test_a_hand_written_failing_row_merged_in_among_a_closure_s_runs_is_blamed(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: after an unmerged closure, a hand-written non-qualifying row
    for a session between its first and second runs, committed on main and merged into the
    ops branch (a plain merge), left status CLOSED and verify OK."""
    repo, _remote = make(tmp_path, "none")
    for n in range(1, 4):  # runs end 11:45, 12:20, 12:55 (30 minutes each)
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0
    assert holds(cli, repo) == (True, True)
    row_on_main(repo, BASE_ROWS["own-session"], monkeypatch)
    git(repo, "switch", "-q", OPS)
    git(repo, "merge", "-q", "--no-edit", "main")
    v = cli("--repo", repo, "--json", "verify", "--range", f"main..{OPS}")
    rules = [x["rule"] for x in json.loads(v.out)["violations"]]
    assert (v.code, rules) == (1, ["closure-contradicted"])
    assert "the closure does not hold" in cli("--repo", repo, "status").out
    # ... and in --json, and history's header (newcomer 13: `closed: true` alone)
    assert holds(cli, repo) == (False, False)
    title = " ".join(cli("--repo", repo, "history").out.split("┏", 1)[0].split())
    assert "— but the closure does not hold: `evidencebot status` says why" in title, title


def holds(cli, repo: Path) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """Whether the closure holds, as status --json and history --json say it."""
    status = json.loads(cli("--repo", repo, "--json", "status").out)
    history = json.loads(cli("--repo", repo, "--json", "history").out)
    return status["milestones"][0]["holds"], history["holds"]


@pytest.mark.parametrize("kind", list(BASE_ROWS))
def test_a_failing_row_on_main_that_the_ops_branch_never_merged_is_blamed_on_the_mr(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """Found by an adversary: the same row left on main, not merged into the ops branch:
    the merge request's verify (HEAD at the ops tip) said OK, the merge was clean, and
    main showed MO-2 CLOSED beside the row that breaks its streak. verify reads the rows
    where the merge will land too, and judges the closure the merge brings."""
    repo, _remote = make(tmp_path, "none")
    for n in range(1, 4):  # runs end 11:45, 12:20, 12:55 (30 minutes each)
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2").code == 0
    closure = git(repo, "rev-parse", OPS).strip()
    run_id = row_on_main(repo, BASE_ROWS[kind], monkeypatch)
    git(repo, "switch", "-q", OPS)
    v = cli("--repo", repo, "--json", "verify")  # as CI runs it on the merge request
    found = [(x["commit"], x["rule"]) for x in json.loads(v.out)["violations"]]
    assert (v.code, found) == (1, [(closure, "closure-contradicted")]), v.out
    assert f"{run_id} on origin/main (not qualifying)" in \
        cli("--repo", repo, "verify").out
    assert f"the closure does not hold: the hand-written tracker row for {run_id} " \
        "on origin/main (not qualifying) breaks the streak" in \
        cli("--repo", repo, "status").out
    # merged anyway: the merge commit's range brings the closure, and main's rows break it
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", OPS)
    git(repo, "push", "-q", "origin", "main")  # (main's rows are the base's rows now)
    v = cli("--repo", repo, "--json", "verify", "--range", "main~1..main")
    assert [x["rule"] for x in json.loads(v.out)["violations"]] == ["closure-contradicted"]


@pytest.mark.parametrize("kind", list(BASE_ROWS))
def test_close_is_refused_when_a_failing_row_on_main_breaks_the_streak(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """The row already on main when `close` runs: verify would blame the closure on its
    merge request, so `close` says so and commits nothing."""
    repo, _remote = make(tmp_path, "none")
    for n in range(1, 4):  # runs end 11:45, 12:20, 12:55 (30 minutes each)
        record(cli, repo, tmp_path, n)
    tip = git(repo, "rev-parse", OPS).strip()
    run_id = row_on_main(repo, BASE_ROWS[kind], monkeypatch)
    assert f"MO-2: 3/3 — but the hand-written tracker row for {run_id} on origin/main (not " \
        "qualifying) breaks it: `close` refuses; merge main into the ops branch" in \
        cli("--repo", repo, "status").out  # (not "streak met: close")
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 1 and r.err.startswith(
        "evidencebot: error: MO-2 cannot close: the hand-written tracker row for "
        f"{run_id} on origin/main (not qualifying) breaks the streak "
        "between two of its runs\nFix: merge main into the ops branch"), r.err
    assert git(repo, "rev-parse", OPS).strip() == tip


def test_a_milestone_row_whose_id_is_in_emphasis_or_code_is_its_row(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli) -> None:
    """Found by a newcomer: `**MO-2**` in the design's table and `` `MO-2` `` in the
    backlog's were "no row 'MO-2'" to the documents check (and to `close`), while the scope
    guard read them as MO-2's. A reader sees MO-2: close writes CLOSED there."""
    repo, _remote = make(tmp_path, "none")
    for name, form in (("PROJECT_DESIGN.md", "**MO-2**"), ("IMPLEMENTATION_BACKLOG.md", "`MO-2`")):
        doc = repo / name
        doc.write_text(doc.read_text(encoding="utf-8").replace("| MO-2 |", f"| {form} |"),
                       encoding="utf-8")
    git(repo, "commit", "-qam", "milestone ids in emphasis")
    git(repo, "push", "-q", "origin", "main")
    for n in range(1, 4):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0, r.err
    design = git(repo, "show", f"{OPS}:PROJECT_DESIGN.md")
    row = next(ln for ln in design.splitlines() if ln.startswith("| **MO-2** |"))
    assert "CLOSED" in row and "OPEN" not in row
    assert "| `MO-2` | CLOSED |" in git(repo, "show", f"{OPS}:IMPLEMENTATION_BACKLOG.md")
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


def with_second_row(tmp_path: Path, cli, key: str) -> Path:  # type: ignore[no-untyped-def]
    """A repository whose design table holds a second row of MO-2's, under ``key``
    (committed on main and pushed), and three qualifying runs recorded."""
    repo, _remote = make(tmp_path, "none")
    design = repo / "PROJECT_DESIGN.md"
    text = design.read_text(encoding="utf-8")
    row = next(ln for ln in text.splitlines() if ln.startswith("| MO-2 |"))
    design.write_text(text.replace(row, f"{row}\n{row.replace('| MO-2 |', f'| {key} |')}"),
                      encoding="utf-8")
    git(repo, "commit", "-qam", f"a second row: {key}")
    git(repo, "push", "-q", "origin", "main")
    for n in range(1, 4):
        record(cli, repo, tmp_path, n)
    return repo


def test_a_struck_out_row_of_the_milestone_is_no_row_of_it(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: `~~MO-2~~` (a withdrawn definition) read as MO-2 made two
    rows of it, and close refused. Struck-out text names nothing."""
    repo = with_second_row(tmp_path, cli, "~~MO-2~~")
    assert cli("--repo", repo, "close", "MO-2").code == 0
    closed = git(repo, "show", f"{OPS}:PROJECT_DESIGN.md").splitlines()
    assert "CLOSED" in next(ln for ln in closed if ln.startswith("| MO-2 |"))
    assert "OPEN" in next(ln for ln in closed if ln.startswith("| ~~MO-2~~ |"))
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


def test_a_closure_where_close_writes_none_is_blamed_for_its_documents(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an adversary: with two rows of the milestone at a closure's parent, close
    cannot write the closure there, and verify left the documents unchecked: a closure
    made otherwise (an older evidencebot matching the plain ID only, here) could say it
    closed on runs that never were. Each document is blamed."""
    import evidencebot.md.edit as mdedit

    repo = with_second_row(tmp_path, cli, "**MO-2**")
    refused = cli("--repo", repo, "close", "MO-2")
    assert refused.code == 2 and "two rows 'MO-2'" in refused.err
    with monkeypatch.context() as m:  # (the plain ID only: one row, and close writes it)
        m.setattr(mdedit, "_keyed", lambda r, key: bool(r) and r[0] == key)
        assert cli("--repo", repo, "close", "MO-2").code == 0
    v = cli("--repo", repo, "--json", "verify", "--range", f"main..{OPS}")
    found = [(x["rule"], x["message"].split(" ")[5]) for x in json.loads(v.out)["violations"]]
    assert v.code == 1 and found == [("closure-documents-mismatch", p) for p in (
        "PROJECT_DESIGN.md", "IMPLEMENTATION_BACKLOG.md", "SESSION_LOG.md")], v.out


def test_close_waits_for_runs_that_finish_after_now(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a newcomer: `record` takes a report ending up to the clock skew after now
    (a wrapper's clock a little ahead), and `close` then made and pushed a closure dated
    before its runs finished, which verify refused (closure-before-runs). It waits."""
    repo, _remote = make(tmp_path, "none")
    now = NOW.replace(hour=14)  # (inside the window)
    monkeypatch.setenv("EVIDENCEBOT_NOW", now.isoformat())
    for n, ends in enumerate((-70, -35, 2)):  # the last ends two minutes from now
        doc = report(finished=now + timedelta(minutes=ends))
        assert cli("--repo", repo, "record", write_report(tmp_path / f"r{n}.json", doc)).code == 0
    tip = git(repo, "rev-parse", OPS)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 1 and r.err.startswith(
        "evidencebot: error: MO-2 cannot close yet: its last run finishes at 2026-11-25 "
        "14:02:00 UTC, after now (14:00:00 UTC)"), r.err
    assert "again after 14:02:00 UTC" in r.err and git(repo, "rev-parse", OPS) == tip
    monkeypatch.setenv("EVIDENCEBOT_NOW", (now + timedelta(minutes=3)).isoformat())
    assert cli("--repo", repo, "close", "MO-2").code == 0
    assert cli("--repo", repo, "verify", "--range", f"main..{OPS}").code == 0


def test_a_rebuild_on_the_new_tip_refuses_what_record_refuses(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Another operator pushed a run of the same session first: replaying ours on their
    tip would make a branch verify fails (overlapping-session), so nothing is pushed."""
    repo, remote = make(tmp_path)
    record(cli, repo, tmp_path, 0)
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    record(cli, other, tmp_path, 1)
    git(other, "push", "-q", "origin", OPS)
    theirs = git(other, "rev-parse", OPS).strip()
    # the same session, its report written three minutes later (another run id)
    doc = report(finished=NOW - timedelta(minutes=35 * 9 - 3))
    assert cli("--repo", repo, "record", write_report(tmp_path / "late.json", doc)).code == 0
    for n in (2, 3):
        record(cli, repo, tmp_path, n)
    mine = git(repo, "rev-parse", OPS).strip()
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 2 and "overlaps run" in r.err and f"{OPS} was not pushed" in r.err
    assert len(r.err.strip().splitlines()) <= 2  # the error and its Fix, no traceback
    assert git(repo, "rev-parse", f"{OPS}~1").strip() == mine  # the closure on ours, unrebuilt
    assert git(remote, "rev-parse", OPS).strip() == theirs


def test_a_rebuild_skips_a_run_the_new_tip_already_holds(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Both operators recorded the same report (a minute apart: two commits): theirs is
    kept, ours is not added twice."""
    repo, remote = make(tmp_path)
    record(cli, repo, tmp_path, 0)
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    with monkeypatch.context() as m:
        m.setenv("EVIDENCEBOT_NOW", (NOW + timedelta(minutes=1)).isoformat())
        record(cli, other, tmp_path, 1)
    git(other, "push", "-q", "origin", OPS)
    theirs = git(other, "rev-parse", OPS).strip()
    for n in (1, 2, 3):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0, r.err
    runs = git(repo, "log", "--format=%(trailers:key=Evidence-Run-Id,valueonly)", OPS).split()
    assert len(runs) == 4 and len(set(runs)) == 4  # run 1 once: theirs
    assert git(repo, "merge-base", "--is-ancestor", theirs, OPS) == ""
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0


def hand_made_closure(tmp_path: Path, cli, *, on: str) -> Path:  # type: ignore[no-untyped-def]
    """Three runs and a real closure, then an empty commit carrying that closure's message
    (--no-verify) made on ``on`` instead: a closure `close` did not make."""
    repo, _remote = make(tmp_path, "none")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-2", "--no-push").code == 0
    message = git(repo, "log", "-1", "--format=%B", OPS)
    git(repo, "switch", "-q", OPS)
    git(repo, "reset", "-q", "--hard", on)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "--no-verify",
                    "-F", "-"], input=message, text=True, check=True)
    return repo


def test_a_closure_close_did_not_make_closes_nothing(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A closure commit written by hand on one run (--no-verify): `status` and `history`
    say the streak, not CLOSED, and name verify's finding; `close`, at 3/3 later,
    refuses to publish a merge request for it (exit 1), as verify would fail CI."""
    repo = hand_made_closure(tmp_path, cli, on=f"{OPS}~3")  # on the first run
    st = cli("--repo", repo, "status")
    assert st.out.startswith("MO-2: 1/3\n") and "CLOSED on" not in st.out
    assert "NOT CLOSED" in st.out and "(milestone-closed-early)" in st.out
    closed = json.loads(cli("--repo", repo, "--json", "status").out)["milestones"][0]
    assert closed["streak"]["closed"] is False and closed["closed_by"] == []
    assert "history — MO-2: 1/3" in " ".join(cli("--repo", repo, "history").out.split())
    for n in (1, 2):
        record(cli, repo, tmp_path, n)
    refused = cli("--repo", repo, "close", "MO-2", "--no-push")
    assert refused.code == 1 and "(milestone-closed-early)" in refused.err
    assert "merge request" not in refused.out


def test_a_late_failing_run_contradicts_any_milestone_s_unmerged_closure(
        tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Every milestone with a rule is held to the runs its closure names, not only the
    burn-in's: a failing session recorded late between the two runs MO-3 closed on."""
    repo, _remote = make(tmp_path, "none", extra_cfg="\n[milestone.MO-2]\nconsecutive = 3\n"
                         "\n[milestone.MO-3]\nconsecutive = 2\n")
    for n in (0, 2):
        record(cli, repo, tmp_path, n)
    assert cli("--repo", repo, "close", "MO-3", "--no-push").code == 0
    late = cli("--repo", repo, "record", write_report(tmp_path / "late.json", report(
        finished=NOW - timedelta(minutes=35 * 9), filled=0)))
    assert late.code == 0 and "MO-3's closure" in late.out
    git(repo, "switch", "-q", OPS)
    v = cli("--repo", repo, "verify")
    assert v.code == 1 and "(closure-contradicted)" in v.out and "MO-3's closure" in v.out


def test_a_hand_made_closure_on_a_real_streak_without_close_s_files_closes_nothing(
        tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The runs it names are the streak's, but the commit holds none of the files `close`
    writes: unmerged, `status` says what verify finds; `close` publishes nothing."""
    repo = hand_made_closure(tmp_path, cli, on=f"{OPS}~1")  # the real closure off
    st = cli("--repo", repo, "status").out
    assert st.startswith("MO-2: 3/3") and "NOT CLOSED" in st and "mismatch)" in st
    assert "verify blames it" in st
    assert cli("--repo", repo, "close", "MO-2", "--no-push").code == 1


def test_a_second_ops_branch_without_the_first_s_failed_run_is_refused(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The failed session stays on ops/evidence (pushed, protected against force-pushes);
    a clone that never fetched it records the other reports again and pushes them as
    ops/evidence-2, which [scope] branches covers too: the closure's merge request leaves
    the failed run out, and verify says so while the first line is on the remote."""
    repo, remote = make(tmp_path, "none")
    record(cli, repo, tmp_path, 1)
    record(cli, repo, tmp_path, 2, filled=0)  # (does not qualify)
    git(repo, "push", "-q", "origin", OPS)
    again = tmp_path / "again"
    git(tmp_path, "clone", "-q", "--single-branch", "-b", "main", str(remote), str(again))
    for n in (1, 3, 4):
        record(cli, again, tmp_path, n)
    assert cli("--repo", again, "close", "MO-2", "--no-push").code == 0
    git(again, "push", "-q", "origin", f"{OPS}:ops/evidence-2")
    git(repo, "fetch", "-q", "origin")
    span = ("--json", "verify", "--base", "main", "--range", "origin/main..origin/ops/evidence-2")
    found = json.loads(cli("--repo", repo, *span).out)["violations"]
    assert [(v["rule"], v["message"].split(" holds")[0]) for v in found] == [
        ("ops-line-left-out", "origin/ops/evidence")]
    # and the first line's own merge request is told of the second
    mine = json.loads(cli("--repo", repo, "--json", "verify", "--base", "main", "--range",
                          f"main..{OPS}").out)
    assert [v["message"].split(" holds")[0] for v in mine["violations"]] == [
        "origin/ops/evidence-2"]


def test_a_closure_another_operator_s_failed_run_breaks_is_not_pushed_and_says_how_on(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli) -> None:
    """A closes at 3/3 on its own machine while B's failed session reached the remote
    first: the closure cannot follow it. Said as not pushed, with the way on (it was the
    closure's own refusal, exit 1, with no word of the push)."""
    repo, remote = make(tmp_path)  # (gitlab: close pushes)
    record(cli, repo, tmp_path, 1)
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    record(cli, other, tmp_path, 2, filled=0)  # (B: does not qualify)
    git(other, "push", "-q", "origin", OPS)
    record(cli, repo, tmp_path, 3)
    record(cli, repo, tmp_path, 4)
    before = git(remote, "rev-parse", OPS)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 1 and "Traceback" not in r.err  # (the closure's refusal: policy)
    assert r.err.startswith("evidencebot: error: ops/evidence was not pushed: origin has ops "
                            "commits yours cannot follow: MO-2 cannot close")
    assert "git branch -f ops/evidence origin/ops/evidence" in r.err
    assert git(remote, "rev-parse", OPS) == before


def test_close_pushes_to_a_remote_of_no_known_host(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: with a remote whose address names neither GitHub nor GitLab (a
    self-hosted forge, a bare repository), `close` left the closure unpushed and said
    nothing of it, though `run` and `close` push the ops branch. It is pushed; the request
    is the operator's to open, with the commands that open it ("auto" picks "none" for
    such a remote)."""
    repo, remote = make(tmp_path, "none")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 0, r.err
    assert git(remote, "rev-parse", OPS) == git(repo, "rev-parse", OPS)
    assert "ops/evidence pushed to origin" in r.out and "GitLab: git push -o" in r.out
    assert "\n  git push origin ops/evidence" not in r.out  # (done already)


@pytest.mark.parametrize(("said", "kept"), [
    ("https://github.com/o/r/pull/1\n", "https://github.com/o/r/pull/1"),
    ("Creating pull request\nhttps://github.com/o/r/pull/2", None),  # (one line, or none)
    ("https://github.com/o/r/pull/1\x1b]0;pwned\x07", None),
    ("javascript:alert(1)", None), ("https://x/a b", None), (None, None), (7, None),
])
def test_a_merge_request_address_is_kept_only_when_it_is_one(said: object, kept: str | None) -> None:
    """Adversary 44b: `close` printed what `gh` answered, a terminal escape included."""
    from evidencebot.milestone.providers import web_url

    assert web_url(said) == kept


def test_a_closure_on_another_ops_branch_than_the_base_names_is_refused(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Adversary 44b: a machine recording on ops/burnin (its working tree's [ops] branch)
    pushed a closure CI always refused: verify renders it with the base's branch name."""
    repo, remote = make(tmp_path)
    cfg = repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "[ops]\n", '[ops]\nbranch = "ops/burnin"\n', 1), encoding="utf-8")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    tip, pushed = git(repo, "rev-parse", "ops/burnin"), pushes(remote)
    r = cli("--repo", repo, "close", "MO-2")
    assert r.code == 2 and "MO-2 cannot close on ops/burnin" in r.err, r.err
    assert 'merge [ops] branch = "ops/burnin" into main through review first' in r.err
    assert git(repo, "rev-parse", "ops/burnin") == tip and pushes(remote) == pushed


def test_the_runs_that_closed_one_milestone_close_no_other(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Adversary 44b: with a rule for MO-3 too, the three runs that closed MO-2 closed
    MO-3 as well, no run since, and verify said OK. `close` refuses until three runs of
    its own; verify blames a closure made anyway (here, one made beside MO-2's and then
    put on top of it)."""
    repo, _remote = make(tmp_path, "none", extra_cfg="\n[milestone.MO-2]\n[milestone.MO-3]\n")
    for n in range(3):
        record(cli, repo, tmp_path, n)
    runs_done = git(repo, "rev-parse", OPS).strip()
    assert cli("--repo", repo, "close", "MO-2").code == 0
    mo2 = git(repo, "rev-parse", OPS).strip()
    refused = cli("--repo", repo, "close", "MO-3")
    assert refused.code == 1 and "MO-3 cannot close: " in refused.err
    assert "closed MO-2 in" in refused.err and "milestone-runs-reused" in refused.err
    assert git(repo, "rev-parse", OPS).strip() == mo2  # (nothing written)
    git(repo, "update-ref", f"refs/heads/{OPS}", runs_done)  # (MO-3 first, beside it)
    assert cli("--repo", repo, "close", "MO-3", "--no-push").code == 0
    mo3 = git(repo, "rev-parse", OPS).strip()
    git(repo, "update-ref", f"refs/heads/{OPS}", mo2)
    git(repo, "switch", "-q", OPS)
    git(repo, "-c", "core.hooksPath=/dev/null", "cherry-pick", "-X", "theirs", mo3)
    r = cli("--repo", repo, "--json", "verify")
    assert r.code == 1 and "milestone-runs-reused" in {
        v["rule"] for v in json.loads(r.out)["violations"]}, r.out


def test_status_says_the_remote_is_missing(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A remote that is not there (removed, or misspelt in [ops] remote) was said by `run`
    and `record` but not by `status`, where whoever takes over looks."""
    repo, _ = make(tmp_path)
    record(cli, repo, tmp_path, 0)
    git(repo, "remote", "rename", "origin", "upstream")
    r = cli("--repo", repo, "--json", "status")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["unpushed"] is None
    assert "  not pushed: there is no remote 'origin' yet (git remote add origin <url of the " \
           "trading repository>, or set [ops] remote to the remote you push to)" in doc["lines"]
