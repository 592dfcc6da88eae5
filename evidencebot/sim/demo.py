"""`evidencebot demo`: the whole flow in a throwaway repository, on the simulated gateway.

Layout of DIR: ``bot/`` (the demo trading repository), ``gitlab-remote.git`` (a bare
repository that plays GitLab: it advertises push options and records them).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import git
from ..errors import EvidencebotError, RunFailed, UsageError
from .burnin import SCENARIO_ENV
from .trading_repo import write_repo
from .webhook import receiver

NOTIFY_ENV = "EVIDENCEBOT_NOTIFY_URLS"
# The webhook's path stands in for the token a real service URL carries: it never appears
# in what the demo prints, commits or logs.
NOTIFY_PATH = "/demo/T0KEN-never-printed"

MARKER = ".evidencebot-demo"
# (scenario, what happens, run's options, run's exit code)
SCENARIOS: tuple[tuple[str, str, list[str], int], ...] = (
    ("no-fills", "the run completes with 0 filled orders: non-qualifying", [], 0),
    ("market-data", "the wrapper meets error 354: failed-market-data, retry scheduled", [],
     RunFailed.exit_code),
    ("qualifying", "checks skipped, so the wrapper itself meets client id 17 in use "
     "(error 326) and moves on to 18", ["--skip-checks"], 0),
    ("qualifying", "qualifying", [], 0),
    ("qualifying", "qualifying: 3/3, MO-2 closes and the merge request opens", [], 0),
)


class DemoStopped(EvidencebotError):
    """A step of the demo ended otherwise than the demo expects: the demo stops there, its
    repository left as it is for a look."""

    exit_code = 1


class DemoInterrupted(DemoStopped):
    """A step was interrupted (Ctrl-C): so is the demo. The step said so ("aborted"), so
    nothing more is said."""

    exit_code = 130
    said = True

RECEIVE_HOOK = """\
#!{python}
# Plays GitLab's side of `git push -o merge_request.create ...`: records the push options.
import json, os, sys
opts = [os.environ[f"GIT_PUSH_OPTION_{{i}}"]
        for i in range(int(os.environ.get("GIT_PUSH_OPTION_COUNT", "0")))]
updates = [line.split() for line in sys.stdin.read().splitlines()]
with open(os.path.join(os.environ.get("GIT_DIR", "."), "push-options.log"), "a") as f:
    f.write(json.dumps({{"options": opts, "updates": updates}}) + "\\n")
if any(o == "merge_request.create" for o in opts):
    print("View merge request for ops/evidence: (simulated GitLab) !1")
