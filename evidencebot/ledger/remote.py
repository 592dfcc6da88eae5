"""The [ops] remote, as `status` asks of it without loading what a push needs."""

from __future__ import annotations

from pathlib import Path

from .. import git


def remote_url(repo: Path, remote: str) -> str | None:
    """``remote``'s URL, None when this repository has no such remote."""
    if not remote:
        return None
    out = git.run(repo, "remote", "get-url", remote, ok=(0, 2, 128)).decode().strip()
    return out or None


def no_remote(remote: str) -> str:
    """What is said where evidence would be pushed to a remote this repository lacks."""
    return (f"not pushed: there is no remote {remote!r} yet (git remote add {remote} <url of "
            "the trading repository>, or set [ops] remote to the remote you push to)")
