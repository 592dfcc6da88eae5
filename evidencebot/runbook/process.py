"""Run the burn-in command: argv (no shell), a timeout, a live progress line, a kept log."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import Burnin
from ..errors import UsageError
from ..frozen import frozen
from ..redact import redact
from .capture import Capture

PLACEHOLDERS = (
    "runs", "paper_duration_seconds", "min_filled_orders",
    "min_symbol_data_availability_ratio", "preflight_min_bars_per_symbol",
)


def expand(command: Sequence[str], params: Burnin) -> list[str]:
    """Fill ``{runs}`` & co in each argument; other braces are left alone."""
    values = {name: _fmt(getattr(params, name)) for name in PLACEHOLDERS}
    out = []
    for arg in command:
        for name, value in values.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


def _fmt(v: object) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


@frozen
class Completed:
    argv: list[str]
    exit_code: int | None  # None: killed at the timeout
    log: bytes
    seconds: float
    timed_out: bool


Progress = Callable[[float, str], None]  # (elapsed seconds, last log line)


class Interrupted(KeyboardInterrupt):
    """The wrapper was stopped because we were interrupted: what it did until then."""

    def __init__(self, done: Completed) -> None:
        super().__init__()
        self.done = done


# Python's environment variables that only change how it reads, writes or reports (kept);
# every other PYTHON* variable can make a wrapper's Python run code from outside the
# checkout (PYTHONPATH, PYTHONHOME, PYTHONUSERBASE, PYTHONSTARTUP, PYTHONWARNINGS and
# PYTHONBREAKPOINT import modules they name) and is left out.
_PYTHON_KEPT = frozenset({
    "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONUNBUFFERED", "PYTHONLEGACYWINDOWSSTDIO",
    "PYTHONLEGACYWINDOWSFSENCODING", "PYTHONDONTWRITEBYTECODE", "PYTHONFAULTHANDLER",
    "PYTHONHASHSEED", "PYTHONCOERCECLOCALE"})
# Variables that make a shell, the dynamic loader, OpenSSL, git or another language's
# runtime load or run code they name before the wrapper's own: a bash wrapper sources
# $BASH_ENV (which can export PYTHONPATH again), SHELLOPTS=xtrace runs $PS4, exported
# functions ride BASH_FUNC_*. What the machine has installed, and what HOME (or
# XDG_CONFIG_HOME) holds, login profiles and git's global config, stay the machine's.
_LOADS_CODE = frozenset({
    "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "ZDOTDIR",
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH", "OPENSSL_CONF",
    "OPENSSL_MODULES", "NODE_OPTIONS", "NODE_PATH", "PERL5LIB", "PERL5OPT", "PERLLIB",
    "PERL5DB", "RUBYOPT", "RUBYLIB", "GEM_PATH", "GEM_HOME", "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "LUA_INIT",
    # (for a git the wrapper runs: GIT_CONFIG_* can set core.fsmonitor and the like)
    "GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM",
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "GIT_EDITOR",
    "GIT_PAGER", "GIT_EXTERNAL_DIFF", "GIT_PROXY_COMMAND", "GIT_DIR", "GIT_WORK_TREE",
    "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_TEMPLATE_DIR"})
_LOADS_CODE_PREFIXES = ("PYTHON", "BASH_FUNC_", "DYLD_", "GIT_CONFIG_KEY_",
                        "GIT_CONFIG_VALUE_", "LUA_INIT_")


def wrapper_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a wrapper starts in: ours without the variables that load code the
    code state does not see (the reviewed checkout is what runs), and without Python's
    user site-packages (PYTHONNOUSERSITE). The wrapper sets its own, committed, as it
    likes; the interpreter it names, and what that has installed, are the machine's."""
    def kept(name: str) -> bool:
        n = name.upper()
        return n in _PYTHON_KEPT or not (n in _LOADS_CODE or n.startswith(_LOADS_CODE_PREFIXES))

    return {**{k: v for k, v in environ.items() if kept(k)}, "PYTHONNOUSERSITE": "1"}


def left_out(environ: Mapping[str, str]) -> list[str]:
    """The names of ``environ``'s variables a wrapper does not get (`wrapper_environment`)."""
    given = wrapper_environment(environ)
    return sorted(k for k in environ if k not in given)


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    progress: Progress | None = None,
    tick: float = 0.2,
    pidfile: Path | None = None,
    note: Mapping[str, str | int] | None = None,
) -> Completed:
    """Run ``argv`` to completion or ``timeout``; stdout and stderr go to one log.

    The command runs in a process group of its own, stopped whole (its children too) at
    the timeout or when we are interrupted: a wrapper left running would hold its client
    id and write its report later, into the next run. From its start ``pidfile`` holds
    its pid and ``note`` (the session's start and client id), until the caller has
    recorded the session and removes it: `left_behind` reads it after a run that could
    not (killed -9, stopped twice while recording, a machine that went down)."""
    full_env = {**wrapper_environment(os.environ), **env}
    start = time.monotonic()
    group: dict[str, Any] = (
        {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
        if os.name == "nt" else {"start_new_session": True})
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=full_env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **group,
        )
    except FileNotFoundError:
        raise UsageError(f"burn-in command not found: {argv[0]!r} (see [burnin] command)") from None
    except PermissionError:
        raise UsageError(f"burn-in command is not executable: {argv[0]!r}") from None
    chunks = Capture()
    try:
        if pidfile is not None:
            _note(pidfile, proc.pid, note or {})
        return _wait(proc, argv, start, timeout, progress, tick, chunks)
    except KeyboardInterrupt:  # (Ctrl-C, or SIGTERM in `run`): the wrapper goes too
        _stop(proc)
        raise Interrupted(Completed(list(argv), None, chunks.value(),
                                    time.monotonic() - start, False)) from None
    except BaseException:  # (a failure of ours)
        _stop(proc)
        raise


