"""Closing a milestone end to end: the closure commit, the push, the merge request; and
keeping the ops branch pushed with closures replayable after a lost push race."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from .. import git
from ..errors import GitError, UsageError
from ..evidence.history import OpsCommit
from ..ledger.commit import Draft
from ..ledger.push import PushResult, push_ops
from ..ledger.remote import remote_url
from ..ledger.workspace import Context
from . import providers
from .closure import Closure, close, closure_draft
from .describe import describe, title_for


def _describer(ctx: Context):  # type: ignore[no-untyped-def]
    return lambda s, closed_at, tip: describe(ctx, s, closed_at, tip)


def push_evidence(ctx: Context, *, options: Sequence[str] = ()) -> PushResult:
    """Push the ops branch (rebuilding on a newer remote tip, closures included)."""
    def replay(c: OpsCommit, parent: str) -> Draft:
        return closure_draft(ctx, c.trailers["Milestone"], parent=parent,
                             describe=_describer(ctx))

    return push_ops(ctx, options=options, replay_closure=replay)


def close_and_publish(ctx: Context, mo: str, *, push: bool,
                      env: Mapping[str, str] | None = None
                      ) -> tuple[Closure, providers.MergeRequest]:
    """The closure commit (or the existing one) and its merge request."""
    closure = close(ctx, mo, describe=_describer(ctx))
    before = ctx.tip().sha
    try:
        mr = publish(ctx, mo, closure.description, closure.description_path, push=push,
                     env=os.environ if env is None else env)
        if ctx.tip().sha != before:  # (a push that lost a race rebuilt the closure)
            closure = _as_pushed(ctx, closure)
    except (UsageError, GitError) as e:  # (found by a newcomer: git's error alone, as if
        ops = ctx.cfg.ops  # nothing had been written)
        raise UsageError(f"{e} (the closure stands in {(closure.sha or ctx.tip().sha)[:12]} "
                         f"on {ops.branch}, on this machine: not pushed)", fix=(
                             e.fix if isinstance(e, UsageError) and e.fix else "mend it") +
                         f", then `evidencebot close {mo}` again (it pushes what stands) or "
                         f"`git push {ops.remote} {ops.branch}`") from None
    return closure, mr


def _as_pushed(ctx: Context, closure: Closure) -> Closure:
    """``closure`` as the ops branch holds it once pushed: rebuilt on the remote's newer
    runs after a lost push race, it is another commit, maybe on other runs (newcomer 14:
    `close` named a commit on no branch and the runs it no longer closed on)."""
    from ..evidence.streak import named_runs

    tip = ctx.tip().sha
    now = ctx.streak(tip, closure.milestone).closed_by
    if now is None or now.sha == closure.sha:
        return closure
    text = git.show_bytes(ctx.repo, tip, closure.description_path) or b""
    return Closure(closure.status, closure.milestone, now.sha, named_runs(now),
                   closure.description_path, text.decode("utf-8", "replace"))


def _push_keeping(ctx: Context, body: Path, description_path: str,
                  options: Sequence[str] = ()) -> PushResult:
    """`push_evidence`, and ``body`` (the description `gh --body-file` posts) rewritten as
    the pushed branch holds it when the push rebuilt the closure on the remote's runs."""
    before = ctx.tip().sha
    result = push_evidence(ctx, options=options)
    tip = ctx.tip().sha
    if tip != before:
        body.write_bytes(git.show_bytes(ctx.repo, tip, description_path) or b"")
    return result


def publish(ctx: Context, mo: str, description: str, description_path: str, *, push: bool,
            env: Mapping[str, str]) -> providers.MergeRequest:
    """Push the ops branch and open (or say how to open) the merge request; its
    description, written under .git/evidencebot/ for `gh --body-file`, is the one the
    pushed branch holds (a push that lost a race rebuilt the closure on other runs)."""
    ops = ctx.cfg.ops
    url = remote_url(ctx.repo, ops.remote)
    provider = providers.resolve_provider(ops.provider, url)
    body = git.state_path(ctx.repo, f"{mo}-merge-request.md")
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text(description, encoding="utf-8")
    send = partial(_push_keeping, ctx, body, description_path)
    title = title_for(mo)
    if provider == "none" or not push or not url:
        commands = providers.manual_commands(remote=ops.remote, url=url,
                                             branch=ops.branch, base=ops.base, title=title,
                                             body_file=body, description_path=description_path,
                                             provider=provider)
        if not (push and url):
            return providers.MergeRequest("none", "written", None, "not pushed", commands, body)
        # (a remote of no host evidencebot knows, a self-hosted GitLab say: the closure is
        # pushed as `run` pushes, and the request is the operator's to open; found by a
        # newcomer, to whom `close` said nothing of a push it never made)
        result = send()
        return providers.MergeRequest("none", "written", None, result.status, commands[1:],
                                      body, note=f"{ops.branch} pushed to {ops.remote} "
                                      f"({result.status}); the merge request was not opened "
                                      "([ops] provider = \"gitlab\" or \"github\" opens it)")
    if provider == "gitlab":
        options = providers.gitlab_options(base=ops.base, title=title,
                                           description_path=description_path,
                                           branch=ops.branch)
        result = send(options)
        web = None
        token = env.get(ops.gitlab_token_env, "")
        if token and ops.gitlab_api:
            web = providers.gitlab_set_description(api=ops.gitlab_api, token=token, url=url,
                                                   branch=ops.branch, title=title,
                                                   description=body.read_text("utf-8"))
        action = "updated" if result.status == "up-to-date" else "created or updated"
        return providers.MergeRequest("gitlab", action, web, result.status, [], body)
    result = send()
    missing = providers.missing_tool(provider)
    if missing is None:
        try:
            mr = providers.github(ctx.repo, branch=ops.branch, base=ops.base, title=title,
                                  body_file=body)
            return providers.MergeRequest(mr.provider, mr.action, mr.url, result.status, [],
                                          body)
        except UsageError as e:  # (gh failed or hung: as when it is missing, the closure
            missing = (f"{e}; once `{e.fix or 'gh auth status'}` is right, "
                       f"`evidencebot close {mo}` opens it")
    return providers.MergeRequest(  # is made and pushed, and only the request is left)
        "github", "written", None, result.status,
        providers.manual_commands(remote=ops.remote, url=url, branch=ops.branch,
                                  base=ops.base, title=title, body_file=body,
                                  description_path=description_path,
                                  provider=provider)[1:],
        body, note=f"{missing}: the merge request was not opened")
