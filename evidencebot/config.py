"""Configuration: `evidencebot.toml` or `[tool.evidencebot]` in `pyproject.toml`.

Every default comes from the runbook, so a repository shaped like the reference one needs
no file at all. The qualifying thresholds (`[qualify]`) and the scope rules are read from
the config committed on the base branch when judging evidence: an ops commit cannot loosen
the rules that judge it.
"""

from __future__ import annotations

import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, ClassVar, Literal

from . import defaults, git
from .errors import UsageError
from .frozen import field, frozen
from .hashes import sha256
from .shape import Invalid, bounded, build, listed

CONFIG_FILE = "evidencebot.toml"

WRAPPER = "./scripts/run_step1a_burnin_auto_client.ps1"


def _author_form(v: str) -> str:
    if "<" not in v or not v.endswith(">"):
        raise ValueError("must look like 'Name <email>'")
    return v


@frozen
class Ops:
    branch: str = "ops/evidence"
    base: str = "main"
    code_paths: list[str] = listed("src/", "backtest/", "config/", "main.py", "scripts/")
    author: str = "evidencebot <evidencebot@localhost>"
    remote: str = "origin"
    provider: Literal["auto", "none", "gitlab", "github"] = "auto"
    gitlab_token_env: str = "GITLAB_TOKEN"  # where a GitLab token is read from, if set
    gitlab_api: str = ""  # e.g. https://gitlab.example.com/api/v4 (empty: push options only)
    allow_pinned_clock: bool = False  # EVIDENCEBOT_NOW is honoured (demo, tests) only if true
    require_signed: bool = False  # verify refuses unsigned or untrusted ops commits

    _checks: ClassVar = {"author": _author_form, "branch": git.branch_form,
                         "base": git.branch_form}


def _non_empty(v: list[str]) -> list[str]:
    if not v:
        raise ValueError("must name a program")
    return v


@frozen
class Burnin:
    command: list[str] = listed(
        "pwsh", "-NoProfile", "-File", WRAPPER,
        "-Runs", "{runs}",
        "-PaperDurationSeconds", "{paper_duration_seconds}",
        "-MinFilledOrders", "{min_filled_orders}",
        "-MinSymbolDataAvailabilityRatio", "{min_symbol_data_availability_ratio}",
        "-PreflightMinBarsPerSymbol", "{preflight_min_bars_per_symbol}",
    )
    report: str = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"
    runs: int = bounded(1, ge=1)
    paper_duration_seconds: int = bounded(1800, ge=1)
    min_filled_orders: int = bounded(1, ge=0)
    min_symbol_data_availability_ratio: float = bounded(0.80, ge=0, le=1)
    preflight_min_bars_per_symbol: int = bounded(100, ge=0)
    timeout_seconds: float = bounded(7200, gt=0)
    retries: int = bounded(3, ge=0)
    retry_backoff_seconds: float = bounded(5.0, ge=0)

    _checks: ClassVar = {"command": _non_empty}

    @property
    def on_paper(self) -> int:
        """The wrapper's seconds on paper: ``runs`` sessions of ``paper_duration_seconds``."""
        return self.paper_duration_seconds * self.runs


@frozen
class Qualify:
    min_paper_duration_seconds: int = bounded(1800, ge=0)
    min_filled_orders: int = bounded(1, ge=0)
    min_symbol_data_availability_ratio: float = bounded(0.80, ge=0, le=1)
    min_bars_per_symbol: int = bounded(100, ge=0)
    allow_dirty_code: bool = False
    max_disconnects: int | None = bounded(None, ge=0)  # unset: disconnections do not count


def _pointer(v: str) -> str:
    if v and not v.startswith("/"):
        raise ValueError(f"{v!r} is not a JSON pointer (it must start with '/')")
    return v


