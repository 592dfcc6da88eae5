"""Closing a milestone end to end: the description, the closure commit, the push and the
merge request; and keeping the ops branch pushed (rebuilt on a newer remote tip, never
force-pushed)."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from . import __version__, git, history, ledger, mergereq, milestone, recorder
from .errors import UsageError
from .recorder import Context, Judge
from .templating import render

MAX_PUSH_ATTEMPTS = 3


def title_for(mo: str) -> str:
    return f"Close {mo}: Step 1A burn-in streak met"


def describe(ctx: Context, s: milestone.Streak, closed_at: str) -> str:
    """The merge-request description (also committed as reports/evidence/milestones/MO-n.md)."""
    from .verify import verify

    runs = [{**milestone.run_view(r), "checks": _checks_of(ctx, r)} for r in s.evidence_runs]
    attempts = milestone.attempts_view(s)
    report = verify(ctx.repo, spec=None, base=ctx.cfg.ops.base, bot_author=ctx.cfg.ops.author,
                    end=ctx.tip().sha)
    checks = sorted({r["checks"] for r in runs if r["checks"]})
    chart = [{"run_id": a["run_id"], "filled": _int(r.get("filled")),
              "data_pct": round(float(r.get("data_ratio") or 0) * 100, 1)}
             for a in attempts for r in [_metrics(s, a["commit"])] if a["kind"] ==
             "step1a-burnin" and r]
    return render(
        "merge_request.md.j2", milestone=s.milestone, title=title_for(s.milestone),
        branch=ctx.cfg.ops.branch, base=ctx.cfg.ops.base, consecutive=s.needed,
        closed_at=closed_at, generated_by=f"evidencebot {__version__}", streak_runs=runs,
        attempts=attempts, chart_runs=chart, checks=checks or ["(recorded by hand)"],
        verify={"ok": report.ok, "summary": f"{report.commits} ops commit(s), "
                f"{len(report.runs)} run(s) checked"
                + ("" if report.ok else f", {len(report.findings)} violation(s)"),
                "violations": [f.render() for f in report.findings]},
        handoffs=[a["note"][8:] for a in attempts if a["note"].startswith("handoff ")],
        retries=[f"{a['run_id']}: {a['note'][6:]}" for a in attempts
                 if a["note"].startswith("retry ")])


def _metrics(s: milestone.Streak, sha: str) -> dict[str, str] | None:
    for c in s.attempts:
        if c.sha == sha and c.trailers.get("Burnin-Filled-Orders"):
            return milestone.run_view(c)
    return None


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _checks_of(ctx: Context, c: history.OpsCommit) -> str:
    path = c.trailers.get("Evidence-Record", "")
    data = git.show_bytes(ctx.repo, c.sha, path) if path else None
    try:
        return str(json.loads(data or b"{}").get("session", {}).get("checks") or "")
    except ValueError:
        return ""


def close_and_publish(state: Any, ctx: Context, mo: str, *, push: bool, judge: Judge | None,
                      automatic: bool = False) -> int:
    closure = milestone.close(ctx, mo, judge=judge,
                              describe=lambda s, at: describe(ctx, s, at))
    if closure.status == "already-closed":
        if not state.as_json:
            click.echo(f"{mo} is already closed (commit {(closure.sha or '')[:12]}); "
                       "nothing added")
    elif not state.as_json:
        lead = "the streak is met: " if automatic else ""
        click.echo(f"{lead}{mo} closed in {(closure.sha or '')[:12]} on runs "
                   f"{', '.join(closure.runs)}")
    mr = publish(ctx, mo, closure.description, closure.description_path, push=push,
                 judge=judge)
    if state.as_json:
        state.emit({**closure.to_json(), "merge_request": {
            "provider": mr.provider, "action": mr.action, "url": mr.url, "push": mr.push,
            "commands": mr.commands,
            "description_file": str(mr.description_file) if mr.description_file else None}})
    else:
        _print_mr(mr)
    return 0


def _print_mr(mr: mergereq.MergeRequest) -> None:
    if mr.action == "written":
        click.echo(f"merge request description written to {mr.description_file}")
        click.echo("open the merge request with:")
        for cmd in mr.commands:
            click.echo(f"  {cmd}")
    else:
        click.echo(f"merge request {mr.action} ({mr.provider})" + (f": {mr.url}" if mr.url
                                                                  else ""))


def publish(ctx: Context, mo: str, description: str, description_path: str, *, push: bool,
            judge: Judge | None) -> mergereq.MergeRequest:
    ops = ctx.cfg.ops
    url = mergereq.remote_url(ctx.repo, ops.remote)
    provider = mergereq.resolve_provider(ops.provider, url)
    state_dir = git.common_dir(ctx.repo) / "evidencebot"
    state_dir.mkdir(parents=True, exist_ok=True)
    body = state_dir / f"{mo}-merge-request.md"
    body.write_text(description, encoding="utf-8")
    title = title_for(mo)
    if provider == "none" or not push or not url:
        return mergereq.MergeRequest(
            "none", "written", None, "not pushed",
            mergereq.manual_commands(remote=ops.remote if url else None, url=url,
                                     branch=ops.branch, base=ops.base, title=title,
                                     body_file=body, description_path=description_path),
            body)
    if provider == "gitlab":
        options = mergereq.gitlab_options(base=ops.base, title=title,
                                          description_path=description_path, branch=ops.branch)
        result = push_ops(ctx, options=options, judge=judge)
        web = None
        token = os.environ.get(ops.gitlab_token_env, "")
        if token and ops.gitlab_api:
            web = mergereq.gitlab_set_description(api=ops.gitlab_api, token=token, url=url,
                                                  branch=ops.branch, title=title,
                                                  description=description)
        action = "updated" if result.status == "up-to-date" else "created or updated"
        return mergereq.MergeRequest("gitlab", action, web, result.status, [], body)
    result = push_ops(ctx, options=(), judge=judge)
    mr = mergereq.github(ctx.repo, branch=ops.branch, base=ops.base, title=title,
                         body_file=body)
    return mergereq.MergeRequest(mr.provider, mr.action, mr.url, result.status, [], body)


def push_ops(ctx: Context, *, options: Any, judge: Judge | None) -> mergereq.PushResult:
    """Push the ops branch; on a non-fast-forward, rebuild our commits on the remote's tip
    (re-rendering rows and entries from the records) and push again. Never a force push."""
    ops = ctx.cfg.ops
    result = mergereq.PushResult("not pushed")
    for _ in range(MAX_PUSH_ATTEMPTS):
        result = mergereq.push_branch(ctx.repo, remote=ops.remote, branch=ops.branch,
                                      push_options=options)
        if result.status != "rejected-non-fast-forward":
            return result
        remote_tip = mergereq.fetch_branch(ctx.repo, remote=ops.remote, branch=ops.branch)
        if remote_tip is None:
            raise UsageError(f"{ops.remote} refused {ops.branch} but has no such branch")
        rebuild_onto(ctx, remote_tip, judge=judge)
    raise UsageError(f"{ops.remote} kept moving; {ops.branch} was not pushed "
                     f"after {MAX_PUSH_ATTEMPTS} attempts")


def rebuild_onto(ctx: Context, remote_tip: str, *, judge: Judge | None) -> None:
    """Replay the local ops commits missing from ``remote_tip`` on top of it."""
    ops = ctx.cfg.ops
    local = ctx.tip().sha
    mine = list(reversed(history.read(ctx.repo, f"{remote_tip}..{local}",
                                      bot_author=ops.author)))
    ledger.move(ctx.repo, branch=ops.branch, old=local, new=remote_tip)
    for c in mine:
        _replay(ctx, c, judge)


def _replay(ctx: Context, c: history.OpsCommit, judge: Judge | None) -> None:
    if c.is_run:
        path = c.trailers["Evidence-Record"]
        record = json.loads(git.show_bytes(ctx.repo, c.sha, path) or b"{}")
        log_path = (record.get("session") or {}).get("log")
        log = git.show_bytes(ctx.repo, c.sha, log_path) if log_path else None
        handoff_path = c.trailers.get("Handoff")
        handoff = ((handoff_path, git.show_bytes(ctx.repo, c.sha, handoff_path) or b"")
                   if handoff_path else None)
        recorder.commit_run(ctx, record, log=log, judge=judge, handoff=handoff)
    elif c.kind == "milestone":
        milestone.close(ctx, c.trailers["Milestone"], judge=judge,
                        describe=lambda s, at: describe(ctx, s, at))
    else:  # a check: its new files and its session-log entry, appended again
        _replay_generic(ctx, c, judge)


def _replay_generic(ctx: Context, c: history.OpsCommit, judge: Judge | None) -> None:
    parent = c.parents[0]
    names = git.out(ctx.repo, "diff-tree", "-r", "--name-only", "--no-commit-id", parent,
                    c.sha).split("\n")
    at = ctx.tip()
    changes: dict[str, bytes] = {}
    log_name = ctx.cfg.docs.session_log
    for name in filter(None, names):
        new = git.show_bytes(ctx.repo, c.sha, name) or b""
        if name == log_name:
            old = git.show_bytes(ctx.repo, parent, name) or b""
            current = git.show_bytes(ctx.repo, at.sha, name) or b""
            from . import mdedit

            changes[name] = mdedit.append_entry(current, new[len(old):].decode("utf-8"))
        else:
            changes[name] = new
    message = git.out(ctx.repo, "log", "-1", "--format=%B", c.sha) + "\n"
    ledger.commit(ctx.repo, at=at, changes=changes, message=message, author=ctx.author,
                  when=ctx.now, judge=(lambda o, n: judge(ctx, o, n)) if judge else None)