"""


def demo_config(*, port: int, report: str) -> str:
    burnin = [sys.executable, "-m", "evidencebot.sim.burnin", "--report", report,
              "--runs", "{runs}", "--paper-duration-seconds", "{paper_duration_seconds}",
              "--min-filled-orders", "{min_filled_orders}",
              "--min-symbol-data-availability-ratio", "{min_symbol_data_availability_ratio}",
              "--preflight-min-bars-per-symbol", "{preflight_min_bars_per_symbol}",
              "--port", str(port)]
    health = [sys.executable, "main.py", "uk_health_check", "--profile", "uk_paper",
              "--strict-health"]
    return "\n".join([
        "# The demo repository's evidencebot config (see `evidencebot init` for every key).",
        "[ops]",
        'provider = "gitlab"',
        "",
        "[burnin]",
        f"command = {json.dumps(burnin)}",
        f'report = "{report}"',
        "timeout_seconds = 2400  # above the paper duration (the simulated wrapper never "
        "waits for it)",
        "retries = 1",
        "retry_backoff_seconds = 0.2",
        "",
        "# The demo runs at any hour on any day: an always-open window (start = end),",
        "# with no bank holidays. A real repository keeps the runbook's 08:00-16:00 Mon-Fri.",
        "[window]",
        'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]',
        'start = "00:00"',
        'end = "00:00"',
        'holidays = ""',
        "",
        "[health]",
        f"command = {json.dumps(health)}",
        "",
        "[ibkr]",
        f"port = {port}",
        "connect_timeout_seconds = 5",
        "client_id_range = [17, 26]",
        "readonly_wait_seconds = 0.5",
        "",
    ])


def prepare(target: Path, *, force: bool) -> Path:
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise UsageError(f"{target} exists and is not an evidencebot demo; "
                             "give another DIR")
        if not force:
            raise UsageError(f"{target} holds an earlier demo; pass --force to replace it")
        shutil.rmtree(target, onerror=_force_remove)
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("made by `evidencebot demo`\n", encoding="utf-8")
    return target


def _force_remove(func: Callable[..., Any], path: str, _exc: object) -> None:
    Path(path).chmod(stat.S_IWRITE)  # read-only git objects on Windows
    func(path)


def make_remote(target: Path) -> Path:
    remote = target / "gitlab-remote.git"
    git.run(target, "init", "-q", "--bare", str(remote))
    git.run(remote, "config", "receive.advertisePushOptions", "true")
    hook = remote / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)  # an empty init template has no hooks directory
    hook.write_text(RECEIVE_HOOK.format(python=sys.executable), encoding="utf-8", newline="\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return remote


@contextmanager
def gateway() -> Iterator[int]:
    """The simulated gateway: a paper account, client id 17 already taken."""
    from .gateway import running_gateway

    with running_gateway(accounts=["DU1234567"], hold_client_ids={17},
                         unsubscribed={"HSBA"}) as port:
        yield port


def build(target: Path, *, port: int) -> Path:
    report = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"
    # The wrapper writes its reports into the working tree; the demo's bot
    # ignores them so `git status` on main stays clean after the demo.
    repo = write_repo(target / "bot", extra={
        "evidencebot.toml": demo_config(port=port, report=report),
        ".gitignore": "state/\nreports/uk_tax/\n"})
    remote = make_remote(target)
    git.run(repo, "remote", "add", "origin", str(remote))
    git.run(repo, "push", "-q", "origin", "main")
    return repo


DAY_ONE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - \
    timedelta(days=1)


def session_time(n: int, *, start: bool = False) -> str:
    """Run ``n``'s simulated end (or ``start``, half an hour before): yesterday from 09:30
    UTC, an hour apart (in the past, so the evidence is never dated in the future)."""
    return (DAY_ONE + timedelta(hours=9 + n, minutes=0 if start else 30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _stepper(cli: Callable[[list[str]], int], repo: Path,
             say: Callable[[str], None]) -> Callable[..., None]:
    """A step of the demo: the CLI on the demo repository, stopping the demo when it ends
    otherwise than ``expect`` (130: interrupted, as the step was). A step meant to fail
    says so after the error its command wrote."""
    def step(*args: str, expect: int = 0) -> None:
        code = cli(["--repo", str(repo), *args])
        if code == 130:
            raise DemoInterrupted("interrupted")
        if code != expect:
            raise DemoStopped(f"`evidencebot {args[0]}` exited {code}, not {expect}: the "
                              f"demo stopped (its repository is {repo})")
        if code:
            say(f"(exit {code}, as this step of the demo means: the error above is the "
                "failure it shows, recorded and pushed; the demo goes on)")
    return step


def _received(target: Path, arrived: list[Any], say: Callable[[str], None]) -> None:
    """What the demo's stand-ins received: notifications and GitLab push options."""
    say(f"\nthe loopback webhook received {len(arrived)} notification(s) through apprise:")
    for request in arrived:
        title = request.json.get("title", "") if isinstance(request.json, dict) else ""
        say(f"  {title}")
    log = target / "gitlab-remote.git" / "push-options.log"
    if log.exists():
        say("\nthe GitLab stand-in received these push options:")
        for line in log.read_text(encoding="utf-8").splitlines():
            for opt in json.loads(line)["options"]:
                say(f"  -o {opt}")


def run_demo(target: Path, *, force: bool, say: Callable[[str], None],
             cli: Callable[[list[str]], int]) -> Path:
    """Build the demo and drive it through the real CLI, one step at a time."""
    prepare(target, force=force)
    with gateway() as port, receiver() as hook:
        repo = build(target, port=port)
        say(f"demo trading repository: {repo}")
        say(f"simulated IB Gateway on 127.0.0.1:{port} (paper account DU…, client id 17 "
            "already in use)")
        say(f"notifications: {NOTIFY_ENV} points apprise at a loopback webhook on "
            f"127.0.0.1:{hook.port}")
        say("session window of the demo repo: every day, all day, no bank holidays "
            "(a real repository keeps the runbook's 08:00–16:00 UTC Mon–Fri)")
        say("the demo's clock stands still while a simulated run takes its half hour: a "
            "run's log lines carry the time it ends\n")
        step = _stepper(cli, repo, say)
        first = session_time(1, start=True)  # when run 1 starts, on the demo's clock
        say(f"$ evidencebot check   # at {first}, before run 1")
        with environment({"EVIDENCEBOT_NOW": first}):
            step("check")
        for n, (scenario, note, extra, expect) in enumerate(SCENARIOS, 1):
            at = session_time(n)
            say(f"\n$ evidencebot run {' '.join(extra)}  # run {n}, ending at {at}: {note}")
            # The simulated wrapper reads both; runs a simulated hour apart (one session,
            # one run), each recorded at the end of its simulated half hour.
            with environment({SCENARIO_ENV: scenario, "EVIDENCEBOT_NOW": at,
                              NOTIFY_ENV: hook.url(NOTIFY_PATH)}):
                step("run", *extra, expect=expect)
                if scenario == "market-data":
                    say("\n$ evidencebot next   # the market-data failure left a retry pending")
                    step("next")
        say("\n$ evidencebot history")
        step("history")
        say("\n$ evidencebot status")
        step("status")
        say("\n$ evidencebot verify   # what CI runs on the merge request")
        git.run(repo, "switch", "-q", "ops/evidence")
        step("verify")
        git.run(repo, "switch", "-q", "main")
        arrived = hook.received
    _received(target, arrived, say)
    say(f"\nlook around: cd {repo} && git log --format='%h %s%n%(trailers:only)' "
        "ops/evidence")
    say("\n$ evidencebot report   # the burn-in as one HTML page: open it in a browser")
    step("report")
    return repo