@frozen
class ReportFields:
    """JSON pointers (RFC 6901) into the wrapper's report."""

    run_id: str = "/run_id"
    started_at: str = "/started_at_utc"
    finished_at: str = "/finished_at_utc"
    paper_duration_seconds: str = "/paper_duration_seconds"
    filled_orders: str = "/orders/filled"
    symbol_data_availability_ratio: str = "/symbol_data_availability_ratio"
    bars_per_symbol: str = "/preflight_bars_per_symbol"
    symbols: str = "/symbols"  # when the report lists them: a listed symbol without bars has 0
    runs_completed: str = "/runs_completed"
    runs_requested: str = "/runs_requested"
    passed: str = "/passed"
    client_id: str = "/ibkr/client_id"
    ibkr_messages: str = "/ibkr_messages"
    code_commit: str = ""  # the commit the wrapper ran, when the report says (else unmapped)
    code_dirty: str = ""  # whether that code had local changes, when the report says

    _checks: ClassVar = {"*": _pointer}


@frozen
class Report:
    fields: ReportFields = field(default_factory=ReportFields)


def _under_reports(v: str) -> str:
    if why := defaults.records_folder_problem(v):
        raise ValueError(why)
    return v


@frozen
class Docs:
    backlog: str = "IMPLEMENTATION_BACKLOG.md"
    design: str = "PROJECT_DESIGN.md"
    session_log: str = "SESSION_LOG.md"
    topology: str = "SESSION_TOPOLOGY.md"
    tracker_section: str = "Step 1A Burn-In Tracker"
    checklist_section: str = "Next In-Window Run Checklist"
    status_section: str = "MO-* Status"
    milestones_section: str = "9. Operational Milestones Tracker"
    topology_section: str = "Type 4 — OPS"
    evidence_dir: str = "reports/evidence/step1a"
    handoff_dir: str = "reports/handoffs"
    milestone_dir: str = "reports/evidence/milestones"

    # (a handoff or closure folder the scope rules refuse left a failed session unrecorded,
    # or a closure refused after its streak: found by an adversary)
    _checks: ClassVar = {"evidence_dir": _under_reports, "handoff_dir": _under_reports,
                         "milestone_dir": _under_reports}


def _periods(v: list[str]) -> list[str]:
    for period in v:
        parse_period(period)
    return v


def _utc(v: time) -> time:
    """A window's time is UTC all year: another offset is refused, not dropped (adversary
    44a: "16:30+01:00", read as London's summer close, ran an hour past it)."""
    if v.utcoffset():
        raise ValueError("must be a UTC time (the window is UTC all year): no offset")
    if v.microsecond:  # (newcomer 15: "08.30" was read as 08:00:00.3)
        raise ValueError("must be a time HH:MM")
    return v.replace(tzinfo=None)  # ("16:30Z" is 16:30)


def _some_days(v: list[str]) -> list[str]:
    if not v:
        raise ValueError('names no day, so holds no run (e.g. ["Mon", "Tue", "Wed"])')
    return v


@frozen
class Window:
    days: list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]] = listed(
        "Mon", "Tue", "Wed", "Thu", "Fri",
    )
    start: time = time(8, 0)
    end: time = time(16, 0)
    holidays: str = "UK"
    blackout: list[str] = listed()  # "HH:MM-HH:MM" (UTC) periods no run may overlap

    _checks: ClassVar = {"blackout": _periods, "days": _some_days, "start": _utc, "end": _utc}


@frozen
class Health:
    command: list[str] = listed(
        "python", "main.py", "uk_health_check", "--profile", "uk_paper", "--strict-health",
    )
    timeout_seconds: float = bounded(120, gt=0)


@frozen
class KillSwitch:
    path: str = "state/kill_switch.json"
    command: list[str] = listed()
    timeout_seconds: float = bounded(30, gt=0)


def _ordered(v: tuple[int, int]) -> tuple[int, int]:
    if v[1] < v[0] or v[0] < 0:
        raise ValueError(f"must be [low, high] with 0 <= low <= high, not {list(v)}")
    return v


