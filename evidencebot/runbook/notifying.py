"""Telling people about new evidence: which events an ops commit raises (`[notify] on`),
what each notice says, and sending them all through apprise within one timeout.

The key of a notification is the new ops commit it reports: `run` and `close` pass the
commits they added, so a rerun that adds nothing sends nothing. Sending never raises and
never costs more than `[notify] timeout_seconds`; failures come back for one warning line
each, with the URL in its safe form only."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .. import git
from ..evidence.history import OpsCommit
from ..evidence.stamps import stamp
from ..frozen import frozen
from ..ledger.workspace import Context
from ..redact import redact
from ..textsafe import line
from .notify import Delivery, Notice, render, safe_url, send, urls_from
from .unattended import PendingRetry

FAILED = ("failed-infra", "failed-market-data", "failed-code")


def new_commits(ctx: Context, since: str) -> list[OpsCommit]:
    """The ops commits on the ops branch that ``since`` (the tip before) does not hold,
    oldest first."""
    tip = ctx.tip().sha
    if tip == since:
        return []
    added = set(git.out(ctx.repo, "rev-list", f"{since}..{tip}").split())
    return [c for c in reversed(ctx.history(tip)) if c.sha in added]


def events_of(commit: OpsCommit, *, on: Sequence[str]) -> list[str]:
    """The events ``commit`` raises, among those switched ``on``. A code bug that left a
    handoff packet is a `handoff` (`failed` when handoffs are off): one notice, the most
    specific."""
    found: list[str] = []
    if commit.kind == "step1a-burnin":
        if commit.outcome == "failed-code" and commit.trailers.get("Handoff") and \
                "handoff" in on:
            found.append("handoff")
        elif commit.outcome in FAILED:
            found.append("failed")
        elif commit.outcome == "non-qualifying":
            found.append("non-qualifying")
    elif commit.kind == "check":
        found.append("refused")
    elif commit.kind == "milestone":
        found.append("closed")
    return [e for e in found if e in on]


def _record(ctx: Context, commit: OpsCommit) -> tuple[str, dict[str, Any]]:
    """The evidence file the commit added (a run's record, a refusal's checks): its path
    and its content."""
    path = commit.trailers.get("Evidence-Record", "")
    if not path and commit.kind == "check":
        names = git.out(ctx.repo, "diff-tree", "--no-commit-id", "--name-only", "-r",
                        "--root", commit.sha).splitlines()
        path = next((n for n in names if n.endswith(".json")), "")
    from ..evidence.history import committed_dict

    return path, committed_dict(git.show_bytes(ctx.repo, commit.sha, path) if path else None)


def _reasons(commit: OpsCommit, record: Mapping[str, Any]) -> list[str]:
    if commit.kind == "check":
        return [f"{c.get('name')}: {c.get('reason')}" for c in record.get("checks", [])
                if isinstance(c, dict) and c.get("status") == "FAIL"]
    verdict = record.get("verdict")
    if isinstance(verdict, dict) and verdict.get("reasons"):
        return [str(r) for r in verdict["reasons"]]
    failure = (record.get("session") or {}).get("failure")
    return [str(failure)] if failure else []


def _next_step(event: str, commit: OpsCommit, *, branch: str,
               merge_request: str | None) -> str:
    t = commit.trailers
    if event == "handoff":
        return f"DEBUG takes the handoff packet {t.get('Handoff')} (on {branch})"
    if event == "failed" and t.get("Retry-After"):
        return (f"a retry is scheduled after {t['Retry-After']} (a later window with market "
                "data); `evidencebot next` shows it")
    if event == "failed":
        return ("read the record and its log on " + branch + "; the next scheduled run "
                "tries again")
    if event == "refused":
        nxt = t.get("Check-Next-Window")
        return f"nothing was run; next window {nxt}" if nxt else \
            "nothing was run; fix the failing checks before the next scheduled run"
    if event == "non-qualifying":
        return "the streak starts again with the next qualifying run"
    return merge_request or f"review the merge request from {branch}; merge, do not squash"


def notices_for(ctx: Context, commit: OpsCommit, *, on: Sequence[str],
                retry: PendingRetry | None = None,
                merge_request: str | None = None) -> list[Notice]:
    """The notices ``commit`` raises, keyed by its sha. ``retry``: a market-data retry that
    was due when the session producing ``commit`` started (the `retry-due` event)."""
    events = events_of(commit, on=on)
    if retry is not None and "retry-due" in on and commit.kind in ("step1a-burnin", "check"):
        events.append("retry-due")
    if not events:
        return []
    path, record = _record(ctx, commit)
    s = ctx.streak(commit.sha)
    streak = f"{s.milestone}: {s.display}" + (" (CLOSED)" if s.closed_by else "")
    branch = ctx.cfg.ops.branch
    notices = []
    for event in events:
        run_id, outcome = commit.run_id or "(not run)", commit.outcome
        reasons = _reasons(commit, record)
        if commit.kind == "check":  # the session that was not run, named as its record
            run_id = path.rsplit("/", 1)[-1].removesuffix(".json") or run_id
            outcome = f"refused ({commit.trailers.get('Check-Failed', '')})"
        elif commit.kind == "milestone":
            runs = commit.trailers.get("Milestone-Evidence", "")
            run_id = runs.split(",")[-1].strip() or run_id
            outcome = f"{commit.trailers.get('Milestone', s.milestone)} CLOSED"
            reasons = [f"consecutive qualifying runs: {runs}"]
        if event == "retry-due" and retry is not None:
            this = f"run {commit.run_id} {commit.outcome}" if commit.is_run else \
                f"refused by the pre-run checks ({commit.trailers.get('Check-Failed', '')})"
            run_id, outcome = retry.run_id, "failed-market-data"
            reasons = [f"its retry was due at {stamp(retry.at)}"]
            step = f"this session was the retry: {this}"
        else:
            step = _next_step(event, commit, branch=branch, merge_request=merge_request)
        n = render(event, run_id=line(run_id), outcome=line(outcome),
                   reasons=[line(r) for r in reasons], streak=streak, commit=commit.sha,
                   next_step=line(step))
        notices.append(Notice(n.event, n.key, redact(n.title), redact(n.body)))
    return notices


@frozen
class Failure:
    url: str  # safe form
    events: tuple[str, ...]
    error: str  # redacted


@frozen
class Dispatch:
    """What sending came to: the events sent, to how many URLs, and each URL that failed."""

    events: tuple[str, ...]
    urls: int
    failures: tuple[Failure, ...]


def deliver(notices: Sequence[Notice], urls: Sequence[str], *,
            timeout: float) -> Dispatch:
    """Send every notice to every URL, all at once, in at most about ``timeout`` seconds;
    one Failure per URL that failed any notice."""
    if not notices or not urls:
        return Dispatch(tuple(n.event for n in notices) if urls else (), len(urls), ())
    results: list[list[Delivery] | None] = [None] * len(notices)

    def one(i: int) -> None:
        results[i] = send(notices[i], urls, timeout=timeout)

    deadline = time.monotonic() + timeout
    threads = [threading.Thread(target=one, args=(i,), daemon=True,
                                name=f"evidencebot-notice-{i}") for i in range(len(notices))]
    for t in threads:
        t.start()
    for t in threads:  # send() returns within about its timeout; a little slack for threads
        t.join(max(0.0, deadline - time.monotonic()) + 0.5)
    failures = []
    for u, url in enumerate(urls):
        bad = [(n.event, r[u].error if r is not None else f"no answer within {timeout:g} s")
               for n, r in zip(notices, results, strict=True) if r is None or not r[u].ok]
        if bad:
            failures.append(Failure(safe_url(url), tuple(e for e, _ in bad),
                                    "; ".join(dict.fromkeys(err for _, err in bad))))
    return Dispatch(tuple(n.event for n in notices), len(urls), tuple(failures))


def notify_commits(ctx: Context, commits: Sequence[OpsCommit], *, env: Mapping[str, str],
                   retry: PendingRetry | None = None,
                   merge_request: str | None = None) -> Dispatch:
    """Notify about ``commits`` (new ops commits, oldest first) as `[notify]` says;
    ``retry`` goes with the first of them."""
    cfg = ctx.cfg.notify
    urls = urls_from(cfg.urls, env)
    if not urls:
        return Dispatch((), 0, ())
    notices: list[Notice] = []
    for n, c in enumerate(commits):
        notices += notices_for(ctx, c, on=cfg.on, retry=retry if n == 0 else None,
                               merge_request=merge_request)
    return deliver(notices, urls, timeout=cfg.timeout_seconds)


def notify_since(ctx: Context, since: str, *, env: Mapping[str, str],
                 retry: PendingRetry | None = None) -> Dispatch:
    """Notify about the ops commits added since the tip was ``since`` (nothing is read
    from git when no URL is configured)."""
    if not urls_from(ctx.cfg.notify.urls, env):
        return Dispatch((), 0, ())
    return notify_commits(ctx, new_commits(ctx, since), env=env, retry=retry)


def notify_commit(ctx: Context, sha: str, *, env: Mapping[str, str],
                  merge_request: str | None = None) -> Dispatch:
    """Notify about the one ops commit ``sha`` (a closure)."""
    if not urls_from(ctx.cfg.notify.urls, env):
        return Dispatch((), 0, ())
    return notify_commits(ctx, ctx.history(sha)[:1], env=env, merge_request=merge_request)
