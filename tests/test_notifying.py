"""Notifications wired into `run` and `close`: real apprise posting to the real loopback
webhook receiver, real runs against the simulated gateway. Each event arrives exactly once per
new ops commit, a rerun that adds nothing sends nothing, a hanging receiver costs at most the
timeout, and no token reaches any output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git

from evidencebot.ledger.workspace import open_context
from evidencebot.runbook.notify import Notice
from evidencebot.runbook.notifying import deliver, notify_commits
from evidencebot.sim.burnin import SCENARIO_ENV
from evidencebot.sim.demo import demo_config
from evidencebot.sim.gateway import running_gateway
from evidencebot.sim.trading_repo import write_repo
from evidencebot.sim.webhook import Receiver, receiver

OPS = "ops/evidence"
SECRETS = ("S3CRETtoken", "abcdef123456", "topsecretvalue")


def secret_url(r: Receiver) -> str:
    return f"json://user:S3CRETtoken@127.0.0.1:{r.port}/hook/abcdef123456?x=topsecretvalue"


@pytest.fixture
def port() -> Iterator[int]:
    with running_gateway(hold_client_ids={17}, unsubscribed={"HSBA"}) as p:
        yield p


def make_repo(tmp_path: Path, port: int, notify: str = "") -> Path:
    config = demo_config(port=port, report="state/latest.json") + "\n[notify]\n" + notify
    return write_repo(tmp_path / "bot", extra={"evidencebot.toml": config})


def titles(r: Receiver) -> list[str]:
    return [req.json["title"] for req in r.received]


def at(mp: pytest.MonkeyPatch, now: str, scenario: str = "qualifying") -> None:
    mp.setenv("EVIDENCEBOT_NOW", now)
    mp.setenv(SCENARIO_ENV, scenario)


def no_secret(*texts: str) -> None:
    for text in texts:
        for s in SECRETS:
            assert s not in text


@pytest.mark.parametrize(("scenario", "code", "event", "outcome", "next_step"), [
    pytest.param("market-data", 4, "failed", "failed-market-data",
                 "Next step: a retry is scheduled after 2026-11-26T00:00Z", id="failed"),
    pytest.param("code-bug", 4, "handoff", "failed-code",
                 "Next step: DEBUG takes the handoff packet reports/handoffs/", id="handoff"),
    pytest.param("no-fills", 0, "non-qualifying", "non-qualifying",
                 "Next step: the streak starts again", id="non-qualifying"),
])
def test_each_outcome_arrives_exactly_once_and_a_rerun_sends_nothing(
        tmp_path: Path, port: int, cli, monkeypatch: pytest.MonkeyPatch, scenario: str,  # type: ignore[no-untyped-def]
        code: int, event: str, outcome: str, next_step: str) -> None:
    repo = make_repo(tmp_path, port)
    at(monkeypatch, "2026-11-25T09:05:00Z", scenario)
    with receiver() as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", secret_url(r))
        run = cli("--repo", repo, "run", "--no-push")
        assert run.code == code, run.err
        sha = git(repo, "rev-parse", OPS).strip()
        (got,) = r.received
        assert got.path == "/hook/abcdef123456"  # the URL the operator configured
        assert got.json["title"].startswith(f"evidencebot {event}: run 20261125T")
        assert got.json["title"].endswith(outcome)
        body = got.json["message"]
        assert f"Commit: {sha[:12]}" in body and "Streak: MO-2: 0/3" in body
        assert next_step in body
        assert f"notified: {event} (1 of 1 URL(s))" in run.out
        again = cli("--repo", repo, "record", repo / "state" / "latest.json") \
            if scenario == "no-fills" else None
        if again is not None:  # the same report again: nothing added, nothing sent
            assert again.code == 0 and "nothing added" in again.out
        assert len(r.received) == 1
    no_secret(run.out, run.err, git(repo, "log", "-p", OPS))


def test_closing_mo2_arrives_once_and_qualifying_runs_send_nothing(tmp_path: Path, port: int,
                                                                   cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    with receiver() as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", r.url("/mo2"))
        for hour in (9, 10, 11):
            at(monkeypatch, f"2026-11-25T{hour:02d}:05:00Z")
            assert cli("--repo", repo, "run", "--no-push").code == 0
        assert titles(r) == [titles(r)[0]] and titles(r)[0].startswith("evidencebot closed: ")
        body = r.received[0].json["message"]
        closure = git(repo, "rev-parse", OPS).strip()
        assert f"Commit: {closure[:12]}" in body and "MO-2: 3/3 (CLOSED)" in body
        assert "Next step: open the merge request: " in body
        again = cli("--repo", repo, "close", "MO-2", "--no-push")
        assert again.code == 0 and "already closed" in again.out
        assert len(r.received) == 1


def test_close_command_notifies_the_closure(tmp_path: Path, port: int, cli,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    (repo / "evidencebot.toml").write_text((repo / "evidencebot.toml").read_text()
                                           + "\n[milestone.MO-2]\nauto_close = false\n")
    with monkeypatch.context() as m:  # merged before the sessions (their code must be)
        for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            m.setenv(key, "2026-11-25T08:00:00Z")
        git(repo, "commit", "-qam", "no auto close")
    for hour in (9, 10, 11):
        at(monkeypatch, f"2026-11-25T{hour:02d}:05:00Z")
        ran = cli("--repo", repo, "run", "--no-push")
        assert ran.code == 0
    # (the run that met the streak says what is next: found by a newcomer, to whom it said
    # nothing with auto_close off)
    assert "next: the streak is met: `evidencebot close MO-2` makes the closure commit" \
        in ran.out + ran.err
    with receiver() as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", r.url())
        closed = cli("--repo", repo, "close", "MO-2", "--no-push")
        assert closed.code == 0, closed.err
        assert [t.split(":")[0] for t in titles(r)] == ["evidencebot closed"]
        assert "notified: closed (1 of 1 URL(s))" in closed.out


def test_a_refusal_notifies_only_when_it_adds_a_commit(tmp_path: Path, port: int, cli,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port, 'on = ["refused"]\n')
    (repo / "state").mkdir(exist_ok=True)
    (repo / "state" / "kill_switch.json").write_text('{"active": true}')
    with receiver() as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", r.url())
        for minute in ("05", "35"):  # the scheduler fires twice; the second adds nothing
            at(monkeypatch, f"2026-11-25T09:{minute}:00Z")
            assert cli("--repo", repo, "run", "--no-push").code == 3
        assert titles(r) == ["evidencebot refused: run 20261125T090500Z refused (kill-switch)"]
        assert "- kill-switch: active (state/kill_switch.json" in r.received[0].json["message"]


def test_a_due_retry_is_announced_with_the_session_that_answers_it(tmp_path: Path, port: int,
                                                                   cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    with receiver() as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", r.url())
        at(monkeypatch, "2026-11-25T09:05:00Z", "market-data")
        assert cli("--repo", repo, "run", "--no-push").code == 4
        failed_run = git(repo, "log", "-1", "--format=%(trailers:key=Evidence-Run-Id,valueonly)",
                         OPS).strip()
        at(monkeypatch, "2026-11-26T09:05:00Z")  # after the Retry-After (2026-11-26T00:00Z)
        assert cli("--repo", repo, "run", "--no-push").code == 0
        assert [t.split(":")[0] for t in titles(r)] == ["evidencebot failed",
                                                        "evidencebot retry-due"]
        due = r.received[1].json
        assert due["title"] == f"evidencebot retry-due: run {failed_run} failed-market-data"
        assert "its retry was due at 2026-11-26T00:00:00Z" in due["message"]
        assert "Next step: this session was the retry: run 20261126T" in due["message"]
        at(monkeypatch, "2026-11-26T10:05:00Z")  # the retry is answered: not due any more
        assert cli("--repo", repo, "run", "--no-push").code == 0
        assert len(r.received) == 2


def test_a_hanging_notifier_costs_the_timeout_and_one_warning_line(tmp_path: Path, port: int,
                                                                   cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port, "timeout_seconds = 1\n")
    at(monkeypatch, "2026-11-25T09:05:00Z", "no-fills")
    with receiver(mode="hang") as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", secret_url(r))
        start = time.monotonic()
        run = cli("--repo", repo, "run", "--no-push")
        elapsed = time.monotonic() - start
        assert r.wait_for(1, timeout=5)  # it was taken, and left unanswered
    assert run.code == 0  # the evidence is committed; the run's outcome stands
    (warning,) = run.err.splitlines()
    assert warning == (f"evidencebot: warning: notification (non-qualifying) to "
                       f"json://127.0.0.1:{r.port}/… failed: no answer within 1 s (gave up "
                       "waiting); the evidence is committed")
    assert elapsed < 15
    no_secret(run.out, run.err)
    # the bound itself, measured on the notification step alone: one timeout, not one per
    # event, even with several notices to the same hanging server
    with receiver(mode="hang") as r2:
        notices = [Notice(e, "k", f"t{e}", "b") for e in ("failed", "retry-due", "closed")]
        start = time.monotonic()
        sent = deliver(notices, [r2.url()], timeout=1.0)
        took = time.monotonic() - start
    assert took < 1.6 and sent.failures[0].events == ("failed", "retry-due", "closed")


def test_a_failing_notifier_is_one_redacted_warning(tmp_path: Path, port: int, cli,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port)
    at(monkeypatch, "2026-11-25T09:05:00Z", "market-data")
    log = tmp_path / "run.log"
    with receiver(mode="fail") as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", secret_url(r))
        run = cli("--repo", repo, "run", "--no-push", "--log-file", log)
    assert run.code == 4
    warning, error = run.err.splitlines()
    assert warning.startswith(f"evidencebot: warning: notification (failed) to "
                              f"json://127.0.0.1:{r.port}/… failed: ") and "500" in warning
    assert error.startswith("evidencebot: error: failed-market-data")
    no_secret(run.out, run.err, log.read_text(), git(repo, "log", "-p", OPS))


def test_only_the_events_switched_on_are_sent(tmp_path: Path, port: int,
                                              monkeypatch: pytest.MonkeyPatch, cli) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path, port, 'on = ["closed"]\n')
    at(monkeypatch, "2026-11-25T09:05:00Z", "no-fills")
    with receiver() as r:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", r.url())
        assert cli("--repo", repo, "run", "--no-push").code == 0
        ctx = open_context(repo, config_path=None, clock=lambda: None)  # type: ignore[arg-type,return-value]
        commits = ctx.history()[:1]
        assert notify_commits(ctx, commits, env={"EVIDENCEBOT_NOTIFY_URLS": r.url()}).events == ()
        assert r.received == []


# -- notify --test ---------------------------------------------------------------------------

def test_notify_test_reports_each_url(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo = write_repo(tmp_path / "bot")
    assert cli("--repo", repo, "notify", "--test").code == 2  # no URL configured
    with receiver() as good, receiver(mode="fail") as bad:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", secret_url(good))
        ok = cli("--repo", repo, "notify", "--test")
        assert ok.code == 0 and ok.out == f"ok      json://127.0.0.1:{good.port}/…\n"
        assert good.received[0].json["title"] == "evidencebot test notification"
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS", f"{secret_url(good)} {secret_url(bad)}")
        mixed = cli("--repo", repo, "--json", "notify", "--test")
        assert mixed.code == 1
        doc = json.loads(mixed.out)
        assert [d["ok"] for d in doc["deliveries"]] == [True, False] and doc["ok"] is False
        no_secret(ok.out, ok.err, mixed.out, mixed.err)
    assert cli("--repo", repo, "notify").code == 2


def test_notify_test_refuses_a_url_no_service_reads(tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL apprise cannot read is a mistake in the configuration: exit 2, one line
    naming it without its secret, and nothing is sent to the URLs beside it."""
    repo = write_repo(tmp_path / "bot")
    with receiver() as good:
        monkeypatch.setenv("EVIDENCEBOT_NOTIFY_URLS",
                           f"{secret_url(good)} notascheme://S3CRETtoken@x/abcdef123456")
        out = cli("--repo", repo, "notify", "--test")
        assert out.code == 2
        assert out.err.startswith("evidencebot: error: no apprise service here can use the "
                                  "notification URL notascheme://***/")
        assert good.received == []
        no_secret(out.out, out.err)


