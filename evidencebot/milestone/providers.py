"""Opening (or updating) the merge request that closes a milestone: GitLab push options
and REST API, the GitHub CLI, or the commands for a human. One merge request per
milestone, updated in place."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..frozen import field, frozen

if TYPE_CHECKING:
    from ..ledger.workspace import Context
    from ..runbook.checks import CheckResult


@frozen
class MergeRequest:
    provider: str
    action: str  # created | updated | written
    url: str | None = None
    push: str = ""
    commands: list[str] = field(default_factory=list)
    description_file: Path | None = None
    note: str = ""  # why the merge request was left to a human (written)


def missing_tool(provider: str) -> str | None:
    """What the provider needs on this machine and does not find (GitHub: its `gh`)."""
    import shutil

    if provider == "github" and shutil.which("gh") is None:
        return "the GitHub CLI `gh` is not installed (or not on PATH)"
    return None


def provider_check(ctx: Context) -> list[CheckResult]:
    """`run --dry-run`'s WARN when the run that completes the streak would close the
    milestone ([milestone.MO-n] auto_close) and the provider's tool is missing: the
    closure would be made and pushed, the merge request left to a human."""
    from ..ledger.remote import remote_url
    from ..runbook.checks import CheckResult

    rule = ctx.rules.milestone.get(ctx.milestone)
    url = remote_url(ctx.repo, ctx.cfg.ops.remote)
    missing = missing_tool(resolve_provider(ctx.cfg.ops.provider, url)) if url else None
    if rule is None or not rule.auto_close or missing is None:
        return []
    return [CheckResult("merge request", "WARN", f"{missing}: a run that completes the "
                        f"streak closes {ctx.milestone} and pushes it, and leaves the merge "
                        "request to you", "install gh (https://cli.github.com) and "
                        "`gh auth login`, or set [ops] provider = \"none\"")]


def resolve_provider(configured: str, url: str | None) -> str:
    """auto: GitHub or GitLab by the remote's URL; no remote (or another host): none."""
    if configured != "auto":
        return configured
    if not url:
        return "none"
    low = url.lower()
    return "github" if "github" in low else "gitlab" if "gitlab" in low else "none"


def gitlab_options(*, base: str, title: str, description_path: str, branch: str) -> list[str]:
    pointer = (f"Full description: {description_path} on branch {branch} (rendered with its "
               "Mermaid chart). Merge with a merge commit; do not squash.")
    return ["merge_request.create", f"merge_request.target={base}",
            f"merge_request.title={title}", f"merge_request.description={pointer}"]


def gitlab_set_description(*, api: str, token: str, url: str, branch: str, title: str,
                           description: str) -> str | None:
    """Set the full description through the REST API; returns the MR's web URL."""
    project = urllib.parse.quote(_project_path(url), safe="")
    base = f"{api.rstrip('/')}/projects/{project}/merge_requests"
    query = urllib.parse.urlencode({"source_branch": branch, "state": "opened"})
    found = _api(f"{base}?{query}", token)
    if isinstance(found, list) and not found:
        raise UsageError(f"GitLab has no open merge request from {branch} (the push made one?)")
    iid = _first(found, "iid", f"GitLab's list of merge requests from {branch}")
    body = json.dumps({"title": title, "description": description}).encode()
    updated = _api(f"{base}/{iid}", token, method="PUT", body=body)
    return web_url(updated.get("web_url") if isinstance(updated, dict) else None)


def web_url(said: object) -> str | None:
    """A merge request's address as a host answered it, when it is one: an http(s) URL of
    printable characters and no spaces, else None (adversary 44b: a `gh` answering with a
    terminal escape had it printed by `close`)."""
    if not isinstance(said, str):
        return None
    said = said.strip()
    ok = said.startswith(("https://", "http://")) and said.isprintable() and \
        not any(ch.isspace() for ch in said)
    return said if ok else None


def _first(found: object, key: str, what: str) -> object:
    """``key`` of the first item of ``found`` (a JSON list of objects, as the host
    answers), or one line saying the answer was not of that shape: the branch was
    pushed, and the merge request is a step left to a human."""
    item = found[0] if isinstance(found, list) and found else None
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise UsageError(f"{what} is not a list of objects with {key!r}; the branch was "
                         "pushed: open or update the merge request by hand")
    return value


