"""Reading objects: one long-lived `cat-file --batch` for a command's many reads, pipelined
requests, and reading ahead (a process of its own writing to a temporary file)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .process import GitError, apart, argv, clean_env, run

_ROUND = 4000  # bytes of requests per round trip: under a Windows pipe's 4 KiB


def _askable(spec: str) -> bool:
    """Whether `cat-file --batch` answers ``spec`` in step: a newline would make two
    requests, and a path leaving the repository ("HEAD:../x") stops git altogether."""
    if "\n" in spec:
        return False
    if "{" not in spec:  # (nearly every spec: a commit id, a colon, a path)
        _rev, colon, path = spec.partition(":")
        return not colon or not (path in (".", "..") or path.startswith(("./", "../")))
    depth = 0  # the colon before the path, found as git finds it: none inside "@{...}"
    for i, ch in enumerate(spec):
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == ":" and not depth:
            path = spec[i + 1:]
            return not (path in (".", "..") or path.startswith(("./", "../")))
    return True


Answers = list[tuple[str, bytes] | None]  # (type, content) of each object asked; None: missing


class Objects:
    """One long-lived `git cat-file --batch` for many reads (verify reads hundreds of
    blobs and trees): a request costs a pipe round trip, not a process."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.proc = subprocess.Popen(argv(repo, "cat-file", "--batch"),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=clean_env(),
                                     **apart(always=True))
        # spec -> [its answer, how often it is still wanted]: what was read ahead
        self._ahead: dict[str, list[Any]] = {}
        self._later: _Later | None = None  # the next window, being read by a process

    def prefetch(self, specs: Sequence[str], then: Sequence[str] = ()) -> None:
        """Read ``specs`` now, pipelined (`get_many`), and start reading ``then`` (a
        `cat-file` process of its own that runs while we judge): the next reads of each
        are answered from memory, as many as ``specs`` names it (a blob one commit adds is
        the next one's old side). What an earlier prefetch read and nobody asked for is
        forgotten."""
        self._ahead = {}
        uses: dict[str, int] = {}
        for spec in specs:
            uses[spec] = uses.get(spec, 0) + 1
        wanted = list(uses)
        got: Answers | None = None
        if self._later is not None:
            later, self._later = self._later, None
            if later.specs == wanted:
                got = later.answers()
            else:
                later.close()
        answers = got if got is not None else self.get_many(wanted)
        self._ahead = {s: [a, uses[s]] for s, a in zip(wanted, answers, strict=True)}
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
            ahead = self._ahead.get(s)
            if ahead is not None:
                out[i] = ahead[0]
                answered.add(i)
                ahead[1] -= 1
                if not ahead[1]:
                    del self._ahead[s]
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
            self._ask(b"".join(line for _, line in batch))
            for i, _ in batch:
                header = self._header()
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
        self._ask(spec.encode("utf-8", "surrogateescape") + b"\n")
        header = self._header()
        if len(header) < 3 or header[-1] == b"missing" or header[1] == b"ambiguous":
            return None
        self.proc.stdout.read(int(header[2]) + 1)
        return header[0].decode()

    def _ask(self, requests: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(requests)
            self.proc.stdin.flush()
        except OSError:  # git is gone (a broken pipe)
            raise self._stopped() from None

    def _header(self) -> list[bytes]:
        """The next answer's header; GitError when git stopped (an object is not
        "missing" for that)."""
        assert self.proc.stdout is not None
        header = self.proc.stdout.readline().split()
        if not header:
            raise self._stopped()
        return header

    def _stopped(self) -> GitError:
        return GitError(("cat-file", "--batch"), self.proc.poll() or -1, b"",
                        b"git cat-file --batch ended before answering")

    def close(self) -> None:
        try:
            if self._later is not None:
                self._later.close()
                self._later = None
        finally:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
            except OSError:  # git is gone already
                pass
            self.proc.wait()
            if self.proc.stdout:
                self.proc.stdout.close()


class _Later:
    """`cat-file --batch` for ``specs`` as a process of its own, writing to a temporary
    file while we work. Not a thread reading a pipe: that thread would wait for the
    interpreter each time git gave it data while the judging holds it."""

    def __init__(self, repo: Path, specs: list[str]) -> None:
        self.specs = specs
        self.asked = [s for s in specs if _askable(s)]
        self.out = _scratch()
        with _scratch() as requests, _closing_on_error(self.out):
            requests.write("".join(f"{s}\n" for s in self.asked).encode("utf-8",
                                                                       "surrogateescape"))
            requests.seek(0)
            self.proc = subprocess.Popen(argv(repo, "cat-file", "--batch"),
                                         stdin=requests, stdout=self.out,
                                         stderr=subprocess.DEVNULL, env=clean_env(),
                                         **apart(always=True))

    def answers(self) -> Answers | None:
        """The answers, in the order of ``specs``; None when git failed."""
        try:
            ok = self.proc.wait() == 0
            self.out.seek(0)
            raw = self.out.read()
        finally:
            self.close()
        try:
            found = iter(_parse_batch(raw, len(self.asked))) if ok else None
        except (ValueError, IndexError):
            found = None
        return None if found is None else [next(found) if _askable(s) else None
                                           for s in self.specs]

    def close(self) -> None:
        try:
            self.proc.wait()
        finally:
            self.out.close()


def _scratch() -> IO[bytes]:
    """A file of our own that is gone once closed: in memory where the system has such
    files (Linux), else a temporary file (importing `tempfile` costs a few ms, and verify
    reads ahead at every run)."""
    memfd = getattr(os, "memfd_create", None)
    if memfd is not None:
        try:
            fd = memfd("evidencebot-read-ahead", os.MFD_CLOEXEC)
        except OSError:  # (a kernel without it)
            pass
        else:
            try:
                return open(fd, "w+b")
            except BaseException:
                os.close(fd)
                raise
    import tempfile

    return tempfile.TemporaryFile()


@contextmanager
def _closing_on_error(f: IO[bytes]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        f.close()
        raise


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
        argv(repo, "cat-file", "blob", f"{rev}:{path}"),
        capture_output=True,
        env=clean_env(),
        **apart(),
    )
    return proc.stdout if proc.returncode == 0 else None


def blob(repo: Path, sha: str) -> bytes | None:
    """The blob with id ``sha`` (through the open reader, if any); None when there is no
    blob of that id."""
    (got,) = cat_batch_typed(repo, [sha])
    return got[1] if got is not None and got[0] == "blob" else None


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
