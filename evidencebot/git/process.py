"""Running git: argument lists, an environment that points at the repository asked for,
checked exit codes, errors that carry the command, its exit code and stderr."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import GitError

__all__ = ["NEUTRAL", "Background", "GitError", "ahead", "argv", "clean_env", "out", "run",
           "stream", "succeeds"]

T = TypeVar("T")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git acting on another repository: no inherited GIT_DIR & co."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP}
    env.update(REAL_OBJECTS)
    if extra:
        env.update(extra)
    return env


# Every git call reads the objects themselves: a replace ref (refs/replace/*, which a
# fetch can bring) or a graft would show the rules and verify a commit, tree or blob
# other than the one the branch holds.
REAL_OBJECTS = {"GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull}


# What an operator's own git config must not change in what evidencebot reads and writes:
# with log.showSignature every `log`/`show` writes "Good ... signature" lines into its
# --format output, another core.commentChar makes git read trailer lines starting with it
# as comments, another i18n.logOutputEncoding re-encodes the messages read, and another
# i18n.commitEncoding labels the UTF-8 messages commit-tree writes as something else (for
# good: every later reader decodes them wrongly).
NEUTRAL = ("-c", "log.showSignature=false", "-c", "core.commentChar=#",
           "-c", "i18n.logOutputEncoding=UTF-8", "-c", "i18n.commitEncoding=UTF-8")


def argv(repo: Path | str, *args: str) -> list[str]:
    """``git -C repo ARGS`` as every evidencebot git process is started (`NEUTRAL` first)."""
    return ["git", "-C", str(repo), *NEUTRAL, *args]


# Identity and config isolation survive; location variables (GIT_DIR, GIT_INDEX_FILE,
# GIT_WORK_TREE...) do not, because they would point our plumbing at the wrong place.
_KEEP = frozenset({
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_TEMPLATE_DIR", "GIT_EXEC_PATH",
    "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "GIT_TERMINAL_PROMPT",
})


def run(
    repo: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    ok: Sequence[int] = (0,),
    inherit_env: bool = False,
) -> bytes:
    """Run ``git -C repo ARGS`` and return stdout as bytes.

    ``inherit_env`` keeps GIT_INDEX_FILE & co (inside a hook, where git hands them to us);
    otherwise they are stripped so the command acts on ``repo`` only.
    """
    started = _ahead.pop((str(repo), args), None) \
        if _ahead and input is None and not env and not inherit_env else None
    if started is not None:  # asked ahead (`ahead`): take its answer
        stdout, stderr = started.communicate()
        if started.returncode not in ok:
            raise GitError(args, started.returncode, stdout, stderr)
        return stdout
    base = {**os.environ, **REAL_OBJECTS} if inherit_env else clean_env()
    if env:
        base.update(env)
    proc = subprocess.run(argv(repo, *args), input=input, capture_output=True, env=base,
                          **apart())
    if proc.returncode not in ok:
        raise GitError(args, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


_ahead: dict[tuple[str, tuple[str, ...]], subprocess.Popen[bytes]] = {}
_shielded = [0]  # `shielded` blocks open


def apart(*, always: bool = False) -> dict[str, Any]:
    """Popen's arguments that keep a git process out of our terminal's process group: a
    Ctrl-C or hangup there reaches us, not git, so a write under way (`shielded`) ends
    whole. ``always``: processes that never talk to a terminal (readers of objects)."""
    if not (always or _shielded[0]):
        return {}
    if os.name == "nt":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
    return {"start_new_session": True}


@contextmanager
def shielded() -> Iterator[None]:
    """Within the block, git runs apart from the terminal's signals (`apart`)."""
    _shielded[0] += 1
    try:
        yield
    finally:
        _shielded[0] -= 1


@contextmanager
def ahead(repo: Path, *questions: Sequence[str]) -> Iterator[None]:
    """Within the block, each of ``questions`` (git arguments) is already being answered
    by a git process of its own, on another core while Python works; a `run` with the same
    arguments (no input, no environment of its own) takes that answer. Only for questions
    whose answer cannot change while the block runs (asked under the repository's lock:
    the identity in the config, the worktrees) and whose output is small. Those not taken
    are waited for when the block ends, however it ends."""
    keys = [(str(repo), tuple(q)) for q in questions]
    try:
        for key in keys:
            _settle(key)  # an answer from before this block is never taken
            _ahead[key] = subprocess.Popen(argv(key[0], *key[1]),
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           env=clean_env(), **apart(always=True))
        yield
    finally:
        for key in keys:
            _settle(key)


def _settle(key: tuple[str, tuple[str, ...]]) -> None:
    left = _ahead.pop(key, None)
    if left is not None:
        left.communicate()


class Background(Generic[T]):
    """``fn(*args)`` on a thread of its own, for reads that ask git and do little else: the
    thread waits on git (the interpreter is free meanwhile) while the caller works.
    `result` waits for it, then returns its value or raises what it raised."""

    def __init__(self, fn: Callable[..., T], *args: Any) -> None:
        import threading

        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as e:  # handed to the caller by `result`
            self._error = e

    def done(self) -> None:
        """Wait for it, whatever it gives (a caller that failed meanwhile)."""
        self._thread.join()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


@contextmanager
def stream(repo: Path, *args: str, chunk: int = 1 << 20) -> Iterator[Iterator[bytes]]:
    """``git -C repo ARGS``'s stdout as it comes, in chunks (for output too large to wait
    for); a non-zero exit raises GitError once the output is read."""
    proc = subprocess.Popen(argv(repo, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env())
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr

    def chunks() -> Iterator[bytes]:
        while data := stdout.read1(chunk):  # type: ignore[attr-defined]
            yield data

    finished = False
    try:
        yield chunks()
        finished = True
    finally:
        if not finished:
            proc.kill()
        stdout.close()
        err = stderr.read()
        stderr.close()
        code = proc.wait()
        if finished and code != 0:
            raise GitError(args, code, b"", err)


def out(repo: Path, *args: str, **kw: object) -> str:
    """``run`` decoded as UTF-8 and stripped of the final newline. Bytes that are no UTF-8
    (a ref or a path git took as given, Latin-1 say) come back as lone surrogates, which
    name the same bytes when passed to git again (`textsafe.line` shows them)."""
    return run(repo, *args, **kw).decode("utf-8", "surrogateescape").rstrip(  # type: ignore[arg-type]
        "\n")


def succeeds(repo: Path, *args: str) -> bool:
    """Whether ``git -C repo ARGS`` exits 0 (for yes/no questions like --is-ancestor)."""
    proc = subprocess.run(argv(repo, *args), capture_output=True, env=clean_env(), **apart())
    return proc.returncode == 0
