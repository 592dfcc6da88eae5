"""Notifications through apprise: one library that speaks Slack, Teams, email, ntfy,
Telegram, generic JSON/form webhooks and 100+ more services, each configured by one URL.

The URLs carry tokens, so none is ever shown whole: deliveries report a safe form
(``json://127.0.0.1:8080/…``), errors are redacted, and apprise's own logging from the
sending threads is kept for the delivery's error instead of reaching any handler.
Sending never raises and never waits much longer than its ``timeout``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

from ..frozen import frozen

EVENTS = ("failed", "handoff", "refused", "non-qualifying", "retry-due", "closed")
DEFAULT_ON = tuple(e for e in EVENTS if e != "refused")
ENV_URLS = "EVIDENCEBOT_NOTIFY_URLS"
TEST_TITLE = "evidencebot test notification"

MIN_PART = 5  # path segments, query values, token hosts: shorter ones are words, not secrets
MIN_CREDENTIAL = 3  # userinfo and passwords
MASK = "***"
# Loggers whose records, when emitted by a sending thread, are kept instead of handled:
# apprise and the HTTP/XMPP/MQTT stacks its plugins use all put URLs in their messages.
QUIET_LOGGERS = ("apprise", "urllib3", "requests", "requests_oauthlib", "oauthlib",
                 "slixmpp", "paho")

WHAT_HAPPENED = {
    "failed": "The run failed; the failure is recorded.",
    "handoff": "The run needs a human: a handoff packet was written.",
    "refused": "The run was refused before it started.",
    "non-qualifying": "The run completed but does not qualify.",
    "retry-due": "A retry of the failed run is due.",
    "closed": "The streak is met: the milestone closure is ready for review.",
}


@frozen
class Notice:
    """What one notification says."""

    event: str
    key: str  # the ops commit sha it reports
    title: str
    body: str


@frozen
class Delivery:
    """How sending one notice to one URL went."""

    url: str  # safe form only
    ok: bool
    error: str  # redacted; "" when ok


def urls_from(configured: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The configured URLs, then those in ``$EVIDENCEBOT_NOTIFY_URLS`` (whitespace-separated),
    blanks dropped, each once, first occurrence's order kept."""
    found = [u.strip() for u in configured] + env.get(ENV_URLS, "").split()
    return list(dict.fromkeys(u for u in found if u))


# -- redaction ---------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_NAMED_HOST = re.compile(r"localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@frozen
class _Parts:
    scheme: str
    userinfo: str
    host: str
    port: str
    tail: str  # path, query and fragment


def _split(url: str) -> _Parts | None:
    # By hand, not urlsplit: apprise URLs put tokens where a port goes (tgram://123:ABC/).
    m = _SCHEME.fullmatch(url.strip())
    if m is None:
        return None
    scheme, rest = m.groups()
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("[") and "]" in hostport:
        end = hostport.index("]") + 1
        host, port = hostport[:end], hostport[end:].removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    return _Parts(scheme, userinfo, host, port, tail)


def _host_is_name(host: str) -> bool:
    # A dotted name, an IP or localhost; anything else (slack://T1JJ3T3L2/…) is a token.
    return _NAMED_HOST.fullmatch(host) is not None


def safe_url(url: str) -> str:
    """``scheme://host[:port]/…``: what can be shown of ``url``. The host is kept only when it
    is a name or an address (services that put a token there get ``***``); credentials,
    path, query and fragment never appear. Text that is not a URL becomes ``(not a URL)``."""
    parts = _split(url)
    if parts is None:
        return "(not a URL)"
    host = parts.host if not parts.host or _host_is_name(parts.host) else MASK
    port = f":{parts.port}" if parts.port.isdigit() else ""
    return f"{parts.scheme.lower()}://{host}{port}/…"


def _secret_parts(url: str) -> list[str]:
    parts = _split(url)
    if parts is None:
        return [url.strip()]
    credentials = [parts.userinfo, *parts.userinfo.split(":", 1)] if parts.userinfo else []
    path, _, fragment = parts.tail.partition("#")
    path, _, query = path.partition("?")
    others = [*path.split("/"), *(v for _, v in parse_qsl(query, keep_blank_values=True)),
              *re.split(r"[/#]", fragment)]
    if not _host_is_name(parts.host):
        others.append(parts.host)
    if parts.port and not parts.port.isdigit():
        others.append(parts.port)
    return ([c for c in credentials if len(c) >= MIN_CREDENTIAL]
            + [o for o in others if len(o) >= MIN_PART])