_LINE_BYTES = 64 * 1024  # (a line without an end is read in pieces: never a 40 MB one)


def _wait(proc: subprocess.Popen[bytes], argv: Sequence[str], start: float, timeout: float,
          progress: Progress | None, tick: float, chunks: Capture) -> Completed:
    last = [""]
    assert proc.stdout is not None
    stream = proc.stdout

    def pump() -> None:
        for line in iter(lambda: stream.readline(_LINE_BYTES), b""):
            chunks.append(line)
            text = line.decode("utf-8", "replace").strip()
            if text:
                last[0] = redact(text)  # (shown live: the account as the kept log has it)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    while True:
        try:
            proc.wait(timeout=tick)
            break
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - start
            if progress:
                progress(elapsed, last[0])
            if elapsed >= timeout:
                _stop(proc)
                timed_out = True
                break
    reader.join(timeout=5)
    return Completed(list(argv), None if timed_out else proc.returncode, chunks.value(),
                     time.monotonic() - start, timed_out)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc`` and what it started (POSIX: its process group; Windows: its tree,
    by taskkill); then reap it."""
    if os.name == "nt":
        if proc.poll() is None:
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                           capture_output=True, check=False)
    else:
        import signal

        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # (gone already)
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _note(pidfile: Path, pid: int, note: Mapping[str, str | int]) -> None:
    try:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        _write_note(pidfile, {**note, "pid": pid, "since": time.time()})
    except OSError as e:
        raise UsageError(f"cannot note the burn-in wrapper's pid in {pidfile}: "
                         f"{e.strerror or e}") from None


def _write_note(pidfile: Path, note: Mapping[str, Any]) -> None:
    """The note whole or not at all (a file beside it, then renamed): a run stopped while
    writing it leaves the old note, never half of one the next run cannot read."""
    import json

    part = pidfile.with_name(pidfile.name + ".part")
    part.write_text(json.dumps(note), encoding="utf-8")
    os.replace(part, pidfile)


def add_to_note(pidfile: Path, **more: str) -> None:
    """``more`` added to the wrapper's note (`_note`'s file), when it is there and can be
    read; otherwise the note stays as it is."""
    import json

    try:
        _write_note(pidfile, {**json.loads(pidfile.read_text(encoding="utf-8")), **more})
    except (OSError, ValueError, TypeError):
        pass


def left_behind(pidfile: Path) -> dict[str, Any] | None:
    """What an earlier run noted of its wrapper (`run_command`'s ``note``, its ``pid`` and
    ``since``) when the note is still there, that run having been stopped before it could
    remove it (killed -9, or the machine went down), with ``alive``: whether that wrapper
    still runs. None without a note; one that cannot be read is removed (nothing to say
    about it)."""
    import json

    try:
        doc = json.loads(pidfile.read_text(encoding="utf-8"))
        pid, since = int(doc["pid"]), float(doc["since"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        pidfile.unlink(missing_ok=True)
        return None
    if not 0 <= since < 2 ** 33:  # (no time this machine could have noted: 1e300, inf)
        return {**doc, "pid": pid, "since": 0.0, "alive": False}
    running = 0 < pid < 2 ** 31 and alive(pid) and _started_by(pid, since)
    return {**doc, "pid": pid, "since": since, "alive": running}


def _started_by(pid: int, since: float) -> bool:
    """Whether process ``pid`` started by ``since`` (a wall-clock time), as the wrapper the
    note names did: a process that started later holds a pid reused (after a reboot, say)
    and is not that wrapper (found by an adversary: `run` then said to delete the note, the
    lost session's only trace). Linux only (/proc); elsewhere, True."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # (field 22, after the name)
        boot = next(int(ln.split()[1]) for ln in Path("/proc/stat").read_text().splitlines()
                    if ln.startswith("btime "))
        started = boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return True
    return started <= since + 2  # (btime is whole seconds)


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (POSIX: signal 0; Windows: its exit code)."""
    if os.name == "nt":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        kernel32.OpenProcess.restype = wintypes.HANDLE
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(ctypes.get_last_error() == 5)  # type: ignore[attr-defined]
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False  # (not there; or another user's: the pid was reused, ours is gone)
    try:  # (Linux: a zombie, dead but not yet reaped, answers signal 0)
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")