@frozen
class Ibkr:
    host: str = "127.0.0.1"
    port: int = bounded(4002, ge=1, le=65535)
    connect_timeout_seconds: float = bounded(10, gt=0)
    client_id_range: tuple[int, int] = (17, 26)
    profile: Literal["paper", "live"] = "paper"
    readonly_wait_seconds: float = bounded(2.0, gt=0)
    benign_codes: list[int] = listed()  # more IBKR codes that are information, not trouble

    _checks: ClassVar = {"client_id_range": _ordered}


@frozen
class Scope:
    branches: list[str] = listed("ops/*")
    allowed_paths: list[str] = listed(*defaults.ALLOWED_PATHS)
    forbidden_paths: list[str] = listed(*defaults.FORBIDDEN_PATHS)
    evidence_extensions: list[str] = listed(*defaults.EVIDENCE_EXTENSIONS)


NotifyEvent = Literal["failed", "handoff", "refused", "non-qualifying", "retry-due", "closed"]


@frozen
class Notify:
    urls: list[str] = listed()  # apprise URLs; secrets belong in EVIDENCEBOT_NOTIFY_URLS
    on: list[NotifyEvent] = listed("failed", "handoff", "non-qualifying", "retry-due",
                                   "closed")
    timeout_seconds: float = bounded(10, gt=0)


@frozen
class Milestone:
    consecutive: int = bounded(3, ge=1)
    auto_close: bool = True


def _milestone_ids(v: dict[str, Milestone]) -> dict[str, Milestone]:
    for key in v:
        if not re.fullmatch(r"MO-[1-9][0-9]*", key, re.ASCII):  # (MO-02 is MO-2 to a reader)
            raise ValueError(f"milestone id {key!r} must be MO- and a number, as MO-2")
    return v


@frozen
class Config:
    ops: Ops = field(default_factory=Ops)
    burnin: Burnin = field(default_factory=Burnin)
    qualify: Qualify = field(default_factory=Qualify)
    report: Report = field(default_factory=Report)
    docs: Docs = field(default_factory=Docs)
    window: Window = field(default_factory=Window)
    health: Health = field(default_factory=Health)
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    ibkr: Ibkr = field(default_factory=Ibkr)
    scope: Scope = field(default_factory=Scope)
    notify: Notify = field(default_factory=Notify)
    milestone: dict[str, Milestone] = field(
        default_factory=lambda: {defaults.MILESTONE: Milestone()})

    _checks: ClassVar = {"milestone": _milestone_ids}


def parse_period(text: str) -> tuple[time, time]:
    """ "HH:MM-HH:MM" as two times; ValueError naming the text otherwise."""
    try:
        a, b = text.split("-")
        start, end = time.fromisoformat(a.strip()), time.fromisoformat(b.strip())
        if start.microsecond or end.microsecond:  # ("12.30" is no 12:30: newcomer 15)
            raise ValueError
    except ValueError:
        raise ValueError(f"{text!r} is not a period HH:MM-HH:MM") from None
    if start.utcoffset() or end.utcoffset():
        raise ValueError(f"{text!r} is not in UTC (the window is UTC all year): no offset")
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if start == end:
        raise ValueError(f"{text!r} is an empty period")
    return start, end


@frozen
class LoadedConfig:
    config: Config
    path: Path | None  # None: defaults only
    sha256: str  # of the file's bytes, "none" without a file


def parse(data: bytes, *, source: str) -> Config:
    """Parse config bytes (a TOML file or a pyproject.toml) into a validated Config."""
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:
        raise UsageError(f"{source}: not valid TOML: nested too deep") from None
    if Path(source.rpartition(":")[2] or source).name == "pyproject.toml":  # (or "<rev>:...")
        doc = _tool_section(doc)
    return from_mapping(doc, source=source)


def _tool_section(doc: dict[str, Any]) -> Any:
    """``[tool.evidencebot]`` of a pyproject.toml (a table, or what `build` will refuse)."""
    tool = doc.get("tool", {})
    return tool.get("evidencebot", {}) if isinstance(tool, dict) else {}


