"""Configuration: `evidencebot.toml` or `[tool.evidencebot]` in `pyproject.toml`.

Every default comes from the runbook, so a repository shaped like the reference one needs
no file at all. The qualifying thresholds (`[qualify]`) and the scope rules are read from
the config committed on the base branch when judging evidence: an ops commit cannot loosen
the rules that judge it.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import defaults, git
from .errors import UsageError

CONFIG_FILE = "evidencebot.toml"

WRAPPER = "./scripts/run_step1a_burnin_auto_client.ps1"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Ops(_Section):
    branch: str = "ops/evidence"
    base: str = "main"
    code_paths: list[str] = ["src/", "backtest/", "config/", "main.py", "scripts/"]
    author: str = "evidencebot <evidencebot@localhost>"
    remote: str = "origin"
    provider: Literal["auto", "none", "gitlab", "github"] = "auto"
    gitlab_token_env: str = "GITLAB_TOKEN"  # where a GitLab token is read from, if set
    gitlab_api: str = ""  # e.g. https://gitlab.example.com/api/v4 (empty: push options only)
    allow_pinned_clock: bool = False  # EVIDENCEBOT_NOW is honoured (demo, tests) only if true
    require_signed: bool = False  # verify refuses unsigned or untrusted ops commits

    @field_validator("author")
    @classmethod
    def _author_form(cls, v: str) -> str:
        if "<" not in v or not v.endswith(">"):
            raise ValueError("must look like 'Name <email>'")
        return v


class Burnin(_Section):
    command: list[str] = [
        "pwsh", "-NoProfile", "-File", WRAPPER,
        "-Runs", "{runs}",
        "-PaperDurationSeconds", "{paper_duration_seconds}",
        "-MinFilledOrders", "{min_filled_orders}",
        "-MinSymbolDataAvailabilityRatio", "{min_symbol_data_availability_ratio}",
        "-PreflightMinBarsPerSymbol", "{preflight_min_bars_per_symbol}",
    ]
    report: str = "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"
    runs: int = Field(1, ge=1)
    paper_duration_seconds: int = Field(1800, ge=1)
    min_filled_orders: int = Field(1, ge=0)
    min_symbol_data_availability_ratio: float = Field(0.80, ge=0, le=1)
    preflight_min_bars_per_symbol: int = Field(100, ge=0)
    timeout_seconds: float = Field(7200, gt=0)
    retries: int = Field(3, ge=0)
    retry_backoff_seconds: float = Field(5.0, ge=0)

    @field_validator("command")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("must name a program")
        return v


class Qualify(_Section):
    min_paper_duration_seconds: int = Field(1800, ge=0)
    min_filled_orders: int = Field(1, ge=0)
    min_symbol_data_availability_ratio: float = Field(0.80, ge=0, le=1)
    min_bars_per_symbol: int = Field(100, ge=0)
    allow_dirty_code: bool = False
    max_disconnects: int | None = Field(None, ge=0)  # unset: disconnections do not count


class ReportFields(_Section):
    """JSON pointers (RFC 6901) into the wrapper's report."""

    run_id: str = "/run_id"
    started_at: str = "/started_at_utc"
    finished_at: str = "/finished_at_utc"
    paper_duration_seconds: str = "/paper_duration_seconds"
    filled_orders: str = "/orders/filled"
    symbol_data_availability_ratio: str = "/symbol_data_availability_ratio"
    bars_per_symbol: str = "/preflight_bars_per_symbol"
    runs_completed: str = "/runs_completed"
    runs_requested: str = "/runs_requested"
    passed: str = "/passed"
    client_id: str = "/ibkr/client_id"
    ibkr_messages: str = "/ibkr_messages"
    code_commit: str = ""  # the commit the wrapper ran, when the report says (else unmapped)
    code_dirty: str = ""  # whether that code had local changes, when the report says

    @field_validator("*")
    @classmethod
    def _pointer(cls, v: str) -> str:
        if v and not v.startswith("/"):
            raise ValueError(f"{v!r} is not a JSON pointer (it must start with '/')")
        return v


class Report(_Section):
    fields: ReportFields = ReportFields()


class Docs(_Section):
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


class Window(_Section):
    days: list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]] = [
        "Mon", "Tue", "Wed", "Thu", "Fri",
    ]
    start: time = time(8, 0)
    end: time = time(16, 0)
    holidays: str = "UK"
    blackout: list[str] = []  # "HH:MM-HH:MM" (UTC) periods no run may overlap

    @field_validator("blackout")
    @classmethod
    def _periods(cls, v: list[str]) -> list[str]:
        for period in v:
            parse_period(period)
        return v


class Health(_Section):
    command: list[str] = [
        "python", "main.py", "uk_health_check", "--profile", "uk_paper", "--strict-health",
    ]
    timeout_seconds: float = Field(120, gt=0)


class KillSwitch(_Section):
    path: str = "state/kill_switch.json"
    command: list[str] = []
    timeout_seconds: float = Field(30, gt=0)


