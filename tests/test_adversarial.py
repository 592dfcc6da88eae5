"""Adversarial suite for the trust model (issue 9): one row per attempt to get a run, a
streak or a closure counted that should not count, or to slip something past the hook,
`verify` or the CLI's input checks.

Attacks made with plain git (hand commits on an ops branch) are tried twice: with the hooks
installed (`git commit` must exit 1 and leave the branch where it was), then with
`--no-verify` (`evidencebot verify` must exit 1 and blame the attack). Attacks through the
CLI assert the exit code, the one-line error and that nothing was committed when refused.

Every repository commits `[ops] allow_pinned_clock = true` on main and pins the clock to
Thursday 2026-11-26 15:00 UTC; the runs sit inside the window on Mon 23 .. Thu 26 November.
An attempt that is not blocked yet carries `xfail(strict=True)` whose reason names the
rule and what is missing (its row's `gap`): when it starts passing, XPASS(strict) fails the
suite, and the gap comes off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Result
from markdown_it import MarkdownIt

from evidencebot.guard.install import install_hooks
from evidencebot.sim.trading_repo import BACKLOG, report, write_repo, write_report

PINNED = "2026-11-26T15:00:00Z"  # a Thursday, inside the window
MAIN_DATE = "2026-11-20T12:00:00Z"  # the trading repo as it stood before the burn-in
OPS = "ops/evidence"
EVIDENCE = "reports/evidence/step1a"
DESCRIPTION = "reports/evidence/milestones/MO-2.md"
RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc but tab, LF, CR
HOSTILE = ("\x1b]8;;http://x\x07click\x1b]8;;\x07 \x1b[2J\x9b31m | <script>alert(1)</script> "
           "\x85````````````")

CONFIG = f"""\
[ops]
allow_pinned_clock = true
provider = "none"

[burnin]
command = [{json.dumps(sys.executable)}, "scripts/adv_wrapper.py", "--duration", "{{paper_duration_seconds}}"]
report = "state/latest.json"
timeout_seconds = 2400
retries = 0

[health]
command = [{json.dumps(sys.executable)}, "scripts/adv_health.py"]
timeout_seconds = 20

[ibkr]
port = 1
connect_timeout_seconds = 1

[milestone.MO-2]
auto_close = false
"""

# The burn-in wrapper `run` calls (committed under scripts/, so the code under test is clean).
# ADV_WRAPPER picks what it does; state/ is ignored by git.
WRAPPER = r'''
import json, os, sys, time
from datetime import datetime, timedelta, timezone
from pathlib import Path

mode = os.environ.get("ADV_WRAPPER", "qualifying")
state = Path("state")
state.mkdir(exist_ok=True)
with open(state / "invocations", "a", encoding="utf-8") as f:
    f.write(mode + "\n")
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
if mode == "hang":
    time.sleep(60)
if mode == "block" and not (state / "started").exists():
    (state / "started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 30
    while not (state / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
if mode in ("traceback", "traceback-md", "hostile"):
    if mode == "traceback-md":
        print("Error 354, reqId 4: Requested market data is not subscribed. HSBA.L")
    if mode == "hostile":
        print(os.environ["ADV_HOSTILE"])
        print("FENCE-MARKER after the backtick run")
    print("Traceback (most recent call last):")
    print('  File "bot/strategy.py", line 7, in on_bar')
    last = os.environ["ADV_HOSTILE"] if mode == "hostile" else "division by zero"
    print("ZeroDivisionError: " + last, flush=True)
    sys.exit(1)
now = datetime.fromisoformat(os.environ["EVIDENCEBOT_NOW"].replace("Z", "+00:00"))
dur = int(args.get("--duration", "1800"))
start = now - timedelta(seconds=dur)
stamp = "%Y-%m-%dT%H:%M:%SZ"
doc = {"run_id": start.strftime("%Y%m%dT%H%M%SZ"), "started_at_utc": start.strftime(stamp),
       "finished_at_utc": now.strftime(stamp), "runs_requested": 1, "runs_completed": 1,
       "paper_duration_seconds": dur, "orders": {"filled": 2},
       "symbol_data_availability_ratio": 0.857,
       "preflight_bars_per_symbol": {"VOD.L": 240, "BARC.L": 236},
       "ibkr": {"client_id": int(os.environ.get("IBKR_CLIENT_ID", "0"))},
       "passed": True, "failure_reasons": []}
(state / "latest.json").write_text(json.dumps(doc), encoding="utf-8")
print("connected; run complete")
'''

# The strict health check: healthy, unless a test wrote state/health.out (printed, exit 1).
HEALTH = '''
import pathlib, sys
out = pathlib.Path("state/health.out")
if out.exists():
    sys.stdout.write(out.read_text(encoding="utf-8"))
    sys.exit(1)
print('{"healthy": true, "checks": [{"name": "ibkr_socket", "ok": true}]}')
'''


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_sha(value: Any) -> str:
    """The embedded report's sha256 (sorted keys, no spaces), as `report_sha256` holds it."""
    return sha256(json.dumps(value, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode())


def make_report(start: str, *, span: int = 1800, duration: int = 1800,
                **kw: Any) -> dict[str, Any]:
    """A report in the reference schema whose run starts at ``start`` and ends ``span``
    seconds later, claiming ``duration`` seconds on paper."""
    begin = when(start)
    doc = report(finished=begin + timedelta(seconds=span), duration=duration, **kw)
    doc["started_at_utc"] = stamp(begin)
    if "run_id" not in kw:
        doc["run_id"] = begin.strftime("%Y%m%dT%H%M%SZ")
    return doc


# --- the repositories ------------------------------------------------------------------------

def _git(repo: Path, *args: str, input: str | None = None,
         env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          input=input, env=env, encoding="utf-8", errors="replace")
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def _cli_in_process(*args: str | Path) -> int:
    from evidencebot.cli import main

    return main([str(a) for a in args])


@contextmanager
def _build_env(home: Path) -> Iterator[pytest.MonkeyPatch]:
    """The environment conftest gives each test, for the session-scoped templates."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("GIT_", "EVIDENCEBOT_", "ADV_")) or key == "IBKR_CLIENT_ID":
                mp.delenv(key)
        (home / "template").mkdir(parents=True, exist_ok=True)
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
        for key, value in {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                           "GIT_CONFIG_NOSYSTEM": "1", "GIT_TEMPLATE_DIR": str(home / "template"),
                           "GIT_AUTHOR_NAME": "Test Operator", "GIT_COMMITTER_NAME": "Test Operator",
                           "GIT_AUTHOR_EMAIL": "operator@example.invalid",
                           "GIT_COMMITTER_EMAIL": "operator@example.invalid",
                           "GIT_AUTHOR_DATE": MAIN_DATE, "GIT_COMMITTER_DATE": MAIN_DATE}.items():
            mp.setenv(key, value)
        yield mp


def _build_bare(root: Path) -> Path:
    repo = write_repo(root / "bot", extra={"evidencebot.toml": CONFIG,
                                           "scripts/adv_wrapper.py": WRAPPER,
                                           "scripts/adv_health.py": HEALTH})
    install_hooks(repo, base="main", force=True)
    return repo


def _build_three(repo: Path, mp: pytest.MonkeyPatch) -> None:
    """A refused Sunday session, a failed run (handoff packet), three qualifying runs."""
    steps: list[tuple[str, str, tuple[str, ...], int]] = [
        ("2026-11-22T10:00:00Z", "qualifying", ("run", "--no-push"), 3),
        ("2026-11-23T08:30:00Z", "hang", ("run", "--skip-checks", "--no-push",
                                          "--paper-duration-seconds", "1",
                                          "--timeout-seconds", "1.3"), 4),
        *[(f"2026-11-{d}T09:30:00Z", "qualifying", ("run", "--skip-checks", "--no-push"), 0)
          for d in (23, 24, 25)],
    ]
    for now, mode, args, code in steps:
        mp.setenv("EVIDENCEBOT_NOW", now)
        mp.setenv("ADV_WRAPPER", mode)
        got = _cli_in_process("--repo", repo, *args)
        assert got == code, f"template: {' '.join(args)} at {now} exited {got}, not {code}"
    mp.setenv("EVIDENCEBOT_NOW", PINNED)
    assert _cli_in_process("--repo", repo, "verify", "--range", f"main..{OPS}") == 0


def _build_closed(repo: Path, mp: pytest.MonkeyPatch) -> None:
    mp.setenv("EVIDENCEBOT_NOW", "2026-11-25T10:00:00Z")
    assert _cli_in_process("--repo", repo, "close", "MO-2", "--no-push") == 0
    mp.setenv("EVIDENCEBOT_NOW", PINNED)
    assert _cli_in_process("--repo", repo, "verify", "--range", f"main..{OPS}") == 0


class Templates:
    """Repositories built once per session, copied per test: `bare` (main only), `three`
    (a refusal, a failed run, three qualifying runs on ops/evidence), `closed` (MO-2 closed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, Path] = {}
        self.failed: dict[str, str] = {}

    def get(self, name: str) -> Path:
        if name in self.failed:
            pytest.fail(self.failed[name])
        if name not in self.built:
            try:
                self.built[name] = self._build(name)
            except Exception as e:
                self.failed[name] = f"template {name!r} could not be built: {e}"
                raise
        return self.built[name]

    def _build(self, name: str) -> Path:
        with _build_env(self.root / "home") as mp:
            if name == "bare":
                return _build_bare(self.root / name)
            parent = self.get({"three": "bare", "closed": "three"}[name])
            repo = self.root / name / "bot"
            shutil.copytree(parent, repo, symlinks=True)
            (_build_three if name == "three" else _build_closed)(repo, mp)
            return repo


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("adversarial-templates"))


# --- the lab: one copied repository per test -------------------------------------------------

@dataclass(frozen=True)
class Hand:
    """A commit made with plain git on an ops branch (what a hand edit looks like).

    ``message`` or ``reuse`` (`git commit -C`) gives the message; ``committed`` lists the
    commits a setup made itself (forgeries); ``blame`` adds commits a finding may name."""

    message: str = ""
    reuse: str = ""
    verify_args: tuple[str, ...] = ()
    committed: tuple[str, ...] = ()
    blame: tuple[str, ...] = ()


CHECK_MSG = ("ops: hand edit\n\nEvidence-Kind: check\nCheck-Failed: window\nSession-Type: OPS\n"
             "Evidencebot-Version: 0.1.0\nConfig-Sha256: none\n")


