"""`notify --test`, and what `run` and `close` print about the notifications they send: one
line when they went out, one warning line per URL that failed (its safe form only)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from ..errors import UsageError
from ..textsafe import line
from .app import State, cli, json_option, pass_state


def tell(ctx: Any, *, say: Callable[[str], None], since: str | None = None,
         closure: str | None = None, retry: Any = None, merge_request: str | None = None
         ) -> None:
    """Notify about the ops commits added since the tip was ``since``, or about the
    ``closure`` commit. A failure costs one warning line on stderr per URL; the evidence is
    committed either way, so nothing here fails the command."""
    from ..git import GitError
    from ..runbook.notifying import notify_commit, notify_since

    try:
        if since is not None:
            sent = notify_since(ctx, since, env=os.environ, retry=retry)
        elif closure is not None:
            sent = notify_commit(ctx, closure, env=os.environ, merge_request=merge_request)
        else:
            return
    except GitError as e:
        click.echo(f"evidencebot: warning: no notification sent: {line(str(e))}", err=True)
        return
    for f in sent.failures:
        click.echo(f"evidencebot: warning: notification ({', '.join(f.events)}) to {f.url} "
                   f"failed: {line(f.error)}; the evidence is committed", err=True)
    reached = sent.urls - len(sent.failures)
    if sent.events and reached:
        say(f"notified: {', '.join(sent.events)} ({reached} of {sent.urls} URL(s))")


def merge_request_step(mr: Any) -> str:
    """What a reviewer does next, for the `closed` notice."""
    if mr.url:
        return f"review and merge {mr.url} (merge, do not squash)"
    if mr.commands:
        return f"open the merge request: {mr.commands[0]}"
    return f"review the merge request ({mr.provider}); merge, do not squash"


@cli.command()
@click.option("--test", "test", is_flag=True,
              help="Send a test notification to every configured URL and report each.")
@json_option
@pass_state
def notify(state: State, test: bool) -> int:
    """Notifications through apprise: `--test` sends a test message to every URL in
    [notify] urls and $EVIDENCEBOT_NOTIFY_URLS and reports each (URLs shown without their
    secrets). Exit 0 when every one arrived, 1 otherwise, 2 with no URL configured or one
    that no apprise service reads (then nothing is sent)."""
    from ..runbook.notify import send_test, unusable_said, urls_from

    if not test:
        raise UsageError("nothing to do: `evidencebot notify --test` sends a test notification")
    cfg = state.context().cfg.notify
    urls = urls_from(cfg.urls, os.environ)
    if not urls:
        raise UsageError("no notification URL: set [notify] urls, or EVIDENCEBOT_NOTIFY_URLS "
                         "in the environment for URLs that carry secrets")
    wrong = unusable_said(urls)
    if wrong is not None:
        raise UsageError(wrong[0], fix=wrong[1])
    deliveries = send_test(urls, timeout=cfg.timeout_seconds)
    ok = all(d.ok for d in deliveries)
    if state.as_json:
        from .contract import Delivery, NotifyOut

        state.emit(NotifyOut(ok=ok, deliveries=[Delivery(url=d.url, ok=d.ok, error=d.error)
                                                for d in deliveries]))
    else:
        for d in deliveries:
            click.echo(f"ok      {d.url}" if d.ok else f"FAILED  {d.url}: {line(d.error)}")
    return 0 if ok else 1
