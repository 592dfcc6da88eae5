"""Notifications: real apprise posting to the real loopback webhook receiver, no mocks."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from evidencebot.runbook.notify import (
    DEFAULT_ON,
    EVENTS,
    TEST_TITLE,
    Delivery,
    Notice,
    redact_urls,
    render,
    safe_url,
    send,
    send_test,
    urls_from,
)
from evidencebot.sim.webhook import receiver

SHA = "681d93e40d12c0ffee0123456789abcdef012345"
SECRETS = ("S3CRETtoken", "topsecretvalue", "abcdef123456")


def notice(event: str = "failed") -> Notice:
    return render(event, run_id="20261124T082958Z", outcome="failed-infra",
                  reasons=["market data error 354 on VOD"], streak="MO-2: 2/3", commit=SHA,
                  next_step="retry due 2026-11-24 10:00 UTC")


def token_url(port: int) -> str:
    return f"json://user:S3CRETtoken@127.0.0.1:{port}/hook/abcdef123456?x=topsecretvalue"


def test_a_notice_reaches_the_receiver_exactly_once() -> None:
    with receiver() as r:
        deliveries = send(notice(), [r.url()], timeout=5.0)
        assert r.wait_for(1, timeout=5.0)
        got = r.received
    assert deliveries == [Delivery(f"json://127.0.0.1:{r.port}/…", True, "")]
    assert len(got) == 1
    assert (got[0].method, got[0].path) == ("POST", "/hook")
    text = got[0].json["title"] + "\n" + got[0].json["message"]
    assert "20261124T082958Z" in text and "failed-infra" in text


def test_two_urls_give_two_deliveries_in_order() -> None:
    with receiver() as r:
        deliveries = send(notice(), [r.url("/first"), r.url("/second")], timeout=5.0)
        assert r.wait_for(2, timeout=5.0)
        paths = sorted(req.path for req in r.received)
    assert [d.ok for d in deliveries] == [True, True]
    assert paths == ["/first", "/second"]


def test_a_failing_server_gives_one_failed_delivery_with_its_error() -> None:
    with receiver(mode="fail") as r:
        deliveries = send(notice(), [r.url()], timeout=5.0)
        assert len(r.received) == 1  # apprise did not retry behind our back
    assert len(deliveries) == 1
    (d,) = deliveries
    assert not d.ok
    assert "500" in d.error and "\n" not in d.error


def test_a_hanging_server_costs_the_timeout_not_more() -> None:
    with receiver(mode="hang") as r:
        start = time.monotonic()
        deliveries = send(notice(), [r.url()], timeout=1.0)
        elapsed = time.monotonic() - start
        assert r.wait_for(1, timeout=2.0)  # it was taken and left unanswered, not refused
    assert elapsed < 3.0
    assert [d.ok for d in deliveries] == [False]
    assert "no answer within 1 s" in deliveries[0].error


@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_a_token_never_leaves_send(mode: str, capsys: pytest.CaptureFixture[str],
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # apprise and urllib3 put the URL in their DEBUG records
    with receiver(mode=mode) as r:
        url = token_url(r.port)
        deliveries = send(notice(), [url], timeout=5.0)
        assert r.received[0].path == "/hook/abcdef123456"  # the token was really used
    assert [d.ok for d in deliveries] == [mode == "ok"]
    out, err = capsys.readouterr()
    shown = [repr(deliveries), out, err, caplog.text, *(rec.getMessage() for rec in caplog.records)]
    for text in shown:
        for secret in (url, *SECRETS):
            assert secret not in text
    assert not [rec for rec in caplog.records if (rec.threadName or "").startswith("evidencebot-notify")]


def test_an_invalid_url_is_a_failed_delivery_not_an_exception() -> None:
    with receiver() as r:
        deliveries = send(notice(), ["notascheme://x", r.url()], timeout=5.0)
    assert [d.ok for d in deliveries] == [False, True]
    assert deliveries[0].url == "notascheme://***/…"
    assert deliveries[0].error.startswith("apprise cannot use this URL")


def test_an_invalid_url_with_a_token_is_reported_redacted() -> None:
    (d,) = send(notice(), ["notascheme://S3CRETtoken@x/abcdef123456"], timeout=5.0)
    assert not d.ok and d.error
    assert not [s for s in SECRETS if s in d.error + d.url]


def test_send_to_no_urls_sends_nothing() -> None:
    assert send(notice(), [], timeout=1.0) == []


def test_send_test_says_it_is_a_test() -> None:
    with receiver() as r:
        deliveries = send_test([r.url()], timeout=5.0)
        assert r.wait_for(1, timeout=5.0)
        title = r.received[0].json["title"]
    assert [d.ok for d in deliveries] == [True]
    assert title == TEST_TITLE == "evidencebot test notification"


@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        pytest.param(["json://a/x"], {}, ["json://a/x"], id="config-only"),
        pytest.param([], {"EVIDENCEBOT_NOTIFY_URLS": " ntfys://b/t\n\tjson://c "},
                     ["ntfys://b/t", "json://c"], id="env-whitespace-separated"),
        pytest.param(["json://a/x", " ", "ntfys://b/t"],
                     {"EVIDENCEBOT_NOTIFY_URLS": "ntfys://b/t json://c json://a/x"},
                     ["json://a/x", "ntfys://b/t", "json://c"], id="deduplicated-order-kept"),
        pytest.param([], {"OTHER": "json://z"}, [], id="other-variables-ignored"),
    ],
)
def test_urls_from(configured: list[str], env: dict[str, str], expected: list[str]) -> None:
    assert urls_from(configured, env) == expected


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        pytest.param(token_url(8080), "json://127.0.0.1:8080/…", id="credentials-path-query"),
        pytest.param("mailtos://ops:pw123@mail.example.com?to=me@example.com",
                     "mailtos://mail.example.com/…", id="named-host-kept"),
        pytest.param("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOX", "slack://***/…",
                     id="token-as-host"),
        pytest.param("tgram://123456789:AAHdefGHI/chat", "tgram://***/…", id="token-as-port"),
        pytest.param("JSON://[::1]:9000/x", "json://[::1]:9000/…", id="ipv6"),
        pytest.param("not a url at all", "(not a URL)", id="not-a-url"),
    ],
)
def test_safe_url(url: str, safe: str) -> None:
    assert safe_url(url) == safe


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        pytest.param(f"failed: {token_url(80)}", token_url(80), "failed: json://127.0.0.1:80/…",
                     id="whole-url"),
        pytest.param("POST http://127.0.0.1:80/hook/abcdef123456?x=topsecretvalue",
                     token_url(80), "POST http://127.0.0.1:80/hook/***?x=***",
                     id="rewritten-url-parts"),
        pytest.param("auth S3CRETtoken / s3crettoken", token_url(80), "auth *** / ***",
                     id="password-any-case"),
        pytest.param("bot 123456789:AAHdefGHI", "tgram://123456789:AAHdefGHI/chat", "bot ***:***",
                     id="telegram-token"),
        pytest.param("ch a%2Fb%20cdef", "json://h.example/x?k=a/b%20cdef", "ch ***",
                     id="percent-encoded"),
        pytest.param("the hook failed", token_url(80), "the hook failed", id="short-words-kept"),
    ],
)
def test_redact_urls(text: str, url: str, expected: str) -> None:
    assert redact_urls(text, [url]) == expected


def test_render_says_what_happened_and_what_next() -> None:
    n = render("handoff", run_id="R9", outcome="failed-code", reasons=["wrapper exit 2", "no report"],
               streak="MO-2: 0/3", commit=SHA, next_step="reports/handoff/R9.md")
    assert n.event == "handoff" and n.key == SHA
    assert n.title == "evidencebot handoff: run R9 failed-code"
    assert n.body.splitlines() == [
        "The run needs a human: a handoff packet was written.",
        "",
        "Run: R9",
        "Outcome: failed-code",
        "Reasons:",
        "- wrapper exit 2",
        "- no report",
        "Streak: MO-2: 0/3",
        "Commit: 681d93e40d12",
        "Next step: reports/handoff/R9.md",
    ]


def test_render_refuses_an_unknown_event_and_refused_is_off_by_default() -> None:
    with pytest.raises(ValueError, match="unknown notification event"):
        render("exploded", run_id="R", outcome="x", reasons=[], streak="", commit=SHA,
               next_step="")
    assert set(EVENTS) - set(DEFAULT_ON) == {"refused"}
    assert all(render(e, run_id="R", outcome="o", reasons=[], streak="MO-2: 1/3", commit=SHA,
                      next_step="n").event == e for e in EVENTS)


def test_receiver_waits_without_sleeping_and_closes_its_port() -> None:
    before = threading.active_count()
    with receiver() as r:
        assert not r.wait_for(1, timeout=0.05)
        port = r.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
        pass
    assert threading.active_count() == before
    with pytest.raises(ValueError, match="mode must be one of"):
        with receiver(mode="sometimes"):
            pass


def test_an_attempt_that_ended_after_the_deadline_had_no_answer_in_time() -> None:
    """The socket of a hanging server gives up at about the deadline too: whichever thread
    the machine runs first, the delivery says the same (this was a race under load)."""
    from evidencebot.runbook.notify import _Attempt

    late = _Attempt("json://127.0.0.1:9/", ok=False, error="A Connection error occurred",
                    finished=10.5)
    late.done.set()
    assert late.delivery(1.0, deadline=10.0).error.startswith("no answer within 1 s")
    on_time = _Attempt("json://127.0.0.1:9/", ok=False, error="refused", finished=9.5)
    on_time.done.set()
    assert on_time.delivery(1.0, deadline=10.0).error == "refused"