@dataclass
class Lab:
    repo: Path
    tmp: Path
    cli: Callable[..., Result]
    mp: pytest.MonkeyPatch
    reports: list[Path] = field(default_factory=list)

    def git(self, *args: str, input: str | None = None, date: str = PINNED) -> str:
        return _git(self.repo, *args, input=input, env=self.env(date))

    def env(self, date: str = PINNED) -> dict[str, str]:
        return {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}

    def rev(self, ref: str) -> str | None:
        proc = subprocess.run(["git", "-C", str(self.repo), "rev-parse", "-q", "--verify",
                               f"{ref}^{{commit}}"], capture_output=True, text=True)
        return proc.stdout.strip() or None

    def at(self, now: str) -> None:
        self.mp.setenv("EVIDENCEBOT_NOW", now)

    def ev(self, *args: str | Path) -> Result:
        return self.cli("--repo", self.repo, *args)

    def record(self, doc: dict[str, Any] | bytes, *extra: str) -> Result:
        path = self.tmp / "reports" / f"report-{len(self.reports)}.json"
        if isinstance(doc, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(doc)
        else:
            write_report(path, doc)
        self.reports.append(path)
        return self.ev("record", path, *extra)

    def run(self, *extra: str, mode: str = "qualifying") -> Result:
        self.mp.setenv("ADV_WRAPPER", mode)
        return self.ev("run", "--skip-checks", "--no-push", *extra)

    def trailers(self, rev: str = OPS) -> dict[str, str]:
        out = self.git("log", "-1", "--format=%(trailers:only,unfold)", rev)
        return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)

    def show(self, rev: str, path: str) -> bytes:
        return subprocess.run(["git", "-C", str(self.repo), "show", f"{rev}:{path}"],
                              capture_output=True, check=True).stdout

    def commit_on(self, branch: str, files: dict[str, str | None], date: str) -> str:
        """A plain commit on ``branch`` (main, or a branch made from it) by the operator."""
        self.git("switch", "-q", branch)
        for rel, text in files.items():
            if text is None:
                (self.repo / rel).unlink()
            else:
                (self.repo / rel).parent.mkdir(parents=True, exist_ok=True)
                (self.repo / rel).write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", f"operator change on {branch}", date=date)
        return self.rev("HEAD") or ""


@pytest.fixture
def make_lab(templates: Templates, tmp_path: Path, cli: Callable[..., Result],
             monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Lab]:
    def make(name: str) -> Lab:
        repo = tmp_path / "bot"
        shutil.copytree(templates.get(name), repo, symlinks=True)
        shutil.rmtree(repo / "state", ignore_errors=True)  # the wrapper's files (ignored)
        monkeypatch.setenv("EVIDENCEBOT_NOW", PINNED)
        monkeypatch.delenv("ADV_WRAPPER", raising=False)
        return Lab(repo, tmp_path, cli, monkeypatch)

    return make


# --- what every attempt asserts ----------------------------------------------------------------

def git_commit(lab: Lab, hand: Hand, *, hooks: bool) -> subprocess.CompletedProcess[str]:
    cmd = ["git", "-C", str(lab.repo), "commit", "-q"]
    cmd += ["-C", hand.reuse] if hand.reuse else ["-F", "-"]
    if not hooks:
        cmd.append("--no-verify")
    return subprocess.run(cmd, input=None if hand.reuse else (hand.message or CHECK_MSG),
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          env=lab.env())


def assert_hook_refuses(lab: Lab, hand: Hand) -> None:
    branch = _git(lab.repo, "symbolic-ref", "--short", "HEAD").strip()
    tip = lab.rev(branch)
    proc = git_commit(lab, hand, hooks=True)
    assert proc.returncode == 1, f"the hook let it through:\n{proc.stdout}{proc.stderr}"
    assert "Fix:" in proc.stderr and "evidencebot: error" not in proc.stderr, proc.stderr
    assert lab.rev(branch) == tip


def assert_verify_blames(lab: Lab, args: tuple[str, ...], blamed: set[str]) -> None:
    r = lab.ev("--json", "verify", *args)
    assert r.code == 1, f"verify exited {r.code}: {r.out}{r.err}"
    doc = json.loads(r.out)
    rules = [v["rule"] for v in doc["violations"] if v.get("commit") in blamed]
    assert rules, f"no violation blames the attack ({sorted(blamed)}): {doc['violations']}"
    assert all(RULE_ID.fullmatch(rule) for rule in rules), rules
    unmended = [v["rule"] for v in doc["violations"] if not v["fix"]]
    assert not unmended, f"findings without a Fix: {unmended}"  # every one says what to do


def ok(r: Result, code: int = 0) -> Result:
    """``r`` after checking its exit code (the output is the assertion's message)."""
    assert r.code == code, f"exit {r.code}, not {code}: {r.out}{r.err}"
    return r


def assert_bad_input(r: Result, lab: Lab, tip: str | None, names: str) -> None:
    """Refused as bad input: exit 2, one line on stderr naming ``names`` (what is bad, so
    that another error, a config one say, cannot pass for it) and at most its Fix line,
    no traceback, no commit."""
    assert r.code == 2, f"exit {r.code}: {r.out}{r.err}"
    said = r.err.strip().splitlines()
    assert len(said) == 1 or (len(said) == 2 and said[1].startswith("Fix: ")), r.err
    assert "Traceback" not in r.err, r.err
    assert names in r.err, f"the error does not name {names!r}: {r.err}"
    assert lab.rev(OPS) == tip


def assert_recorded_as(r: Result, lab: Lab, outcome: str, *hints: str) -> dict[str, Any]:
    """Recorded (exit 0) with ``outcome``; one of ``hints`` names why (case-insensitive)."""
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["run"]["outcome"] == outcome, doc
    assert lab.trailers()["Evidence-Outcome"] == outcome
    why = " ".join(doc["run"]["reasons"]).lower()
    assert not hints or any(h.lower() in why for h in hints), doc["run"]["reasons"]
    return doc


def streak(lab: Lab) -> dict[str, Any]:
    r = lab.ev("--json", "history")
    assert r.code == 0, r.err
    return json.loads(r.out)["streak"]


def committed_markdown(lab: Lab) -> dict[str, str]:
    names = _git(lab.repo, "diff", "--name-only", "main", OPS, "--", "*.md").split("\n")
    return {n: lab.show(OPS, n).decode("utf-8", "replace") for n in names if n}


def assert_neutralised(lab: Lab, *terminal: str) -> None:
    """No raw control character reaches committed Markdown, an ops commit message or the
    terminal; no raw HTML survives in the Markdown; every GFM table row keeps its cells."""
    messages = _git(lab.repo, "log", "--format=%B", f"main..{OPS}")
    texts = {**committed_markdown(lab), "commit messages": messages,
             **{f"terminal {i}": t for i, t in enumerate(terminal)}}
    for name, text in texts.items():
        assert not RAW_CONTROL.search(text), f"raw control character in {name}: {text!r}"
    md = MarkdownIt("commonmark").enable("table")
    for name, text in committed_markdown(lab).items():
        assert "<script" not in md.render(text), f"raw HTML in {name}"
        for block in re.findall(r"(?m)(?:^\|.*\n?)+", text):
            counts = {len(re.split(r"(?<!\\)\|", row.strip())) for row in block.splitlines()}
            assert len(counts) == 1, f"a table row in {name} lost its shape: {block}"


def run_hand(lab: Lab, hand: Hand, *, hook: bool | None, verify: bool | None) -> None:
    """Commit ``hand`` (with the hooks when ``hook``, then with --no-verify) and judge it."""
    if hand.committed:
        blamed = set(hand.committed)
    else:
        if hook:
            assert_hook_refuses(lab, hand)
        proc = git_commit(lab, hand, hooks=False)
        assert proc.returncode == 0, proc.stderr
        blamed = {lab.rev("HEAD") or ""}
    blamed |= set(hand.blame)
    if verify is True:
        assert_verify_blames(lab, hand.verify_args, blamed)
    elif verify is False:
        r = lab.ev("verify", *hand.verify_args)
        assert r.code == 0, r.out + r.err


# --- attacks with plain git --------------------------------------------------------------------

Setup = Callable[[Lab], Hand | None]


def on_ops(lab: Lab) -> None:
    lab.git("switch", "-q", OPS)


def tracked(lab: Lab, prefix: str, suffix: str) -> str:
    names = _git(lab.repo, "ls-tree", "-r", "--name-only", OPS, prefix).split()
    return next(n for n in names if n.endswith(suffix))


def add_file(path: str | Callable[[Lab], str],
             data: bytes | Callable[[Lab], bytes] = b"{}\n") -> Setup:
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        rel = path(lab) if callable(path) else path
        target = lab.repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data(lab) if callable(data) else data)
        lab.git("add", "-A")
        return Hand()
    return setup


def git_short_name(lab: Lab) -> Hand:
    """GIT~1/ under the evidence folder, added with git's NTFS guard turned off."""
    lab.git("config", "core.protectNTFS", "false")
    return add_file(f"{EVIDENCE}/GIT~1/notes.txt")(lab)


def change_file(prefix: str, suffix: str, *, delete: bool = False) -> Setup:
    """Append to (or delete) the first committed file under ``prefix`` ending in ``suffix``."""
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        rel = tracked(lab, prefix, suffix)
        if delete:
            lab.git("rm", "-q", "--", rel)
        else:
            with open(lab.repo / rel, "ab") as f:
                f.write(b"\nedited after the fact\n")
            lab.git("add", "--", rel)
        return Hand()
    return setup


def edit_doc(path: str, old: str, new: str, *, row: str = "") -> Setup:
    """Replace ``old`` with ``new`` in a document (only on the line starting with ``row``)."""
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        edit_text(lab, path, old, new, row=row)
        lab.git("add", "--", path)
        return Hand()
    return setup


def edit_text(lab: Lab, path: str, old: str, new: str, *, row: str = "") -> None:
    p = lab.repo / path
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, ln in enumerate(lines) if old in ln and ln.startswith(row)]
    assert hits, f"{old!r} not in {path}"
    lines[hits[0]] = lines[hits[0]].replace(old, new, 1)
    p.write_text("".join(lines), encoding="utf-8", newline="")


def record_copy(lab: Lab) -> bytes:
    return lab.show(OPS, tracked(lab, EVIDENCE, "090000Z.json"))


def record_twin(lab: Lab) -> str:
    return tracked(lab, EVIDENCE, "090000Z.json")[:-len(".json")] + ".JSON"