class Ibkr(_Section):
    host: str = "127.0.0.1"
    port: int = Field(4002, ge=1, le=65535)
    connect_timeout_seconds: float = Field(10, gt=0)
    client_id_range: tuple[int, int] = (17, 26)
    profile: Literal["paper", "live"] = "paper"
    readonly_wait_seconds: float = Field(2.0, gt=0)
    benign_codes: list[int] = []  # more IBKR codes that are information, not trouble

    @field_validator("client_id_range")
    @classmethod
    def _ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[1] < v[0] or v[0] < 0:
            raise ValueError(f"must be [low, high] with 0 <= low <= high, not {list(v)}")
        return v


class Scope(_Section):
    branches: list[str] = ["ops/*"]
    allowed_paths: list[str] = list(defaults.ALLOWED_PATHS)
    forbidden_paths: list[str] = list(defaults.FORBIDDEN_PATHS)
    evidence_extensions: list[str] = list(defaults.EVIDENCE_EXTENSIONS)


NotifyEvent = Literal["failed", "handoff", "refused", "non-qualifying", "retry-due", "closed"]


class Notify(_Section):
    urls: list[str] = []  # apprise URLs; secrets belong in EVIDENCEBOT_NOTIFY_URLS
    on: list[NotifyEvent] = ["failed", "handoff", "non-qualifying", "retry-due", "closed"]
    timeout_seconds: float = Field(10, gt=0)


class Milestone(_Section):
    consecutive: int = Field(3, ge=1)
    auto_close: bool = True


class Config(_Section):
    ops: Ops = Ops()
    burnin: Burnin = Burnin()
    qualify: Qualify = Qualify()
    report: Report = Report()
    docs: Docs = Docs()
    window: Window = Window()
    health: Health = Health()
    kill_switch: KillSwitch = KillSwitch()
    ibkr: Ibkr = Ibkr()
    scope: Scope = Scope()
    notify: Notify = Notify()
    milestone: dict[str, Milestone] = {defaults.MILESTONE: Milestone()}

    @field_validator("milestone")
    @classmethod
    def _milestone_ids(cls, v: dict[str, Milestone]) -> dict[str, Milestone]:
        for key in v:
            if not key.startswith("MO-"):
                raise ValueError(f"milestone id {key!r} must look like MO-<n>")
        return v


def parse_period(text: str) -> tuple[time, time]:
    """ "HH:MM-HH:MM" as two times; ValueError naming the text otherwise."""
    try:
        a, b = text.split("-")
        start, end = time.fromisoformat(a.strip()), time.fromisoformat(b.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a period HH:MM-HH:MM") from None
    if start == end:
        raise ValueError(f"{text!r} is an empty period")
    return start, end


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path | None  # None: defaults only
    sha256: str  # of the file's bytes, "none" without a file


def _format_error(source: str, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if err["type"] == "extra_forbidden":
        section = f"[{'.'.join(loc[:-1])}] " if len(loc) > 1 else ""
        return f"{source}: unknown key {section}{loc[-1]}"
    where = ".".join(loc) or "(top level)"
    return f"{source}: {where}: {err['msg']}"


def parse(data: bytes, *, source: str) -> Config:
    """Parse config bytes (a TOML file or a pyproject.toml) into a validated Config."""
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{source}: not valid TOML: {e}") from None
    if Path(source).name == "pyproject.toml":
        doc = doc.get("tool", {}).get("evidencebot", {})
    return from_mapping(doc, source=source)


def from_mapping(doc: dict[str, Any], *, source: str) -> Config:
    try:
        return Config.model_validate(doc)
    except ValidationError as e:
        raise UsageError(_format_error(source, e)) from None


def _pyproject_has_section(data: bytes) -> bool:
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "evidencebot" in doc.get("tool", {})


def load(repo: Path, explicit: Path | None = None) -> LoadedConfig:
    """The operator's config: ``explicit``, else evidencebot.toml, else pyproject.toml."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file not found: {explicit}")
        data = explicit.read_bytes()
        return LoadedConfig(parse(data, source=str(explicit)), explicit, _sha(data))
    for name in (CONFIG_FILE, "pyproject.toml"):
        p = repo / name
        if p.is_file():
            data = p.read_bytes()
            if name == "pyproject.toml" and not _pyproject_has_section(data):
                continue
            return LoadedConfig(parse(data, source=name), p, _sha(data))
    return LoadedConfig(Config(), None, "none")


def load_at(repo: Path, rev: str) -> LoadedConfig:
    """The config as committed at ``rev`` (the base branch): what judges ops commits."""
    for name in (CONFIG_FILE, "pyproject.toml"):
        data = git.show_bytes(repo, rev, name)
        if data is None:
            continue
        if name == "pyproject.toml" and not _pyproject_has_section(data):
            continue
        return LoadedConfig(parse(data, source=f"{rev}:{name}"), Path(name), _sha(data))
    return LoadedConfig(Config(), None, "none")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