def _project_path(url: str) -> str:
    path = url.split(":", 1)[1] if url.startswith("git@") else urllib.parse.urlparse(url).path
    return path.strip("/").removesuffix(".git")


def _api(url: str, token: str, *, method: str = "GET", body: bytes | None = None) -> object:
    req = urllib.request.Request(url, data=body, method=method, headers={
        "PRIVATE-TOKEN": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (configured URL)
            return json.loads(resp.read().decode("utf-8") or "null")
    except (OSError, ValueError) as e:
        raise UsageError(f"GitLab API {method} {url} failed ({e}); the branch was pushed, "
                         "set the description by hand") from None


GH_TIMEOUT_SECONDS = 60  # what one `gh` call may take (it asks nothing: stdin is closed)


def github(repo: Path, *, branch: str, base: str, title: str, body_file: Path,
           env: Mapping[str, str] | None = None) -> MergeRequest:
    """`gh pr create`, or `gh pr edit` when a pull request from the branch is open."""
    def gh(*args: str) -> str:
        try:
            proc = subprocess.run(["gh", *args], cwd=repo, capture_output=True, text=True,
                                  encoding="utf-8", errors="replace",  # (a proxy's Latin-1)
                                  env=dict(env) if env is not None else None,
                                  timeout=GH_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise UsageError("the GitHub CLI `gh` is not installed; install it or set "
                             '[ops] provider = "none"') from None
        except subprocess.TimeoutExpired:
            raise UsageError(f"gh {args[0]} {args[1]} did not answer within "
                             f"{GH_TIMEOUT_SECONDS} s (a login prompt, or the network)",
                             fix="gh auth status") from None
        if proc.returncode != 0:
            said = " ".join(proc.stderr.split())[:200] or f"exit {proc.returncode}"
            raise UsageError(f"gh {args[0]} {args[1]} failed: {said}", fix="gh auth status")
        return proc.stdout

    listed = gh("pr", "list", "--head", branch, "--base", base, "--state", "open", "--json",
                "number,url")
    try:
        open_prs = json.loads(listed or "[]")
    except ValueError:
        open_prs = None  # (`_first` says so)
    if open_prs != []:
        number = str(_first(open_prs, "number", "`gh pr list --json number,url` output"))
        gh("pr", "edit", number, "--title", title, "--body-file", str(body_file))
        url = open_prs[0].get("url") if isinstance(open_prs, list) else None
        return MergeRequest("github", "updated", web_url(url))
    url = gh("pr", "create", "--base", base, "--head", branch, "--title", title,
             "--body-file", str(body_file))
    return MergeRequest("github", "created", web_url((url.strip().splitlines() or [""])[-1]))


def manual_commands(*, remote: str | None, url: str | None, branch: str, base: str, title: str,
                    body_file: Path, description_path: str, provider: str = "none") -> list[str]:
    """What a human runs when evidencebot does not talk to the host itself: for the
    ``provider`` the config names (or the remote's address shows), its commands only."""
    if not remote or not url:  # ([ops] remote's name: found by a newcomer, whose remote
        remote = remote or "origin"  # was `upstream`, told to add `origin`)
        return [f"git remote add {remote} <url of the trading repository> (or set [ops] "
                "remote to the name of the remote you push to)",
                f"git push {remote} {branch}",
                f"open a merge request {branch} → {base} titled {title!r} with the "
                f"description in {body_file}"]
    opts = " ".join(f'-o "{o}"' for o in gitlab_options(base=base, title=title,
                                                        description_path=description_path,
                                                        branch=branch))
    gitlab = f"GitLab: git push {opts} {remote} {branch}"
    github = (f'GitHub: gh pr create --base {base} --head {branch} --title "{title}" '
              f'--body-file "{body_file}"')
    if provider == "gitlab":
        return [gitlab]
    if provider == "github":
        return [f"git push {remote} {branch}", github]
    return [f"git push {remote} {branch}", gitlab, github]