def _spellings(text: str) -> set[str]:
    # As written, decoded, and re-encoded: logs show whichever form the library holds.
    plain = unquote(text)
    return {text, plain, unquote_plus(text), quote(plain, safe=""), quote(plain, safe="/")}


def redact_urls(text: str, urls: Sequence[str]) -> str:
    """``text`` with every occurrence of each URL replaced by its safe form, and then every
    secret part of it — userinfo, password, a token host, and each path segment, query value
    and fragment part of five or more characters — replaced by ``***``, in any of its
    percent-encodings and in any letter case."""
    whole = {s: safe_url(u) for u in urls for s in _spellings(u.strip()) if s}
    for spelling in sorted(whole, key=len, reverse=True):
        text = text.replace(spelling, whole[spelling])
    secrets = {s for u in urls for p in _secret_parts(u) for s in _spellings(p)}
    secrets = {s for s in secrets if len(s) >= MIN_CREDENTIAL}
    if not secrets:
        return text
    pattern = "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))
    return re.sub(pattern, MASK, text, flags=re.IGNORECASE)


# -- rendering ---------------------------------------------------------------------------


def render(event: str, *, run_id: str, outcome: str, reasons: Sequence[str], streak: str,
           commit: str, next_step: str) -> Notice:
    """The notice for ``event`` (one of EVENTS; ValueError otherwise). The title names the
    event, the run and its outcome; the body says what happened, then the run id, outcome,
    reasons, streak (``MO-2: 2/3``), the commit (12 characters) and the next step (a handoff
    packet path, a retry time, the merge request). ``key`` is the full commit sha."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; known: {', '.join(EVENTS)}")
    title = f"evidencebot {event}: run {run_id} {outcome}"
    lines = [WHAT_HAPPENED[event], "", f"Run: {run_id}", f"Outcome: {outcome}"]
    lines += ["Reasons:", *(f"- {r}" for r in reasons)] if reasons else ["Reasons: none given"]
    lines += [f"Streak: {streak}", f"Commit: {commit[:12]}", f"Next step: {next_step}"]
    return Notice(event=event, key=commit, title=title, body="\n".join(lines))


# -- sending -----------------------------------------------------------------------------


class _Silencer(logging.Filter):
    """Keeps the records that sending threads emit, so they reach no handler (stderr,
    caplog, a log file): apprise and urllib3 log URLs, tokens included. Records from any
    other thread pass untouched."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._kept: dict[int, list[tuple[int, str]]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            kept = self._kept.get(threading.get_ident())
        if kept is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in a library must not break sending
            message = str(record.msg)
        kept.append((record.levelno, message))
        return False

    @contextmanager
    def keeping(self) -> Iterator[list[tuple[int, str]]]:
        """While inside, this thread's records go to the yielded list instead."""
        kept: list[tuple[int, str]] = []
        ident = threading.get_ident()
        with self._lock:
            self._kept[ident] = kept
        try:
            yield kept
        finally:
            with self._lock:
                del self._kept[ident]

    def attach(self) -> None:
        """Put this filter on QUIET_LOGGERS and on their descendants that exist now
        (idempotent; a logger's filter sees only records made at that logger, so each child
        needs it too)."""
        existing = [n for n in list(logging.root.manager.loggerDict)
                    if n.split(".")[0] in QUIET_LOGGERS]
        for name in {*QUIET_LOGGERS, *existing}:
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)


_SILENCER = _Silencer()


