"""Every git call goes through here: argument lists, checked exit codes, errors that carry
the command, its exit code and stderr. Light on imports: the hook path uses it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path


class GitError(Exception):
    """A git command exited with an unexpected code."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        msg = stderr.decode("utf-8", "replace").strip().splitlines()
        super().__init__(
            f"git {' '.join(args)} exited {returncode}: {msg[-1] if msg else '(no output)'}"
        )


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git acting on another repository: no inherited GIT_DIR & co."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP}
    if extra:
        env.update(extra)
    return env


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
    base = dict(os.environ) if inherit_env else clean_env()
    if env:
        base.update(env)
    cmd = ["git", "-C", str(repo), *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, env=base)
    if proc.returncode not in ok:
        raise GitError(args, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


@contextmanager
def stream(repo: Path, *args: str, chunk: int = 1 << 20) -> Iterator[Iterator[bytes]]:
    """``git -C repo ARGS``'s stdout as it comes, in chunks (for output too large to wait
    for); a non-zero exit raises GitError once the output is read."""
    cmd = ["git", "-C", str(repo), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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
    """``run`` decoded as UTF-8 and stripped of the final newline."""
    return run(repo, *args, **kw).decode("utf-8").rstrip("\n")  # type: ignore[arg-type]


def succeeds(repo: Path, *args: str) -> bool:
    """Whether ``git -C repo ARGS`` exits 0 (for yes/no questions like --is-ancestor)."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                          env=clean_env())
    return proc.returncode == 0


def rev_parse(repo: Path, rev: str) -> str | None:
    """The full sha of ``rev``, or None when it does not exist."""
    reader = _readers.get(repo)
    if reader is not None and rev and "\n" not in rev:
        found = reader.info(f"{rev}^{{commit}}")
        return found
    proc = run(repo, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}", ok=(0, 1, 128))
    sha = proc.decode().strip()
    return sha or None


def toplevel(path: Path) -> Path:
    return Path(_where(os.path.abspath(path))[0])


def common_dir(repo: Path) -> Path:
    return Path(_where(os.path.abspath(repo))[1])


@lru_cache(maxsize=64)
def _where(path: str) -> tuple[str, str]:
    """(top level, common dir) of the repository at ``path``: one process, asked once."""
    top, common = out(Path(path), "rev-parse", "--show-toplevel",
                      "--git-common-dir").split("\n")[:2]
    d = Path(common)
    return top, str(d if d.is_absolute() else (Path(path) / d).resolve())


_ROUND = 4000  # bytes of requests per round trip: under a Windows pipe's 4 KiB


def tree_entries(tree: bytes, idlen: int) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(mode, name, raw object id) of each entry of a raw tree object
    (``<mode> <name>\\0<id>``; ``idlen``: 20 bytes for SHA-1, 32 for SHA-256)."""
    pos = 0
    while pos < len(tree):
        space = tree.index(b" ", pos)
        nul = tree.index(b"\x00", space)
        yield tree[pos:space], tree[space + 1:nul], tree[nul + 1:nul + 1 + idlen]
        pos = nul + 1 + idlen


def id_bytes(object_id: str) -> int:
    """How long ``object_id`` (hex) is as raw bytes: 20 (SHA-1) or 32 (SHA-256)."""
    return 32 if len(object_id) == 64 else 20


def top(path: Path) -> Path:
    """The top level of the repository holding ``path``; UsageError outside one."""
    from .errors import UsageError

    try:
        return toplevel(path)
    except GitError:
        raise UsageError(f"{path} is not inside a git repository") from None


def _askable(spec: str) -> bool:
    """Whether `cat-file --batch` answers ``spec`` in step: a newline would make two
    requests, and a path leaving the repository ("HEAD:../x") stops git altogether."""
    if "\n" in spec:
        return False
    _rev, colon, path = spec.partition(":")
    return not colon or not (path in (".", "..") or path.startswith(("./", "../")))


Answers = list[tuple[str, bytes] | None]  # (type, content) of each object asked; None: missing


class Objects:
    """One long-lived `git cat-file --batch` for many reads (verify reads hundreds of
    blobs and trees): a request costs a pipe round trip, not a process."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=clean_env())
        self._ahead: dict[str, tuple[str, bytes] | None] = {}
        self._uses: dict[str, int] = {}  # how often each answer read ahead is still wanted
        self._later: _Later | None = None  # the next window, being read by a process

    def prefetch(self, specs: Sequence[str], then: Sequence[str] = ()) -> None:
        """Read ``specs`` now, pipelined (`get_many`), and start reading ``then`` (a
        `cat-file` process of its own that runs while we judge): the next reads of each
        are answered from memory, as many as ``specs`` names it (a blob one commit adds is
        the next one's old side). What an earlier prefetch read and nobody asked for is
        forgotten."""
        self._ahead = {}
        self._uses = {}
        for spec in specs:
            self._uses[spec] = self._uses.get(spec, 0) + 1
        wanted = list(self._uses)
        got: Answers | None = None
        if self._later is not None:
            later, self._later = self._later, None
            if later.specs == wanted:
                got = later.answers()
            else:
                later.close()
        self._ahead = dict(zip(wanted, got if got is not None else self.get_many(wanted),
                               strict=True))
        if then:
            self._later = _Later(self.repo, list(dict.fromkeys(then)))

    def get(self, spec: str) -> tuple[str, bytes] | None:
        """(type, content) of ``spec`` (``rev:path``, a sha...), None when missing."""
        return self.get_many([spec])[0]

    def get_many(self, specs: Sequence[str]) -> list[tuple[str, bytes] | None]:
        """``get`` for each of ``specs``, pipelined: requests go in rounds of at most
        _ROUND bytes (less than any pipe holds, so writing a round never waits on git,
        which may be waiting for us to read), then that round's answers are read."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out: list[tuple[str, bytes] | None] = [None] * len(specs)
        answered = set()
        for i, s in enumerate(specs):
            if s in self._ahead:
                out[i] = self._ahead[s]
                answered.add(i)
                self._uses[s] -= 1
                if not self._uses[s]:
                    del self._ahead[s], self._uses[s]
        wanted = [(i, s.encode("utf-8", "surrogateescape") + b"\n")
                  for i, s in enumerate(specs) if _askable(s) and i not in answered]
        k = 0
        while k < len(wanted):
            batch: list[tuple[int, bytes]] = []
            size = 0
            while k < len(wanted) and (not batch or size + len(wanted[k][1]) <= _ROUND):
                batch.append(wanted[k])
                size += len(wanted[k][1])
                k += 1
            self.proc.stdin.write(b"".join(line for _, line in batch))
            self.proc.stdin.flush()
            for i, _ in batch:
                header = self.proc.stdout.readline().split()
                if len(header) < 3 or header[-1] == b"missing":
                    continue
                data = self.proc.stdout.read(int(header[2]) + 1)[:-1]
                out[i] = (header[1].decode(), data)
        return out

    def info(self, spec: str) -> str | None:
        """The object id ``spec`` names (its content is read and dropped)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if not _askable(spec):
            return None
        self.proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) < 3 or header[-1] == b"missing" or header[1] == b"ambiguous":
            return None
        self.proc.stdout.read(int(header[2]) + 1)
        return header[0].decode()

    def close(self) -> None:
        if self._later is not None:
            self._later.close()
            self._later = None
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()


class _Later:
    """`cat-file --batch` for ``specs`` as a process of its own, writing to a temporary
    file while we work. Not a thread reading a pipe: that thread would wait for the
    interpreter each time git gave it data while the judging holds it."""

    def __init__(self, repo: Path, specs: list[str]) -> None:
        import tempfile

        self.specs = specs
        self.asked = [s for s in specs if _askable(s)]
        self.out = tempfile.TemporaryFile()
        with tempfile.TemporaryFile() as requests:
            requests.write("".join(f"{s}\n" for s in self.asked).encode("utf-8",
                                                                       "surrogateescape"))
            requests.seek(0)
            self.proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"],
                                         stdin=requests, stdout=self.out,
                                         stderr=subprocess.DEVNULL, env=clean_env())

    def answers(self) -> Answers | None:
        """The answers, in the order of ``specs``; None when git failed."""
        ok = self.proc.wait() == 0
        self.out.seek(0)
        raw = self.out.read()
        self.close()
        try:
            found = iter(_parse_batch(raw, len(self.asked))) if ok else None
        except (ValueError, IndexError):
            found = None
        return None if found is None else [next(found) if _askable(s) else None
                                           for s in self.specs]

    def close(self) -> None:
        self.proc.wait()
        self.out.close()


def _parse_batch(raw: bytes, count: int) -> Answers:
    """``count`` answers of `cat-file --batch` from its whole output."""
    out: Answers = []
    pos = 0
    for _ in range(count):
        nl = raw.index(b"\n", pos)
        header = raw[pos:nl].split()
        if len(header) < 3 or header[-1] == b"missing":
            out.append(None)
            pos = nl + 1
            continue
        size = int(header[2])
        out.append((header[1].decode(), raw[nl + 1: nl + 1 + size]))
        pos = nl + 1 + size + 1
    return out


_readers: dict[Path, Objects] = {}


def active_reader(repo: Path) -> Objects | None:
    """The `reading` reader open on ``repo``, if any."""
    return _readers.get(repo)


@contextmanager
def reading(repo: Path) -> Iterator[Objects]:
    """Within the block, `show_bytes` on ``repo`` goes through one `cat-file --batch`."""
    if repo in _readers:
        yield _readers[repo]
        return
    reader = _readers[repo] = Objects(repo)
    try:
        yield reader
    finally:
        del _readers[repo]
        reader.close()


def show_bytes(repo: Path, rev: str, path: str) -> bytes | None:
    """The bytes of ``path`` at ``rev`` (a commit; "" means the index), None when absent."""
    reader = _readers.get(repo)
    if reader is not None and rev:
        found = reader.get(f"{rev}:{path}")
        return found[1] if found is not None and found[0] == "blob" else None
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", f"{rev}:{path}"],
        capture_output=True,
        env=clean_env(),
    )
    return proc.stdout if proc.returncode == 0 else None


def hash_blob(repo: Path, data: bytes) -> str:
    return run(repo, "hash-object", "-w", "--stdin", input=data).decode().strip()


def hash_blobs(repo: Path, blobs: Sequence[bytes]) -> list[str]:
    """Write many blobs with one `hash-object` (their bytes as given, no filters)."""
    if len(blobs) <= 1:
        return [hash_blob(repo, b) for b in blobs]
    import tempfile

    with tempfile.TemporaryDirectory(prefix="evidencebot-blobs-", dir=common_dir(repo)) as d:
        names = []
        for i, data in enumerate(blobs):
            name = Path(d) / str(i)
            name.write_bytes(data)
            names.append(str(name))
        got = run(repo, "hash-object", "-w", "--no-filters", "--stdin-paths",
                  input=("\n".join(names) + "\n").encode("utf-8", "surrogateescape"))
    return got.decode().split()


def branch_worktrees(repo: Path, branch: str) -> list[Path]:
    """Every worktree (the main one included) that has ``refs/heads/<branch>`` checked out."""
    text = out(repo, "worktree", "list", "--porcelain")
    found: list[Path] = []
    current: Path | None = None
    for line in text.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree "):])
        elif line == f"branch refs/heads/{branch}" and current is not None:
            found.append(current)
    return found


def committing(repo: Path) -> tuple[bool, bool]:
    """(whether git knows who the operator is, whether it signs commits): one process."""
    raw = run(repo, "config", "-z", "--get-regexp",
              r"^(user\.name|user\.email|commit\.gpgsign)$", ok=(0, 1)).decode()
    found: dict[str, str] = {}
    for item in filter(None, raw.split("\x00")):
        key, _, value = item.partition("\n")
        found[key.lower()] = value
    who = all(found.get(key) or os.environ.get(env) for key, env in (
        ("user.name", "GIT_COMMITTER_NAME"), ("user.email", "GIT_COMMITTER_EMAIL")))
    sign = found.get("commit.gpgsign", "").lower() in ("true", "yes", "on", "1")
    return bool(who), sign


def cat_batch(repo: Path, specs: Sequence[str], *,
              inherit_env: bool = False) -> list[bytes | None]:
    """Many objects (``rev:path`` or shas) through one `git cat-file --batch` process; None
    for a missing one."""
    return [g[1] if g is not None else None
            for g in cat_batch_typed(repo, specs, inherit_env=inherit_env)]


def cat_batch_typed(repo: Path, specs: Sequence[str], *,
                    inherit_env: bool = False) -> list[tuple[str, bytes] | None]:
    """`cat_batch` with each object's type ("blob", "tree" ...)."""
    asked = [s for s in specs if _askable(s)]  # the others: no such object
    if len(asked) < len(specs):
        found = iter(cat_batch_typed(repo, asked, inherit_env=inherit_env))
        return [next(found) if _askable(s) else None for s in specs]
    if not specs:
        return []
    reader = None if inherit_env else _readers.get(repo)
    if reader is not None:
        return reader.get_many(specs)
    raw = run(repo, "cat-file", "--batch", inherit_env=inherit_env,
              input=("\n".join(specs) + "\n").encode("utf-8", "surrogateescape"))
    return _parse_batch(raw, len(specs))