# -- which events a commit raises ------------------------------------------------------------

def _commit(kind: str, outcome: str = "", **extra: str):  # type: ignore[no-untyped-def]
    from evidencebot.evidence.history import OpsCommit

    return OpsCommit("f" * 40, (), "bot", "2026-11-25T09:05:00+00:00", "s",
                     {"Evidence-Kind": kind, "Evidence-Outcome": outcome, **extra})


ALL = ("failed", "handoff", "refused", "non-qualifying", "retry-due", "closed")


@pytest.mark.parametrize(("commit", "on", "events"), [
    pytest.param(_commit("step1a-burnin", "qualifying"), ALL, [], id="qualifying-is-quiet"),
    pytest.param(_commit("step1a-burnin", "failed-infra"), ALL, ["failed"], id="infra"),
    pytest.param(_commit("step1a-burnin", "failed-code", Handoff="reports/handoffs/x.md"), ALL,
                 ["handoff"], id="code-bug-is-a-handoff-only"),
    pytest.param(_commit("step1a-burnin", "failed-code", Handoff="reports/handoffs/x.md"),
                 ("failed",), ["failed"], id="handoffs-off-it-is-a-failure"),
    pytest.param(_commit("step1a-burnin", "non-qualifying"), ALL, ["non-qualifying"],
                 id="non-qualifying"),
    pytest.param(_commit("check"), ALL, ["refused"], id="refused"),
    pytest.param(_commit("check"), ("failed", "handoff", "non-qualifying", "retry-due",
                                    "closed"), [], id="refused-is-off-by-default"),
    pytest.param(_commit("milestone"), ALL, ["closed"], id="closed"),
    pytest.param(_commit("void"), ALL, [], id="void-is-quiet"),
])
def test_events_of(commit, on: tuple[str, ...], events: list[str]) -> None:  # type: ignore[no-untyped-def]
    from evidencebot.runbook.notifying import events_of

    assert events_of(commit, on=on) == events
