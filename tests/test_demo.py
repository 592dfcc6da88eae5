"""`evidencebot demo`: the whole flow, end to end (its speed is measured, not asserted: it
prints how long it took)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from conftest import git


def test_demo_runs_the_whole_flow(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("demo", tmp_path / "demo")
    assert r.code == 0, r.err
    assert re.search(r"^demo finished in \d+\.\d s$", r.out, re.M)  # how long, said
    repo = tmp_path / "demo" / "bot"
    assert "every day, all day" in r.out  # it says which window its demo repo uses
    page = repo / ".git" / "evidencebot" / "report.html"  # it ends with the report page
    assert str(page) in r.out.rstrip().splitlines()[-2:] and page.is_file()
    log = git(repo, "log", "--format=%B%x00", "ops/evidence").split("\x00")
    parsed = [subprocess.run(["git", "interpret-trailers", "--parse"], input=m, text=True,
                             capture_output=True, check=True).stdout for m in log if m.strip()]
    outcomes = [line.split(": ", 1)[1] for p in parsed for line in p.splitlines()
                if line.startswith("Evidence-Outcome: ")]
    assert outcomes.count("qualifying") == 3 and "non-qualifying" in outcomes
    assert "failed-market-data" in outcomes
    assert any("Milestone-Status: CLOSED" in p for p in parsed)
    assert any("Ibkr-Client-Id: 18" in p for p in parsed)  # 17 was held: 326, moved on
    pushes = [json.loads(x) for x in
              (tmp_path / "demo" / "gitlab-remote.git" / "push-options.log").read_text().splitlines()]
    assert any("merge_request.create" in p["options"] for p in pushes)
    status = cli("--repo", repo, "--json", "status")
    assert json.loads(status.out)["milestones"][0]["streak"]["closed"] is True
    description = git(repo, "show", "ops/evidence:reports/evidence/milestones/MO-2.md")
    assert description.count(" | `run` | ") == 3  # the demo's streak came through `run`
    assert "Recorded by hand:" not in description
    # the demo pins its clock: the reviewer is told that every time is the operator's word
    assert "> **The base branch allows a pinned clock** (`[ops] allow_pinned_clock = true`)" \
        in description
    git(repo, "switch", "-q", "ops/evidence")
    assert cli("--repo", repo, "verify").code == 0
    assert "1234567" not in git(repo, "log", "-p", "ops/evidence")
    # a notification arrived at the demo's loopback webhook for each event, once
    notified = r.out.split("the loopback webhook received ", 1)[1].split("\n\n", 1)[0]
    lines = notified.splitlines()
    assert lines[0] == "3 notification(s) through apprise:"
    assert [x.split(":")[0].strip() for x in lines[1:]] == [
        "evidencebot non-qualifying", "evidencebot failed", "evidencebot closed"]
    assert "T0KEN" not in r.out + r.err + git(repo, "log", "-p", "ops/evidence")
    assert "pending retry: " in r.out and "(failed-market-data, commit " in r.out
    # the one error it prints (the market-data failure) is said to be the demo's meaning
    assert r.err.count("evidencebot: error: ") == 1 and "failed-market-data" in r.err
    assert "(exit 4, as this step of the demo means: the error above is the failure it " \
        "shows, recorded and pushed; the demo goes on)" in r.out


def test_demo_refuses_a_directory_that_is_not_a_demo(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "precious.txt").write_text("keep me")
    r = cli("demo", tmp_path / "x")
    assert r.code == 2 and "not an evidencebot demo" in r.err
    assert (tmp_path / "x" / "precious.txt").read_text() == "keep me"


def _hears_ctrl_c() -> None:
    """In the child, before it starts: SIGINT back to its default. A test run started in
    the background of a non-interactive shell (`bash .ci/run &`) ignores SIGINT, and a
    child inherits that: Python then never raises KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_demo(tmp_path: Path) -> None:
    """Ctrl-C during a step stops the demo there (exit 130), not only the step: the demo
    checks every step's exit code, and goes no further than one that did not end as the
    demo expects."""
    import os
    import signal
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "evidencebot", "demo", str(tmp_path / "d")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_hears_ctrl_c)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # (until the first run starts: a step under way)
        seen.append(line)
        if line.startswith("$ evidencebot run"):
            os.killpg(proc.pid, signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "demo finished" not in out and "$ evidencebot history" not in out
    said = [ln for ln in err.splitlines() if ln.startswith("evidencebot: error:")]
    assert len(said) == 1, err  # one line: the step's (a session it stopped is recorded)
    assert said[0] == "evidencebot: error: aborted" or \
        said[0].startswith("evidencebot: error: failed-code: interrupted after"), err