def from_mapping(doc: dict[str, Any], *, source: str) -> Config:
    try:
        cfg = build(Config, doc)
    except Invalid as e:
        raise UsageError(e.said(source)) from None
    if cfg.ops.branch == cfg.ops.base:  # (evidence would be committed onto the reviewed base)
        raise UsageError(f"{source}: ops.branch: {cfg.ops.branch!r} is the base branch "
                         "itself; the ops branch is a branch of its own, e.g. ops/evidence")
    d = cfg.docs
    pair = defaults.overlapping({
        f"docs.evidence_dir {d.evidence_dir!r}": d.evidence_dir,
        f"docs.milestone_dir {d.milestone_dir!r}": d.milestone_dir,
        f"docs.handoff_dir {d.handoff_dir!r}": d.handoff_dir,
        f"the voids' folder {defaults.VOIDS_DIR!r}": defaults.VOIDS_DIR,
        f"the refused checks' folder {defaults.CHECKS_DIR!r}": defaults.CHECKS_DIR})
    if pair is not None:
        raise UsageError(f"{source}: {pair[0]} and {pair[1]} overlap: each kind of evidence "
                         "keeps a folder of its own", fix="give each [docs] folder its own")
    return cfg


def _pyproject_has_section(data: bytes) -> bool:
    """Whether a pyproject.toml holds [tool.evidencebot]; one that cannot be read but
    names evidencebot is taken to (`parse` then says what is wrong, exit 2): a TOML error
    anywhere in the file must not swap the reviewed rules for the defaults."""
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return b"evidencebot" in data
    return isinstance(doc.get("tool"), dict) and "evidencebot" in doc["tool"]


def load(repo: Path, explicit: Path | None = None) -> LoadedConfig:
    """The operator's config: ``explicit``, else evidencebot.toml, else pyproject.toml."""
    if explicit is not None:
        if explicit.exists() and not explicit.is_file():
            raise UsageError(f"--config {explicit}: not a regular file (a config is a TOML "
                             "file)", fix="give the config file's path, from the current "
                             "folder")
        if not explicit.is_file():
            beside = repo / explicit
            fix = (f"--config {beside}" if not explicit.is_absolute() and beside.is_file()
                   else "give the config file's path, from the current folder")
            raise UsageError(f"config file not found: {explicit} (looked for "
                             f"{explicit.absolute()}; --config is read from the current "
                             "folder, not from --repo)", fix=fix)
        data = explicit.read_bytes()
        return LoadedConfig(parse(data, source=str(explicit)), explicit, sha256(data))
    for name in (CONFIG_FILE, "pyproject.toml"):
        p = repo / name
        if p.is_file():
            data = p.read_bytes()
            if name == "pyproject.toml" and not _pyproject_has_section(data):
                continue
            return LoadedConfig(parse(data, source=name), p, sha256(data))
    return LoadedConfig(Config(), None, "none")


def load_at(repo: Path, rev: str) -> LoadedConfig:
    """The config as committed at ``rev`` (the base branch): what judges ops commits."""
    for name in (CONFIG_FILE, "pyproject.toml"):
        data = git.show_bytes(repo, rev, name)
        if data is None:
            continue
        if name == "pyproject.toml" and not _pyproject_has_section(data):
            continue
        try:
            parsed = parse(data, source=f"{rev}:{name}")
        except UsageError as e:  # (mended in the working tree, it still counts: newcomer 14)
            at = rev.removeprefix("refs/heads/").removeprefix("refs/remotes/")
            raise UsageError(str(e), fix=f"{e.fix}; " * bool(e.fix) + f"the config committed "
                             f"at {at} is what counts: commit the mend and merge it (and "
                             "push the base, where it has a remote)") from None
        return LoadedConfig(parsed, Path(name), sha256(data))
    return LoadedConfig(Config(), None, "none")