@dataclass
class _Attempt:
    """One URL being sent to in its own daemon thread; written by that thread only, read
    after ``done`` is set."""

    url: str
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    error: str = ""
    log: list[tuple[int, str]] = field(default_factory=list)
    finished: float = 0.0  # time.monotonic() when it ended

    def run(self, apprise: Any, notice: Notice, timeout: float) -> None:
        with _SILENCER.keeping() as log:
            try:
                plugin = apprise.Apprise.instantiate(self.url)
                _SILENCER.attach()  # the first instantiate imports the plugins' HTTP stack
                if plugin is None:
                    self.error = "apprise cannot use this URL"
                else:
                    _bound_sockets(plugin, timeout)
                    self.ok = bool(plugin.notify(body=notice.body, title=notice.title))
            except Exception as exc:  # a plugin's bug is a failed delivery, not a crash
                self.error = f"{type(exc).__name__}: {exc}"
            finally:
                self.log = list(log)
                self.finished = time.monotonic()
                self.done.set()

    def delivery(self, timeout: float, deadline: float) -> Delivery:
        """The outcome as seen now. A thread still running, or one that ended after the
        deadline (its socket gave up as we did), had no answer in time: the same words
        however the two threads were scheduled."""
        safe = safe_url(self.url)
        if not self.done.is_set() or self.finished > deadline:
            return Delivery(safe, False, f"no answer within {timeout:g} s (gave up waiting)")
        if self.ok:
            return Delivery(safe, True, "")
        said = "; ".join(dict.fromkeys(m for level, m in self.log if level >= logging.WARNING))
        error = ": ".join(e for e in (self.error, said) if e) or "apprise reported a failure"
        return Delivery(safe, False, redact_urls(error, [self.url]))


def _bound_sockets(plugin: Any, timeout: float) -> None:
    # The same fields apprise's ?cto=&rto= URL parameters set, set on the instance rather
    # than by rewriting a URL that carries secrets; a smaller value in the URL is kept.
    args = getattr(plugin, "template_args", {})
    for param, attr in (("cto", "socket_connect_timeout"), ("rto", "socket_read_timeout")):
        current = getattr(plugin, attr, None)
        if param in args and isinstance(current, int | float):
            setattr(plugin, attr, min(float(current), timeout))


def send(notice: Notice, urls: Sequence[str], *, timeout: float = 10.0) -> list[Delivery]:
    """Send ``notice`` to each URL through apprise, all at once, and return one Delivery per
    URL in the same order. Never raises; returns within about ``timeout`` seconds even when a
    server takes the connection and never answers (that URL's Delivery says so). Delivery
    URLs are safe forms and errors are redacted; apprise logs nothing a handler sees."""
    deadline = time.monotonic() + timeout
    try:
        import apprise  # here, not at the top: it costs start-up time every command would pay
    except ImportError:
        return [Delivery(safe_url(u), False, "apprise is not installed") for u in urls]
    _SILENCER.attach()
    socket_timeout = max(timeout, 0.001)
    attempts = [_Attempt(url) for url in urls]
    for n, attempt in enumerate(attempts):
        # Daemon: a thread stuck past the deadline must not keep the process alive.
        threading.Thread(target=attempt.run, args=(apprise, notice, socket_timeout),
                         name=f"evidencebot-notify-{n}", daemon=True).start()
    for attempt in attempts:
        attempt.done.wait(max(0.0, deadline - time.monotonic()))
    return [attempt.delivery(timeout, deadline) for attempt in attempts]


def unusable(urls: Sequence[str]) -> list[str]:
    """The safe forms of the URLs apprise cannot use (no service it knows reads them):
    a mistake in the configuration, not a failed delivery. Nothing is sent."""
    try:
        import apprise
    except ImportError:
        return []  # (`send` says so for each URL)
    _SILENCER.attach()
    with _SILENCER.keeping():
        return [safe_url(u) for u in urls if apprise.Apprise.instantiate(u) is None]


def unusable_said(urls: Sequence[str]) -> tuple[str, str] | None:
    """What `notify --test` and the dry run say of the URLs apprise cannot use (`unusable`):
    (what, fix), or None when it reads them all."""
    wrong = unusable(urls)
    if not wrong:
        return None
    return (f"no apprise service here can use the notification URL {wrong[0]}"
            + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""),
            "check its scheme and form against apprise's list of services "
            "(https://github.com/caronc/apprise/wiki), and install the Python package its "
            "service needs, if it names one (mqtt://: paho-mqtt)")


def send_test(urls: Sequence[str], *, timeout: float = 10.0) -> list[Delivery]:
    """``evidencebot notify --test``: a notice that says only that the channel works."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    notice = Notice(event="test", key="", title=TEST_TITLE,
                    body=f"evidencebot can reach this channel ({now}). Nothing to do.")
    return send(notice, urls, timeout=timeout)