def reclose(edit: Callable[[Lab], None]) -> Setup:
    """The closure commit made again by hand from its own tree, after ``edit``."""
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        closure = lab.rev("HEAD") or ""
        lab.git("reset", "-q", "--soft", "HEAD~1")
        edit(lab)
        lab.git("add", "-A")
        return Hand(reuse=closure)
    return setup


def status_cells(value: str) -> Callable[[Lab], None]:
    def edit(lab: Lab) -> None:
        edit_text(lab, "IMPLEMENTATION_BACKLOG.md", "| CLOSED |", f"| {value} |", row="| MO-2 ")
        edit_text(lab, "PROJECT_DESIGN.md", "| CLOSED |", f"| {value} |", row="| MO-2 ")
    return edit


def append_description(lab: Lab) -> None:
    with open(lab.repo / DESCRIPTION, "a", encoding="utf-8") as f:
        f.write("\nReviewed and approved by the operator.\n")


ENTRY = ("\n## 2026-11-26 15:00 UTC — OPS — gateway note\n\n- Milestone: MO-2\n"
         "- Result: \x1b[31mall green\x1b[0m\n")
HAND_ROW = ("| 9 | 2026-11-26 | 20261126T\u202e100000Z | 1800 | 1 | 0.9 | 200 | 18 | qualifying "
            "| copied by hand |\n")


def append_entry(text: str) -> Setup:
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        with open(lab.repo / "SESSION_LOG.md", "a", encoding="utf-8") as f:
            f.write(text)
        lab.git("add", "SESSION_LOG.md")
        return Hand()
    return setup


def add_tracker_row(row: str) -> Setup:
    """A row appended by hand to the Step 1A Burn-In Tracker table (an allowed section)."""
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        p = lab.repo / "IMPLEMENTATION_BACKLOG.md"
        lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
        streak_line = next(i for i, ln in enumerate(lines) if ln.startswith("Consecutive"))
        last_row = max(i for i in range(streak_line) if lines[i].startswith("|"))
        lines.insert(last_row + 1, row)
        p.write_text("".join(lines), encoding="utf-8")
        lab.git("add", "--", p.name)
        return Hand()
    return setup


def src_edit(lab: Lab) -> None:
    (lab.repo / "src" / "broker" / "session.py").write_text("CLIENT_ID_RANGE = range(1, 99)\n")
    lab.git("add", "-A")


WIDE = CONFIG + '\n[scope]\nallowed_paths = ["**"]\nforbidden_paths = []\n'


def loose_left_side(lab: Lab) -> Hand:
    """A branch `loose` whose config allows everything; the range starts there."""
    lab.git("branch", "loose", "main")
    lab.commit_on("loose", {"evidencebot.toml": WIDE}, "2026-11-26T14:00:00Z")
    on_ops(lab)
    src_edit(lab)
    return Hand(verify_args=("--range", f"loose..{OPS}"))


def origin_main_first(lab: Lab) -> Hand:
    """origin/main holds the runbook's rules; the local main was loosened and not pushed."""
    remote = lab.tmp / "remote.git"
    _git(lab.tmp, "init", "-q", "--bare", str(remote))
    lab.git("remote", "add", "origin", str(remote))
    lab.git("push", "-q", "origin", "main")
    loose = lab.commit_on("main", {"evidencebot.toml": WIDE}, "2026-11-26T14:00:00Z")
    lab.git("switch", "-q", "-c", "ops/loose")
    src_edit(lab)
    return Hand(blame=(loose,))


def uppercase_ops_branch(lab: Lab) -> Hand:
    lab.git("switch", "-q", "-c", "OPS/evidence", OPS)
    src_edit(lab)
    return Hand()


# --- forgeries: self-consistent commits made by hand -------------------------------------------

def set_trailers(message: str, values: dict[str, str]) -> str:
    lines = message.rstrip("\n").split("\n")
    for i, line in enumerate(lines):
        key = line.split(":", 1)[0]
        if key in values:
            lines[i] = f"{key}: {values[key]}"
    return "\n".join(lines) + "\n"


def record_trailers(record: dict[str, Any], data: bytes) -> dict[str, str]:
    """What the trailer contract derives from a record (its bytes, metrics, times, code);
    `set_trailers` only rewrites the keys the message already has."""
    m = record["metrics"]
    return {"Burnin-Paper-Duration-Seconds": str(m["paper_duration_seconds"]),
            "Burnin-Filled-Orders": str(m["filled_orders"]),
            "Burnin-Symbol-Data-Availability-Ratio":
                repr(round(float(m["symbol_data_availability_ratio"]), 6)),
            "Burnin-Min-Bars-Per-Symbol": str(m["min_bars_per_symbol"]),
            "Code-Commit": record["code"]["commit"],
            "Evidence-Started-At": record["started_at"],
            "Evidence-Finished-At": record["finished_at"],
            "Evidence-Report-Sha256": record["report_sha256"],
            "Evidence-Record-Sha256": sha256(data)}


def forge_last_run(mutate: Callable[[Lab, dict[str, Any]], None], *,
                   rehash_report: bool = True) -> Setup:
    """Amend the last run commit: its record changed by ``mutate``, then every trailer made
    to agree with the record again (what a careful forger does)."""
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        message = lab.git("log", "-1", "--format=%B")
        path = next(ln.split(": ", 1)[1] for ln in message.splitlines()
                    if ln.startswith("Evidence-Record: "))
        record = json.loads((lab.repo / path).read_text(encoding="utf-8"))
        assert canonical_sha(record["report"]) == record["report_sha256"], "hash form changed"
        mutate(lab, record)
        if rehash_report:
            record["report_sha256"] = canonical_sha(record["report"])
        data = (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode()
        (lab.repo / path).write_bytes(data)
        lab.git("add", "--", path)
        lab.git("commit", "-q", "--amend", "--no-verify", "-F", "-",
                input=set_trailers(message, record_trailers(record, data)))
        return Hand(committed=(lab.rev("HEAD") or "",))
    return setup


def more_fills(lab: Lab, record: dict[str, Any]) -> None:
    record["metrics"]["filled_orders"] += 1  # the embedded report still says 2


def other_profile(lab: Lab, record: dict[str, Any]) -> None:
    record["report"]["profile"] = "uk_live"


def nine_minute_span(lab: Lab, record: dict[str, Any]) -> None:
    start = stamp(when(record["finished_at"]) - timedelta(minutes=9))
    record["started_at"] = record["report"]["started_at_utc"] = start


def moved_to_saturday(lab: Lab, record: dict[str, Any]) -> None:
    for key, rkey in (("started_at", "started_at_utc"), ("finished_at", "finished_at_utc")):
        moved = stamp(when(record[key]) - timedelta(days=4))  # Wed 25 -> Sat 21
        record[key] = record["report"][rkey] = moved


def unparseable_start(lab: Lab, record: dict[str, Any]) -> None:
    record["started_at"] = record["report"]["started_at_utc"] = "2026-13-45T99:99:99Z"


def code_off_main(lab: Lab, record: dict[str, Any]) -> None:
    record["code"]["commit"] = _side_commit(lab)


def _side_commit(lab: Lab) -> str:
    """A commit on a branch that never reached main (the code under test, say)."""
    lab.git("branch", "side", "main")
    sha = lab.commit_on("side", {"src/broker/session.py": "CLIENT_ID_RANGE = range(1, 9)\n"},
                        "2026-11-22T12:00:00Z")
    on_ops(lab)
    return sha


def amend_dates(date: str) -> Setup:
    """The last run commit, unchanged but for its author and committer dates."""
    def setup(lab: Lab) -> Hand:
        on_ops(lab)
        lab.git("commit", "-q", "--amend", "--no-verify", "--no-edit", f"--date={date}",
                date=date)
        return Hand(committed=(lab.rev("HEAD") or "",))
    return setup


def replay(lab: Lab, shas: list[str], parent: str | None,
           edit: Callable[[int, str], str] = lambda _i, m: m) -> list[str]:
    """Re-create ``shas`` (oldest first) on ``parent``: same trees, authors and dates,
    messages passed through ``edit``."""
    out: list[str] = []
    fmt = "%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
    for i, sha in enumerate(shas):
        tree, an, ae, ad, cn, ce, cd, msg = lab.git("log", "-1", f"--format={fmt}", sha
                                                     ).split("\x00")
        env = {**os.environ, "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae,
               "GIT_AUTHOR_DATE": ad, "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce,
               "GIT_COMMITTER_DATE": cd}
        args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
        parent = _git(lab.repo, *args, input=edit(i, msg.rstrip("\n") + "\n"), env=env).strip()
        out.append(parent)
    return out


def ops_commits(lab: Lab) -> list[str]:
    return lab.git("rev-list", "--reverse", f"main..{OPS}").split()


def orphan_closure(lab: Lab) -> Hand:
    """An orphan `ops/fake`: a root with main's tree (not main's commit), then the whole
    closed ops history replayed on it."""
    root = replay(lab, [lab.rev("main") or ""], None, lambda _i, m: m + "\nImported.\n")[0]
    assert root != lab.rev("main")
    chain = replay(lab, ops_commits(lab), root)
    lab.git("update-ref", "refs/heads/ops/fake", chain[-1])
    return Hand(committed=tuple(chain), blame=(root, ""),
                verify_args=("--range", f"{root}..ops/fake"))


def streak_by_recording_order(lab: Lab) -> Hand:
    """A non-qualifying run on day 4, then days 1-3 recorded later, each commit's
    Burnin-Streak counted in recording order (1/3, 2/3, 3/3)."""
    ok(lab.record(make_report("2026-11-26T10:00:00Z", filled=0)))
    for day in (23, 24, 25):
        ok(lab.record(make_report(f"2026-11-{day}T10:00:00Z")))
    shas = ops_commits(lab)
    forged = replay(lab, shas[1:], shas[0], lambda i, m: re.sub(
        r"Burnin-Streak: \d+/3", f"Burnin-Streak: {i + 1}/3", m))
    lab.git("update-ref", f"refs/heads/{OPS}", forged[-1])
    return Hand(committed=tuple(forged), verify_args=("--range", f"main..{OPS}"))


def block_after_scissors(lab: Lab) -> Hand:
    """The last run's commit re-made: its trailer block (what git reads) gains a second
    Evidence-Outcome and a key outside the contract, and a clean copy of the block follows
    a scissors line (which git's trailer parser stops at; found by an adversary: the copy
    was validated, git's block never)."""
    shas = ops_commits(lab)

    def edit(_i: int, m: str) -> str:
        block = m.rstrip("\n").rsplit("\n\n", 1)[1]
        return (f"{m.rstrip()}\nEvidence-Outcome: non-qualifying\nReviewed-By: nobody\n\n"
                f"# {'-' * 24} >8 {'-' * 24}\n{block}\n")
    forged = replay(lab, shas[-1:], shas[-2], edit)
    lab.git("update-ref", f"refs/heads/{OPS}", forged[-1])
    return Hand(committed=tuple(forged), verify_args=("--range", f"main..{OPS}"))


def merged_into_main(lab: Lab) -> Hand:
    before = lab.rev("main") or ""
    lab.git("switch", "-q", "main")
    lab.git("merge", "-q", "--no-ff", "--no-verify", OPS, "-m", "Merge branch 'ops/evidence'")
    return Hand(committed=(lab.rev("HEAD") or "",), verify_args=("--range", f"{before}..main"))


def plain_commit_under_hostile_config(lab: Lab) -> Hand:
    """A commit with no trailers that edits src/, and a work-tree config naming the ops
    branch as the base (so a verify that reads it would skip the commit)."""
    on_ops(lab)
    src_edit(lab)
    lab.git("commit", "-q", "--no-verify", "-m", "quick fix")
    (lab.repo / "evidencebot.toml").write_text(CONFIG.replace(
        "[ops]\n", f'[ops]\nbase = "{OPS}"\n', 1), encoding="utf-8")
    return Hand(committed=(lab.rev("HEAD") or "",))


# --- attacks through the CLI -----------------------------------------------------------------

def wait_until(ready: Callable[[], bool], timeout: float = 30) -> None:
    """Poll a condition the test controls (a handshake file), never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out waiting for the handshake"
        time.sleep(0.01)


def cli_subprocess(lab: Lab, *args: str, memory: int | None = None) -> Result:
    """`evidencebot` in a child process, killed if it hangs (a FIFO, a device)."""
    def limit() -> None:
        if memory:
            import resource  # POSIX only, like the attempts that use it

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    try:
        proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(lab.repo),
                               *args], capture_output=True, text=True, errors="replace",
                              timeout=5, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"evidencebot {' '.join(args)} hung")
    return Result(proc.returncode, proc.stdout, proc.stderr)


def close_refused(lab: Lab, count: int) -> None:
    tip = lab.rev(OPS)
    r = lab.ev("close", "MO-2", "--no-push")
    assert r.code == 1, r.out + r.err
    assert lab.rev(OPS) == tip
    assert streak(lab)["count"] == count


def older_runs_recorded_later(lab: Lab) -> None:
    ok(lab.record(make_report("2026-11-26T10:00:00Z", filled=0)))
    for day in (23, 24, 25):  # each qualifies on its own: only their place in time counts
        assert_recorded_as(lab.record(make_report(f"2026-11-{day}T10:00:00Z"), "--json"),
                           lab, "qualifying")
    close_refused(lab, 0)


def hand_row_between_runs(outcome: str, *, closes: bool) -> Callable[[Lab], None]:
    """A tracker row written by hand on main (Tue 24 12:00), runs on Mon, Wed and Thu."""
    def attempt(lab: Lab) -> None:
        row = (f"| 2 | 2026-11-24 | 20261124T120000Z | 1800 | {int(closes)} | 0.91 | 230 | 21 "
               f"| {outcome} | copied by hand |\n")
        first = "| copied by hand from the report |\n"
        lab.commit_on("main", {"IMPLEMENTATION_BACKLOG.md": BACKLOG.replace(first, first + row)},
                      "2026-11-20T13:00:00Z")
        for day in (23, 25, 26):
            lab.at(f"2026-11-{day}T09:30:00Z")
            ok(lab.run())
        lab.at(PINNED)
        if closes:
            ok(lab.ev("close", "MO-2", "--no-push"))
            now = streak(lab)
            assert (now["count"], now["closed"]) == (3, True)
        else:
            close_refused(lab, 2)
    return attempt


HAND_RUN = "20261124T120000Z"  # the run id of the hand-written rows below (Tue 24 12:00)


def hand_row(outcome: str) -> str:
    return (f"| 2 | 2026-11-24 | {HAND_RUN} | 1800 | 2 | 0.91 | 230 | 21 | {outcome} "
            "| copied by hand |\n")


def report_under_hand_row(lab: Lab) -> None:
    """A hand-written row says run 20261124T120000Z did not qualify; a report carrying that
    run id and claiming it qualified is refused (it would take the row's place in the
    timeline while the row stays). A report as strict as the row is recorded beside it."""
    first = "| copied by hand from the report |\n"
    lab.commit_on("main", {"IMPLEMENTATION_BACKLOG.md": BACKLOG.replace(
        first, first + hand_row("non-qualifying"))}, "2026-11-20T13:00:00Z")
    r = lab.record(make_report("2026-11-24T12:00:00Z"))
    assert_bad_input(r, lab, None, HAND_RUN)
    assert "hand-written row" in r.err
    assert_recorded_as(lab.record(make_report("2026-11-24T12:00:00Z", filled=0), "--json"),
                       lab, "non-qualifying")
    tracker = lab.show(OPS, "IMPLEMENTATION_BACKLOG.md").decode()
    assert tracker.count(HAND_RUN) == 1  # the row stands for the run; no second row
    ok(lab.ev("verify", "--range", f"main..{OPS}"))


def row_on_main(outcome: str) -> Callable[[Lab], None]:
    def add(lab: Lab) -> None:
        first = "| copied by hand from the report |\n"
        lab.commit_on("main", {"IMPLEMENTATION_BACKLOG.md": BACKLOG.replace(
            first, first + hand_row(outcome))}, "2026-11-20T13:00:00Z")
    return add


def record_around_row(outcome: str, *, moved: bool = False) -> Callable[[Lab], None]:
    """A hand-written row on Tue 24 12:00 whose Outcome cell says ``outcome``, qualifying
    runs on Mon, Wed and Thu: the row breaks the streak (2/3, close refused). ``moved``:
    then a report as strict as the row is recorded under its run id, dated Fri 20 (before
    every run): the row still breaks the streak where it falls."""
    def attempt(lab: Lab) -> None:
        row_on_main(outcome)(lab)
        for day in (23, 25, 26):
            ok(lab.record(make_report(f"2026-11-{day}T10:00:00Z")))
        if moved:
            early = make_report("2026-11-20T10:00:00Z", filled=0, run_id=HAND_RUN)
            assert_recorded_as(lab.record(early, "--json"), lab, "non-qualifying")
        close_refused(lab, 2)
        ok(lab.ev("verify", "--range", f"main..{OPS}"))
    return attempt


def hand_row_placed(cells: str, days: tuple[int, ...], count: int) -> Callable[[Lab], None]:
    """A non-qualifying row on main written as ``cells`` (between its # and its figures),
    then qualifying runs at 10:00 on ``days``: the streak is ``count``, close refused, and
    status says where the row breaks it."""
    def attempt(lab: Lab) -> None:
        first = "| copied by hand from the report |\n"
        row = f"| 2 | {cells} | 1800 | 0 | 0.91 | 230 | 21 | non-qualifying | by hand |\n"
        lab.commit_on("main", {"IMPLEMENTATION_BACKLOG.md": BACKLOG.replace(
            first, first + row)}, "2026-11-20T13:00:00Z")
        for day in days:
            ok(lab.record(make_report(f"2026-11-{day}T10:00:00Z")))
        close_refused(lab, count)
        ok(lab.ev("verify", "--range", f"main..{OPS}"))
        said = ok(lab.ev("status")).out
        assert ("breaks every streak" in said) == (count == 0), said
        assert "breaks the streak at 2026-11-24 23:59 UTC" in said or count == 0, said
    return attempt


def same_session_other_id(start: str) -> Callable[[Lab], None]:
    """A qualifying report for the session a hand-written row says failed (Tue 12:00 for
    1800 s), under another run id, starting at ``start`` inside it: the row's break falls
    at the session's end, after it."""
    def attempt(lab: Lab) -> None:
        same_start_other_id(lab, start)
    return attempt


def same_start_other_id(lab: Lab, start: str = "2026-11-24T12:00:00Z") -> None:
    """A qualifying report for the session a hand-written row says failed (Tue 12:00),
    under another run id: it starts when the row does, and the row's break comes after."""
    row_on_main("non-qualifying")(lab)
    ok(lab.record(make_report(start, run_id="tue-retry")))
    for day in (25, 26):
        ok(lab.record(make_report(f"2026-11-{day}T10:00:00Z")))
    close_refused(lab, 2)


def no_run_id_column(lab: Lab) -> None:
    """A tracker whose table has no 'Run ID' column names no run in any row: record
    refuses to write into it (exit 2)."""
    lab.commit_on("main", {"IMPLEMENTATION_BACKLOG.md": BACKLOG.replace(
        "| Run ID |", "| Run |", 1)}, "2026-11-20T13:00:00Z")
    r = lab.record(make_report("2026-11-24T10:00:00Z"))
    assert_bad_input(r, lab, None, "Run ID")


def backfill_without_its_trailer(lab: Lab) -> Hand:
    """The moved report above, its commit's Evidence-Tracker-Row trailer then cut: the
    hand-written row would read as the run's own and leave the timeline (3/3)."""
    record_around_row("non-qualifying", moved=True)(lab)
    on_ops(lab)
    message = lab.git("log", "-1", "--format=%B")
    assert "Evidence-Tracker-Row: hand-written\n" in message
    lab.git("commit", "-q", "--amend", "--no-verify", "-F", "-",
            input=message.replace("Evidence-Tracker-Row: hand-written\n", ""))
    assert streak(lab)["count"] == 3  # what the cut trailer would buy
    return Hand(committed=(lab.rev("HEAD") or "",), verify_args=("--range", f"main..{OPS}"))


def forged_run_over_hand_row(lab: Lab) -> Hand:
    """The same run made by hand: recorded as qualifying on a main without the row, then
    main given the row (non-qualifying, where the run's own row was) and the run commit
    replayed on it without its row, so that the row is the parent's hand-written one."""
    ok(lab.record(make_report("2026-11-24T12:00:00Z")))
    run = lab.rev(OPS) or ""
    path = "IMPLEMENTATION_BACKLOG.md"
    recorded = lab.show(run, path).decode()
    row = next(ln for ln in recorded.splitlines(keepends=True) if HAND_RUN in ln)
    as_hand = recorded.replace(row, row.replace("| qualifying |", "| non-qualifying |"))
    assert as_hand != recorded
    old_line = next(ln for ln in lab.show("main", path).decode().splitlines(keepends=True)
                    if ln.startswith("Consecutive qualifying runs:"))
    new_line = next(ln for ln in recorded.splitlines(keepends=True)
                    if ln.startswith("Consecutive qualifying runs:"))
    main = lab.commit_on("main", {path: as_hand.replace(new_line, old_line)},
                         "2026-11-20T13:00:00Z")
    lab.git("switch", "-q", "--detach", run)
    (lab.repo / path).write_text(as_hand, encoding="utf-8")
    lab.git("add", path)
    tree = lab.git("write-tree").strip()
    forged = lab.git("commit-tree", tree, "-p", main, "-F", "-",
                     input=lab.git("log", "-1", "--format=%B", run)).strip()
    lab.git("update-ref", f"refs/heads/{OPS}", forged)
    lab.git("switch", "-q", OPS)
    return Hand(committed=(forged,), verify_args=("--range", f"main..{OPS}"))


STREAK_AT = "Consecutive qualifying runs: {} of 3"


def streak_line_set(by: str) -> Setup:
    """The tracker's streak line made to read 3 of 3 after a non-qualifying run or a void
    of the last run (both 0 of 3): by a hand commit on top (``by`` "hand"), or inside the
    run's or the void's own commit ("run", "void"). The hook lets the line change; verify
    knows what it must say."""
    def setup(lab: Lab) -> Hand:
        if by == "void":
            ok(lab.ev("void", lab.trailers()["Evidence-Run-Id"], "--reason", "feed gap"))
        else:
            ok(lab.record(make_report("2026-11-26T10:00:00Z", filled=0)))
        said = STREAK_AT.format(0)
        assert said.encode() in lab.show(OPS, "IMPLEMENTATION_BACKLOG.md")
        on_ops(lab)
        edit_text(lab, "IMPLEMENTATION_BACKLOG.md", said, STREAK_AT.format(3))
        lab.git("add", "IMPLEMENTATION_BACKLOG.md")
        if by == "hand":
            return Hand()
        lab.git("commit", "-q", "--amend", "--no-edit", "--no-verify")
        return Hand(committed=(lab.rev("HEAD") or "",))
    return setup


def own_row_rewritten(lab: Lab) -> Hand:
    """A non-qualifying run's own commit re-made with its tracker row saying qualifying
    (two fills): the record and the trailers still say what happened."""
    ok(lab.record(make_report("2026-11-26T10:00:00Z", filled=0)))
    on_ops(lab)
    run_id = lab.trailers()["Evidence-Run-Id"]
    path = lab.repo / "IMPLEMENTATION_BACKLOG.md"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    k = next(i for i, ln in enumerate(lines) if f"| {run_id} |" in ln)
    cells = lines[k].split(" | ")
    lines[k] = " | ".join("qualifying" if c.startswith("non-qualifying") else
                          "2" if i == 4 else c for i, c in enumerate(cells))
    assert lines[k] != " | ".join(cells)
    path.write_text("".join(lines), encoding="utf-8", newline="")
    lab.git("add", "IMPLEMENTATION_BACKLOG.md")
    lab.git("commit", "-q", "--amend", "--no-edit", "--no-verify")
    return Hand(committed=(lab.rev("HEAD") or "",))


def hand_qualifying_row_does_not_count(lab: Lab) -> None:
    for day in (25, 26):
        lab.at(f"2026-11-{day}T09:30:00Z")
        ok(lab.run())
    lab.at(PINNED)
    close_refused(lab, 2)  # the hand-written 2026-11-16 row is not a third


def closure_never_reopened(lab: Lab) -> None:
    r = lab.record(make_report("2026-11-24T12:00:00Z", filled=0))  # inside the closed streak
    assert r.code == 0, r.err
    tip = lab.rev(OPS)
    again = lab.ev("close", "MO-2", "--no-push")  # publishes nothing verify would fail
    assert again.code == 1 and "(closure-contradicted)" in again.err and lab.rev(OPS) == tip
    assert streak(lab)["closed"] is True
    design = lab.show(OPS, "PROJECT_DESIGN.md").decode()
    assert "| CLOSED |" in next(ln for ln in design.splitlines() if ln.startswith("| MO-2 "))
    # The closure is not merged: its own branch now contradicts it, and its merge request
    # does not pass (once merged, a closure is never reopened: tests/test_close.py).
    v = lab.ev("verify", "--range", f"main..{OPS}")
    assert v.code == 1 and "(closure-contradicted)" in v.out


def overlapping_session(lab: Lab) -> None:
    tip = lab.rev(OPS)
    r = lab.record(make_report("2026-11-25T09:10:00Z"))  # Wed 09:00-09:30 is recorded
    assert_bad_input(r, lab, tip, "20261125T090000Z")


def same_report_other_run_id(lab: Lab) -> None:
    """Recorded, then main's config reads the run id from another field: the same report
    would back a second record."""
    ok(lab.record(make_report("2026-11-26T10:00:00Z")))
    tip = lab.rev(OPS)
    lab.commit_on("main", {"evidencebot.toml": CONFIG + '\n[report.fields]\nrun_id = "/profile"\n'},
                  "2026-11-26T14:00:00Z")
    assert_bad_input(lab.ev("record", lab.reports[-1]), lab, tip, "20261126T100000Z")


def recorded_non_qualifying(start: str, *hints: str, span: int = 1800) -> Callable[[Lab], None]:
    def attempt(lab: Lab) -> None:
        r = lab.record(make_report(start, span=span), "--json")
        assert_recorded_as(r, lab, "non-qualifying", *hints)
    return attempt


def hidden_change(flag: str, path: str) -> Callable[[Lab], None]:
    """A change to code under test that `git status` no longer shows."""
    def attempt(lab: Lab) -> None:
        with open(lab.repo / path, "a", encoding="utf-8") as f:
            f.write("PATCHED = True\n")
        lab.git("update-index", flag, path)
        assert lab.git("status", "--porcelain") == ""
        assert_recorded_as(lab.run("--json"), lab, "non-qualifying", "dirty")
        assert lab.trailers()["Code-Dirty"] == "true"
    return attempt


def untracked_script(lab: Lab) -> None:
    (lab.repo / "scripts" / "hotfix.ps1").write_text("Write-Host patched\n", encoding="utf-8")
    assert_recorded_as(lab.run("--json"), lab, "non-qualifying", "dirty")
    assert lab.trailers()["Code-Dirty"] == "true"


def head_not_on_main(lab: Lab) -> None:
    lab.git("branch", "feature", "main")
    head = lab.commit_on("feature", {"src/broker/session.py": "CLIENT_ID_RANGE = range(1, 9)\n"},
                         "2026-11-26T14:00:00Z")
    assert_recorded_as(lab.run("--json"), lab, "non-qualifying",
                       f"code {head[:7]} was not on main when the run started")
    assert lab.trailers()["Code-Commit"] == head


def record_after_the_fact(lab: Lab) -> None:
    first = lab.rev("main")
    lab.commit_on("main", {"README.md": "# Gilt Street Paper Bot\n\nNotes.\n"},
                  "2026-11-25T12:00:00Z")
    lab.git("branch", "feature", "main")
    lab.commit_on("feature", {"src/broker/session.py": "CLIENT_ID_RANGE = range(1, 9)\n"},
                  "2026-11-26T14:00:00Z")
    (lab.repo / "backtest" / "replay.py").write_text("def replay(bars):\n    return []\n")
    r = lab.record(make_report("2026-11-24T10:00:00Z"))
    assert r.code == 0, r.err
    t = lab.trailers()
    assert (t["Code-Commit"], t["Code-Dirty"]) == (first, "unknown")


def code_state_from_report(lab: Lab) -> None:
    cfg = CONFIG + '\n[report.fields]\ncode_commit = "/code/commit"\ncode_dirty = "/code/dirty"\n'
    head = lab.commit_on("main", {"evidencebot.toml": cfg}, "2026-11-21T12:00:00Z")
    doc = make_report("2026-11-24T10:00:00Z")
    doc["code"] = {"commit": head, "dirty": True}
    assert_recorded_as(lab.record(doc, "--json"), lab, "non-qualifying", "dirty")
    t = lab.trailers()
    assert (t["Code-Commit"], t["Code-Dirty"]) == (head, "true")


def pinned_clock_not_allowed(*, work_tree_says_yes: bool) -> Callable[[Lab], None]:
    def attempt(lab: Lab) -> None:
        plain = CONFIG.replace("allow_pinned_clock = true\n", "")
        lab.commit_on("main", {"evidencebot.toml": plain}, "2026-11-21T12:00:00Z")
        if work_tree_says_yes:
            (lab.repo / "evidencebot.toml").write_text(CONFIG, encoding="utf-8")
        r = lab.record(make_report("2026-11-24T10:00:00Z"))
        assert_bad_input(r, lab, None, "EVIDENCEBOT_NOW")
    return attempt


def second_runner(lab: Lab) -> None:
    state = lab.repo / "state"
    first = subprocess.Popen(
        [sys.executable, "-m", "evidencebot", "--repo", str(lab.repo), "run", "--skip-checks",
         "--no-push"], env={**os.environ, "ADV_WRAPPER": "block"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: (state / "started").exists() or first.poll() is not None)
        assert first.poll() is None, "the first run ended before its wrapper started"
        tip = lab.rev(OPS)
        r = lab.run(mode="block")
        assert r.code == 3, r.out + r.err
        m = re.search(r"another run is in progress \(pid (\d+), since \d\d:\d\d UTC\)", r.err)
        assert m and int(m.group(1)) == first.pid, r.err
        assert len(r.err.strip().splitlines()) == 1
        assert lab.rev(OPS) == tip
        assert (state / "invocations").read_text().splitlines() == ["block"]
    finally:
        (state / "release").touch()
        first.communicate(timeout=60)


def new_commits(lab: Lab, since: str | None) -> list[str]:
    return lab.git("rev-list", f"{since}..{OPS}").split() if since else []


def three_failures_one_minute(lab: Lab) -> None:
    tip = lab.rev(OPS)
    for second in ("05", "25", "45"):
        lab.at(f"2026-11-26T15:00:{second}Z")
        ok(lab.run("--paper-duration-seconds", "1", "--timeout-seconds", "1.3", mode="hang"), 4)
    packets = {lab.trailers(c).get("Handoff") for c in new_commits(lab, tip)}
    assert len(packets) == 3 and None not in packets, packets
    tree = set(lab.git("ls-tree", "-r", "--name-only", OPS, "reports/handoffs").split())
    assert packets <= tree


def three_refusals_one_second(lab: Lab) -> None:
    """Three refused sessions at 15:00:00 for three different reasons."""
    state = lab.repo / "state"
    state.mkdir()
    tip = lab.rev(OPS)
    switch = state / "kill_switch.json"
    for prepare in (lambda: None, lambda: switch.write_text('{"active": true}'),
                    lambda: (switch.unlink(), (state / "health.out").write_text("{}"))):
        prepare()
        r = lab.ev("run", "--no-push")
        assert r.code == 3, r.out + r.err
    commits = new_commits(lab, tip)
    added = lab.git("diff", "--name-only", "--diff-filter=A", f"{tip}..{OPS}", "--",
                    "reports/evidence/checks").split()
    assert len(commits) == 3 and len(added) == 3, (commits, added)


def repeated_refusal(lab: Lab) -> None:
    """A scheduler firing after the window closed, twice the same day."""
    lab.at("2026-11-26T16:10:00Z")
    ok(lab.ev("run", "--no-push"), 3)
    first = lab.rev(OPS) or ""
    lab.at("2026-11-26T16:20:00Z")
    r = lab.ev("run", "--no-push")
    assert r.code == 3, r.out + r.err
    assert lab.rev(OPS) == first
    assert first[:7] in r.err


def code_bug_without_gateway(mode: str) -> Callable[[Lab], None]:
    """The gateway was never seen alive (no checks ran, nothing listens): a traceback is a
    code bug with its DEBUG packet, market-data code or not."""
    def attempt(lab: Lab) -> None:
        r = lab.run(mode=mode)
        assert r.code == 4, r.out + r.err
        t = lab.trailers()
        assert t["Evidence-Outcome"] == "failed-code", t
        assert lab.show(OPS, t["Handoff"]).startswith(b"# Handoff")
    return attempt


MIB = 1024 * 1024


def report_bytes(edit: Callable[[dict[str, Any]], None] = lambda d: None,
                 raw: tuple[str, str] = ("", "")) -> bytes:
    """A Tue 24 10:00 report after ``edit``; ``raw`` swaps a placeholder for raw JSON text."""
    doc = make_report("2026-11-24T10:00:00Z")
    edit(doc)
    text = json.dumps(doc, indent=2)
    return (text.replace(json.dumps(raw[0]), raw[1]) if raw[0] else text).encode()


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


BAD_REPORTS: dict[str, Callable[[], bytes]] = {
    "over-16-mib": lambda: report_bytes().ljust(16 * MIB + 1, b" "),
    "run-id-with-trailing-newline": lambda: report_bytes(
        lambda d: d.update(run_id="20261124T100000Z\n")),
    "5000-digit-number": lambda: report_bytes(lambda d: d.update(extra="@big"),
                                              ("@big", "9" * 5000)),
    "count-beyond-64-bits": lambda: report_bytes(lambda d: d["orders"].update(filled=2 ** 64)),
    # a float is no count, but the bars' minimum is taken whole: 1e19 would be a 20-digit
    # Burnin-Min-Bars-Per-Symbol that verify then reads as no record at all
    "bars-float-beyond-64-bits": lambda: report_bytes(
        lambda d: d["preflight_bars_per_symbol"].update(
            dict.fromkeys(d["preflight_bars_per_symbol"], 1e19))),
    "nan-inside-bars": lambda: report_bytes(
        lambda d: d["preflight_bars_per_symbol"].update({"BARC.L": float("nan")})),
    "infinity-in-an-unmapped-field": lambda: report_bytes(
        lambda d: d.update(latency_ms=float("-inf"))),
    "nesting-80-deep": lambda: report_bytes(lambda d: d.update(extra=nested(80))),
    "nesting-100000-deep": lambda: report_bytes(lambda d: d.update(extra="@deep"),
                                                ("@deep", "[" * 100_000 + "]" * 100_000)),
    "year-0": lambda: report_bytes(lambda d: d.update(started_at_utc="0000-11-24T10:00:00Z")),
    "year-10000": lambda: report_bytes(
        lambda d: d.update(finished_at_utc="10000-11-24T10:30:00Z")),
}


def bad_report(name: str) -> Callable[[Lab], None]:
    def attempt(lab: Lab) -> None:
        r = lab.record(BAD_REPORTS[name]())
        assert_bad_input(r, lab, None, lab.reports[-1].name)
    return attempt


def fifo_report(lab: Lab) -> None:
    fifo = lab.tmp / "report.fifo"
    os.mkfifo(fifo)
    assert_bad_input(cli_subprocess(lab, "record", str(fifo)), lab, None, fifo.name)


def device_report(lab: Lab) -> None:
    r = cli_subprocess(lab, "record", "/dev/zero", memory=512 * MIB)
    assert_bad_input(r, lab, None, "/dev/zero")


def check_now(now: str) -> Callable[[Lab], None]:
    def attempt(lab: Lab) -> None:
        assert_bad_input(lab.ev("check", "--now", now), lab, None, now[:10])
    return attempt


def reversed_client_ids(lab: Lab) -> None:
    cfg = CONFIG.replace("[ibkr]\n", "[ibkr]\nclient_id_range = [26, 17]\n")
    lab.commit_on("main", {"evidencebot.toml": cfg}, "2026-11-21T12:00:00Z")
    assert_bad_input(lab.run(), lab, None, "client_id_range")
    assert not (lab.repo / "state" / "invocations").exists()


def two_tracker_sections(lab: Lab) -> None:
    tracker = BACKLOG[BACKLOG.index("## Step 1A Burn-In Tracker"):BACKLOG.index("## Later")]
    backlog = BACKLOG.replace("## Later", tracker + "## Later")
    lab.commit_on("main", {"IMPLEMENTATION_BACKLOG.md": backlog}, "2026-11-20T13:00:00Z")
    assert_bad_input(lab.record(make_report("2026-11-24T10:00:00Z")), lab, None,
                     "Step 1A Burn-In Tracker")


def malformed_record(lab: Lab) -> Hand:
    """A run commit whose record (and embedded report) has an impossible start time."""
    hand = forge_last_run(unparseable_start)(lab)
    assert hand is not None
    sha = hand.committed[0]
    for command in ("history", "status"):
        r = lab.ev(command)
        assert r.code == 0 and "Traceback" not in r.out + r.err, r.out + r.err
    entries = json.loads(lab.ev("--json", "history").out)["entries"]
    assert next(e for e in entries if e["commit"] == sha)["problems"], "history: no finding"
    assert sha in json.loads(lab.ev("--json", "status").out)["malformed"], "status: no finding"
    return hand


def hostile_wrapper_log(lab: Lab) -> None:
    lab.mp.setenv("ADV_HOSTILE", HOSTILE)
    r = lab.run(mode="hostile")
    assert r.code == 4, r.out + r.err
    t = lab.trailers()
    assert t["Evidence-Outcome"] == "failed-code" and t.get("Handoff"), t
    packet = lab.show(OPS, t["Handoff"]).decode("utf-8", "replace")
    fences = [tok.content for tok in MarkdownIt("commonmark").parse(packet) if tok.type == "fence"]
    assert any("FENCE-MARKER" in c for c in fences), "the log broke out of its fence"
    assert_neutralised(lab, r.out, r.err)


def hostile_report(lab: Lab) -> None:
    doc = make_report("2026-11-24T10:00:00Z", filled=0)
    doc["profile"] = HOSTILE
    doc["failure_reasons"] = [HOSTILE, "| " + HOSTILE]
    doc["ibkr_messages"].append({"code": 2104, "message": HOSTILE})
    log = lab.tmp / "hostile.log"
    log.write_text(HOSTILE + "\n", encoding="utf-8")
    r = lab.record(doc, "--log", str(log))
    assert r.code == 0, r.err
    assert_neutralised(lab, r.out, r.err)


def hostile_health(lab: Lab) -> None:
    (lab.repo / "state").mkdir()
    (lab.repo / "state" / "health.out").write_text(
        json.dumps({"healthy": False, "checks": [{"name": HOSTILE, "ok": False}]}))
    r = lab.ev("run", "--no-push")
    assert r.code == 3, r.out + r.err
    assert lab.trailers()["Evidence-Kind"] == "check"
    assert_neutralised(lab, r.out, r.err)


def broken_work_tree_config(lab: Lab) -> None:
    on_ops(lab)
    (lab.repo / "evidencebot.toml").write_text("[[[ not toml\n", encoding="utf-8")
    r = lab.ev("verify")
    assert r.code == 0, r.out + r.err


# --- the table ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    id: str
    rule: int
    description: str
    setup: Callable[[Lab], Hand | None]  # a Hand: judged by run_hand; None: asserted inside
    expect_hook: bool | None = None  # True: `git commit` with the hooks exits 1
    expect_verify: bool | None = None  # True: verify exits 1 blaming it; False: exits 0
    base: str = "three"  # the template: bare | three | closed
    gap: str = ""  # what is missing today (the xfail reason); empty when already blocked
    needs: str = ""  # "posix" (FIFOs, devices, any file name) or "case-sensitive-fs"


A = Attempt
GIT = {"expect_hook": True, "expect_verify": True}
NAMES = {**GIT, "needs": "posix"}  # file names only a POSIX file system can hold
TWINS = {**GIT, "needs": "case-sensitive-fs"}

ATTEMPTS: list[Attempt] = [
    # 1. order by start time; hand-written rows; closures stay closed
    A("r1-older-runs-recorded-later", 1, "a non-qualifying run on Thu 10:00, then Mon-Wed "
      "qualifying runs recorded after it: the streak stays 0, close is refused",
      older_runs_recorded_later, base="bare"),
    A("r1-hand-non-qualifying-row-breaks-streak", 1, "a hand-written non-qualifying row on Tue "
      "between runs on Mon, Wed, Thu: streak 2, close refused",
      hand_row_between_runs("non-qualifying", closes=False), base="bare"),
    A("r1-hand-qualifying-row-neither-counts-nor-breaks", 1, "a hand-written qualifying row on "
      "Tue between runs on Mon, Wed, Thu: streak 3, close succeeds",
      hand_row_between_runs("qualifying", closes=True), base="bare"),
    A("r1-hand-qualifying-row-is-not-a-third-run", 1, "two runs and the hand-written qualifying "
      "row of 16 Nov: close is refused at 2/3", hand_qualifying_row_does_not_count, base="bare"),
    A("r1-report-under-hand-non-qualifying-row-refused", 1, "a report claiming the run of "
      "a hand-written non-qualifying row qualified is refused; a report as strict is "
      "recorded", report_under_hand_row, base="bare"),
    A("r1-row-moved-by-a-record-under-its-run-id", 1, "a non-qualifying report recorded "
      "under a hand-written non-qualifying row's run id but dated days earlier: the row "
      "still breaks the streak where it stands (2/3)",
      record_around_row("non-qualifying", moved=True), base="bare"),
    A("r1-backfill-trailer-cut", 1, "the same, its Evidence-Tracker-Row trailer cut by "
      "hand: verify blames it", backfill_without_its_trailer, expect_verify=True,
      base="bare"),
    A("r1-hand-row-without-run-id", 1, "a non-qualifying hand-written row with no run id "
      "and no day: it breaks every streak (0/3)", hand_row_placed(" | ", (23, 25, 26), 0),
      base="bare"),
    A("r1-hand-row-date-in-bold", 1, "a non-qualifying hand-written row dated "
      "'**2026-11-24**' with no stamp: it cannot be placed and breaks every streak",
      hand_row_placed("**2026-11-24** | tue-desk", (23, 25, 26), 0), base="bare"),
    A("r1-hand-row-stamped-year-1", 1, "a non-qualifying hand-written row with no day "
      "whose run id is the stamp 00011124T120000Z: no time this century, it breaks every "
      "streak", hand_row_placed(" | 00011124T120000Z", (23, 25, 26), 0), base="bare"),
    A("r1-hand-row-known-by-its-day", 1, "a non-qualifying hand-written row known only by "
      "its day (Tue 24): it breaks the streak after Tue 10:00's run, not before",
      hand_row_placed("2026-11-24 | tue-desk", (24, 25, 26), 2), base="bare"),
    A("r1-same-session-under-another-id", 1, "a qualifying report under another id starting "
      "when a hand-written non-qualifying row's session does: the row's break comes after",
      same_start_other_id, base="bare"),
    A("r1-same-session-a-second-later", 1, "the same, starting a second into the row's "
      "1800 s session: the row's break falls at the session's end",
      same_session_other_id("2026-11-24T12:00:01Z"), base="bare"),
    A("r1-hand-row-stamp-before-its-day", 1, "a non-qualifying hand-written row dated Tue 24 "
      "whose run id is the stamp 20001124T120000Z: stamp and day disagree, the later counts",
      hand_row_placed("2026-11-24 | 20001124T120000Z", (23, 25, 26), 2), base="bare"),
    A("r1-tracker-without-run-id-column", 1, "record into a tracker table with no 'Run ID' "
      "column is refused (exit 2)", no_run_id_column, base="bare"),
    A("r1-hand-row-outcome-in-bold", 1, "a hand-written row whose Outcome reads "
      "'**non-qualifying**' breaks the streak (2/3)", record_around_row("**non-qualifying**"),
      base="bare"),
    A("r1-hand-row-outcome-not-qualifying", 1, "a hand-written row whose Outcome reads "
      "'not qualifying' (no word the rules know) breaks the streak (2/3)",
      record_around_row("not qualifying"), base="bare"),
    A("r1-forged-run-over-hand-non-qualifying-row", 1, "the same run committed by hand over "
      "the row: verify blames it", forged_run_over_hand_row, expect_verify=True, base="bare"),
    A("r1-closure-never-reopened", 1, "an older non-qualifying run recorded inside the closed "
      "streak: MO-2 stays CLOSED, close adds nothing, verify blames the unmerged closure's "
      "branch", closure_never_reopened,
      base="closed"),
    # 2. one session, one report, one record path
    A("r2-overlapping-session-refused", 2, "a run overlapping Wed 09:00-09:30 is refused "
      "(exit 2, naming the first run), nothing committed", overlapping_session),
    A("r2-same-report-under-another-run-id", 2, "the same report recorded again once main's "
      "config reads its run id from another field: exit 2", same_report_other_run_id),
    A("r2-record-copy-under-another-name", 2, "a recorded run's record committed again by hand "
      f"as {EVIDENCE}/copy.json", add_file(f"{EVIDENCE}/copy.json", record_copy),
      expect_verify=True),
    # 3. the window, for `record` too
    A("r3-saturday-run", 3, "a report of a Saturday run is recorded as non-qualifying",
      recorded_non_qualifying("2026-11-21T10:00:00Z", "window", "saturday"), base="bare"),
    A("r3-run-starting-0720", 3, "a run starting 07:20 UTC is recorded as non-qualifying",
      recorded_non_qualifying("2026-11-24T07:20:00Z", "window", "07:20"), base="bare"),
    A("r3-run-ending-after-1600", 3, "a run 15:45-16:15 UTC is recorded as non-qualifying",
      recorded_non_qualifying("2026-11-24T15:45:00Z", "window", "16:"), base="bare"),
    A("r3-bank-holiday-run", 3, "a run on the summer bank holiday (Mon 31 Aug) is recorded as "
      "non-qualifying", recorded_non_qualifying("2026-08-31T10:00:00Z", "window", "holiday"),
      base="bare"),
    # 4. the report's own timestamps bound its claimed duration
    A("r4-claimed-1800-s-spans-9-minutes", 4, "a report claiming 1800 s whose timestamps span "
      "9 minutes is recorded as non-qualifying",
      recorded_non_qualifying("2026-11-26T10:00:00Z", "duration", "span", span=540),
      base="bare"),
    # 5. the code under test
    A("r5-skip-worktree-hides-a-code-change", 5, "src/ edited and hidden with update-index "
      "--skip-worktree: `run` records Code-Dirty: true",
      hidden_change("--skip-worktree", "src/broker/session.py")),
    A("r5-assume-unchanged-hides-a-code-change", 5, "main.py edited and hidden with "
      "update-index --assume-unchanged: `run` records Code-Dirty: true",
      hidden_change("--assume-unchanged", "main.py")),
    A("r5-untracked-file-under-scripts", 5, "an untracked, not ignored scripts/hotfix.ps1: "
      "`run` records Code-Dirty: true", untracked_script),
    A("r5-head-not-on-main", 5, "`run` from a feature commit that is not on main: "
      "non-qualifying, 'code <sha> is not on main'", head_not_on_main),
    A("r5-late-record-uses-main-as-of-its-start", 5, "a Tue report recorded on Thu from a "
      "dirty feature branch: Code-Commit is main as of Tue, Code-Dirty: unknown",
      record_after_the_fact, base="bare"),
    A("r5-late-record-takes-code-state-from-report", 5, "[report.fields] code_commit and "
      "code_dirty map the report's own code state (dirty: non-qualifying)",
      code_state_from_report, base="bare"),
    A("r5-forged-code-commit-off-main", 5, "a run commit whose record and trailer name a "
      "commit that never reached main", forge_last_run(code_off_main, rehash_report=False),
      expect_verify=True),
    # 6. the pinned clock and time travel
    A("r6-pinned-clock-without-opt-in", 6, "EVIDENCEBOT_NOW while main's config has no "
      "[ops] allow_pinned_clock: exit 2", pinned_clock_not_allowed(work_tree_says_yes=False),
      base="bare"),
    A("r6-pinned-clock-opt-in-only-in-work-tree", 6, "allow_pinned_clock in the work tree's "
      "config only: exit 2", pinned_clock_not_allowed(work_tree_says_yes=True), base="bare"),
    A("r6-commit-dated-in-the-future", 6, "the last run commit re-dated a day ahead of now",
      amend_dates("2026-11-27T15:00:00Z"), expect_verify=True),
    A("r6-record-committed-before-its-run-finished", 6, "the last run commit dated 09:20 for "
      "a run that finished 09:30", amend_dates("2026-11-25T09:20:00Z"), expect_verify=True),
    # 7. verify re-derives; status cells; control and format characters
    A("r7-record-metrics-differ-from-its-report", 7, "record and trailers say 3 fills, the "
      "embedded report says 2", forge_last_run(more_fills, rehash_report=False),
      expect_verify=True),
    A("r7-report-sha256-stale", 7, "the embedded report edited, report_sha256 left as it was",
      forge_last_run(other_profile, rehash_report=False), expect_verify=True),
    A("r7-qualifying-outcome-on-a-9-minute-span", 7, "a self-consistent record of a 9-minute "
      "run claiming 1800 s, outcome qualifying", forge_last_run(nine_minute_span),
      expect_verify=True),
    A("r7-qualifying-outcome-on-a-saturday", 7, "a self-consistent record of a Saturday run, "
      "outcome qualifying", forge_last_run(moved_to_saturday), expect_verify=True),
    A("r7-streak-trailers-in-recording-order", 7, "runs recorded out of time order whose "
      "Burnin-Streak trailers count 1/3, 2/3, 3/3 in recording order",
      streak_by_recording_order, expect_verify=True, base="bare"),
    A("r14-a-second-trailer-block-after-a-scissors-line", 14, "a run commit whose trailer "
      "block holds a second outcome, and a clean copy follows a scissors line",
      block_after_scissors, expect_verify=True),
    A("r7-own-tracker-row-rewritten", 7, "a non-qualifying run's commit re-made with its "
      "tracker row saying qualifying", own_row_rewritten, expect_verify=True),
    A("r7-streak-line-set-by-hand", 7, "a hand commit after a non-qualifying run sets the "
      "tracker's streak line to 3 of 3", streak_line_set("hand"), expect_verify=True),
    A("r7-streak-line-forged-in-a-run-commit", 7, "a non-qualifying run's own commit says "
      "3 of 3 on the streak line (its Burnin-Streak: 0/3)", streak_line_set("run"),
      expect_verify=True),
    A("r7-streak-line-forged-in-a-void-commit", 7, "a void's own commit leaves the streak "
      "line at 3 of 3", streak_line_set("void"), expect_verify=True),
    A("r7-closure-description-edited", 7, f"the closure re-made with a line added to "
      f"{DESCRIPTION}", reclose(append_description), expect_verify=True, base="closed"),
    A("r7-status-bold-closed", 7, "the closure re-made with MO-2's Status '**CLOSED**'",
      reclose(status_cells("**CLOSED**")), **GIT, base="closed"),
    A("r7-status-closed-with-zero-width-space", 7, "the closure re-made with MO-2's Status "
      "'CLOSED' + U+200B", reclose(status_cells("CLOSED\u200b")), **GIT, base="closed"),
    A("r7-escape-sequence-in-session-log", 7, "an OPS entry whose field holds ESC [31m",
      append_entry(ENTRY), **GIT),
    A("r7-rtl-override-in-tracker-row", 7, "a tracker row whose run id holds U+202E",
      add_tracker_row(HAND_ROW), **GIT),
    A("r7-bidi-isolate-in-design-evidence-cell", 7, "MO-3's Evidence cell in §9 wrapped in "
      "U+2066 .. U+2069", edit_doc("PROJECT_DESIGN.md", "| OPEN | — |",
                                   "| OPEN | \u2066tax pack\u2069 |"), **GIT),
    A("r7-next-line-control-in-mo-status-note", 7, "MO-3's Note cell in MO-* Status ends in "
      "U+0085 (C1)", edit_doc("IMPLEMENTATION_BACKLOG.md", "| 2026-10-28 | |",
                              "| 2026-10-28 | draft\u0085 |"), **GIT),
    # 8. ranges: descent from main; rules from the configured base
    A("r8-orphan-ops-branch-with-mo2-closed", 8, "an orphan ops/fake replaying the closed "
      "history, verified as --range <its root>..ops/fake", orphan_closure,
      expect_verify=True, base="closed"),
    A("r8-range-starting-at-a-looser-config", 8, "verify --range loose..ops/evidence, where "
      "loose allows every path, over a src/ edit", loose_left_side, **GIT),
    A("r8-origin-main-rules-beat-a-loosened-local-main", 8, "local main loosened and not "
      "pushed; a src/ edit on ops/loose: hook and verify judge by origin/main",
      origin_main_first, **GIT),
    # 9. evidence paths and immutability
    A("r9-script-under-evidence", 9, "a .ps1 file under the evidence folder",
      add_file(f"{EVIDENCE}/fix.ps1", b"Write-Host patched\n"), **GIT),
    A("r9-dotfile-under-evidence", 9, "a dotfile under the evidence folder",
      add_file(f"{EVIDENCE}/.notes.json"), **GIT),
    A("r9-name-with-trailing-dot", 9, "an evidence name ending in '.'",
      add_file(f"{EVIDENCE}/notes.txt."), **NAMES),
    A("r9-name-with-trailing-space", 9, "an evidence name ending in ' '",
      add_file(f"{EVIDENCE}/notes.txt "), **NAMES),
    A("r9-name-with-zero-width-joiner", 9, "an evidence name starting with U+200D (it "
      "reads as another file's name)", add_file(f"{EVIDENCE}/\u200dnotes.txt"), **GIT),
    A("r9-name-with-bidi-override", 9, "an evidence name holding U+202E (it reads "
      "backwards)", add_file(f"{EVIDENCE}/notes\u202etxt.json"), **GIT),
    A("r9-folder-named-like-git-short-name", 9, "a folder GIT~1 under the evidence folder "
      "(Windows' short name for .git; git refuses to add it, a hand-made tree holds it)",
      git_short_name, **NAMES),
    A("r9-name-with-colon", 9, "an evidence name with ':' (an NTFS stream)",
      add_file(f"{EVIDENCE}/notes:stream.txt"), **NAMES),
    A("r9-reserved-device-name-nul-json", 9, "reports/evidence/NUL.json",
      add_file("reports/evidence/NUL.json"), **NAMES),
    A("r9-reserved-device-name-folder", 9, "a folder named con under reports/evidence",
      add_file("reports/evidence/con/notes.txt"), **NAMES),
    A("r9-control-character-in-name", 9, "an evidence name holding ESC [2J",
      add_file(f"{EVIDENCE}/notes\x1b[2J.txt"), **NAMES),
    A("r9-case-twin-of-a-record", 9, "<run-id>.JSON next to <run-id>.json",
      add_file(record_twin, record_copy), **TWINS),
    A("r9-case-twin-of-the-evidence-folder", 9, "reports/evidence/Step1A/ next to step1a/",
      add_file("reports/evidence/Step1A/notes.txt"), **TWINS),
    A("r9-conftest-under-evidence", 9, "reports/evidence/conftest.py",
      add_file("reports/evidence/conftest.py", b"import os\n"), **GIT),
    A("r9-handoff-packet-modified", 9, "a committed handoff packet edited",
      change_file("reports/handoffs", ".md"), **GIT),
    A("r9-handoff-packet-deleted", 9, "a committed handoff packet deleted",
      change_file("reports/handoffs", ".md", delete=True), **GIT),
    A("r9-run-log-modified", 9, "a committed run log edited", change_file(EVIDENCE, ".log"),
      **GIT),
    A("r9-check-record-modified", 9, "a committed check record edited",
      change_file("reports/evidence/checks", ".json"), **GIT),
    A("r9-milestone-description-deleted", 9, f"{DESCRIPTION} deleted after the closure",
      change_file("reports/evidence/milestones", ".md", delete=True), **GIT, base="closed"),
    # 10-13. one runner; names from run ids; repeated refusals; failure classification
    A("r10-second-run-exits-3-at-once", 10, "a second `run` while the first one's wrapper is "
      "running: exit 3 naming the first (pid, since), nothing run or recorded", second_runner),
    A("r11-three-failures-in-one-minute", 11, "three timed-out runs in one minute leave three "
      "handoff packets", three_failures_one_minute),
    A("r11-three-refusals-in-one-second", 11, "three refused sessions in one second (three "
      "reasons) leave three check records, each exit 3", three_refusals_one_second),
    A("r12-repeated-refusal-adds-no-commit", 12, "the same refusal at 16:10 and 16:20: the "
      "second exits 3, adds no commit and names the first", repeated_refusal),
    A("r13-dead-gateway-never-seen-alive", 13, "a traceback with no gateway ever seen alive "
      "is failed-code with a DEBUG packet, not infra", code_bug_without_gateway("traceback")),
    A("r13-traceback-beats-market-data-code", 13, "a traceback after error 354 is failed-code "
      "with a DEBUG packet", code_bug_without_gateway("traceback-md")),
    # 14. bad input never crashes
    *[A(f"r14-report-{name}", 14, f"record a report: {name.replace('-', ' ')}: exit 2, one line, "
        "nothing written", bad_report(name), base="bare")
      for name in BAD_REPORTS],
    A("r14-report-is-a-fifo", 14, "record a FIFO: exit 2 without reading it (no hang)",
      fifo_report, base="bare", needs="posix"),
    A("r14-report-is-a-device", 14, "record /dev/zero: exit 2 without reading it",
      device_report, base="bare", needs="posix"),
    A("r14-check-now-9999-12-31", 14, "check --now 9999-12-31T23:59:59Z: exit 2",
      check_now("9999-12-31T23:59:59Z"), base="bare"),
    A("r14-check-now-0001-01-01", 14, "check --now 0001-01-01T00:00:00Z: exit 2",
      check_now("0001-01-01T00:00:00Z"), base="bare"),
    A("r14-reversed-client-id-range", 14, "[ibkr] client_id_range = [26, 17] on main: `run` "
      "exits 2, the wrapper never starts", reversed_client_ids, base="bare"),
    A("r14-backlog-with-two-tracker-sections", 14, "a backlog with two Step 1A Burn-In "
      "Tracker sections: record exits 2", two_tracker_sections, base="bare"),
    A("r14-malformed-record-is-a-finding", 14, "a run commit whose record starts at "
      "2026-13-45T99:99:99Z: history and status name it, verify blames it",
      malformed_record, expect_verify=True),
    # 15. hostile text
    A("r15-hostile-wrapper-log", 15, "OSC 8, CSI, C1, '|', <script> and a backtick run in the "
      "wrapper's output of a failed run", hostile_wrapper_log),
    A("r15-hostile-report-text", 15, "the same text in a report's profile, failure_reasons, "
      "IBKR messages and log", hostile_report, base="bare"),
    A("r15-hostile-health-output", 15, "the same text as a failing health check's name",
      hostile_health),
    # 16. verify reads git only; merges; the ops-branch glob
    A("r16-broken-work-tree-config", 16, "an unparseable evidencebot.toml in the work tree "
      "does not change verify's result", broken_work_tree_config),
    A("r16-hostile-work-tree-config", 16, "a work-tree config naming the ops branch as base "
      "does not hide a plain commit editing src/", plain_commit_under_hostile_config,
      expect_verify=True),
    A("r16-merge-commit-into-main", 16, "verify --range <main>..main accepts the merge of "
      "the closed ops branch", merged_into_main, expect_verify=False, base="closed"),
    A("r16-uppercase-ops-branch", 16, "a src/ edit committed on OPS/evidence",
      uppercase_ops_branch, **TWINS),
]


UNSUPPORTED = {"posix": ("win32",), "case-sensitive-fs": ("win32", "darwin")}


def params() -> list[Any]:
    out = []
    for a in ATTEMPTS:
        marks = [pytest.mark.xfail(strict=True, reason=a.gap)] if a.gap else []
        if a.needs:
            marks.append(pytest.mark.skipif(sys.platform in UNSUPPORTED[a.needs],
                                            reason=f"needs a {a.needs} file system"))
        out.append(pytest.param(a, id=a.id, marks=marks))
    return out


@pytest.mark.parametrize("attempt", params())
def test_attempt(attempt: Attempt, make_lab: Callable[[str], Lab]) -> None:
    lab = make_lab(attempt.base)
    hand = attempt.setup(lab)
    if hand is None:
        assert attempt.expect_hook is None and attempt.expect_verify is None
    else:
        run_hand(lab, hand, hook=attempt.expect_hook, verify=attempt.expect_verify)


def test_the_table_covers_every_rule() -> None:
    ids = [a.id for a in ATTEMPTS]
    assert len(ids) == len(set(ids)) and len(ids) >= 40
    assert {a.rule for a in ATTEMPTS} == set(range(1, 17))
    for a in ATTEMPTS:
        assert a.id.startswith(f"r{a.rule}-") and a.base in ("bare", "three", "closed")
        assert a.needs in ("", *UNSUPPORTED), a.id
        assert not a.gap or a.gap.startswith("rule "), a.id


def test_a_legitimate_hand_commit_passes_hook_and_verify(
        make_lab: Callable[[str], Lab]) -> None:
    """The control: what the hook refuses above, it refuses for the attack, not always."""
    lab = make_lab("three")
    hand = append_entry(ENTRY.replace("\x1b[31m", "").replace("\x1b[0m", ""))(lab)
    assert hand is not None
    proc = git_commit(lab, hand, hooks=True)
    assert proc.returncode == 0, proc.stderr
    ok(lab.ev("verify"))
