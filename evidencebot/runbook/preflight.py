"""The runbook's pre-run checks, put together from the config: window, health, kill switch,
gateway and client id."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..config import Config
from ..defaults import whole_run_seconds
from ..errors import UsageError
from ..evidence.window import window_of
from ..frozen import frozen
from ..ibkr.probe import probe_gateway
from ..ledger.workspace import Context
from ..textsafe import whole_number
from .checks import (
    CheckResult,
    check_health,
    check_kill_switch,
    check_window,
    strict_health,
    summary,
)


@frozen
class Preflight:
    results: tuple[CheckResult, ...]
    client_id: int | None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if not r.ok]

    @property
    def summary(self) -> str:
        return summary(self.results)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "client_id": self.client_id,
                "checks": [r.to_json() for r in self.results]}


def client_ids(cfg: Config, env: Mapping[str, str]) -> list[int]:
    """IBKR_CLIENT_ID when set, else the configured range."""
    raw = env.get("IBKR_CLIENT_ID", "")
    if raw:
        given = whole_number(raw.strip())
        if given is None:
            raise UsageError(f"IBKR_CLIENT_ID must be a number, not {raw!r}")
        return [given]
    low, high = cfg.ibkr.client_id_range
    if high < low:
        raise UsageError("[ibkr] client_id_range must be [low, high] with low <= high")
    return list(range(low, high + 1))


def run_checks(ctx: Context, *, now: datetime, paper_seconds: int,
               env: Mapping[str, str] | None = None) -> Preflight:
    """The pre-run checks; the window's for a whole run: ``paper_seconds`` on paper and
    the margin before it (`whole_run_seconds`, as `next` counts it)."""
    env = dict(os.environ if env is None else env)
    # The checks a run's evidence cites are the reviewed ones: the base branch's config,
    # not a working tree's (a health check that always passes would be worthless).
    cfg = ctx.rules
    results = [
        check_window(now=now, run_seconds=whole_run_seconds(paper_seconds),
                     window=window_of(cfg)),
        check_health(command=cfg.health.command, cwd=ctx.repo,
                     timeout_seconds=cfg.health.timeout_seconds,
                     strict=strict_health(cfg.health.command)),
        check_kill_switch(repo=ctx.repo, path=cfg.kill_switch.path,
                          command=cfg.kill_switch.command,
                          timeout_seconds=cfg.kill_switch.timeout_seconds),
    ]
    gateway, client = gateway_checks(cfg, client_ids(cfg, env), from_env="IBKR_CLIENT_ID" in env
                                     and bool(env["IBKR_CLIENT_ID"]))
    results += [gateway, client]
    chosen = client.data.get("client_id")
    return Preflight(heeding(ctx, results), chosen if isinstance(chosen, int) else None)


# The config sections each check reads (the base's committed ones)
_SECTIONS = {"window": ("window",), "health": ("health",), "kill-switch": ("kill_switch",),
             "gateway": ("ibkr",), "client-id": ("ibkr",), "wrapper": ("burnin",),
             "timeout": ("burnin",), "parameters": ("burnin", "qualify")}


def heeding(ctx: Context, results: Sequence[CheckResult]) -> tuple[CheckResult, ...]:
    """``results``, with the fix of each failed check that reads a section the working
    tree's config changes and the base's does not (`Context.unheeded`) saying so first:
    found by a newcomer, whose uncommitted [burnin] was not run and whose wrapper check's
    fix said to install PowerShell."""
    from ..frozen import replace

    unheeded = set(ctx.unheeded())  # (none without a config of one's own)
    yours = ctx.loaded.path.name if ctx.loaded.path is not None else "config"
    out = []
    for r in results:
        mine = [s for s in _SECTIONS.get(r.name, ()) if s in unheeded]
        if r.status == "FAIL" and mine:
            r = replace(r, fix=f"[{'], ['.join(mine)}] of your {yours} is not "
                        f"what counts until it is merged (the base's is): commit it, merge it "
                        f"into {ctx.rules.ops.base} and push; else: {r.fix}")
        out.append(r)
    return tuple(out)


def gateway_checks(cfg: Config, ids: list[int], *, from_env: bool
                   ) -> tuple[CheckResult, CheckResult]:
    i = cfg.ibkr
    p = probe_gateway(host=i.host, port=i.port, client_ids=ids,
                      connect_timeout=i.connect_timeout_seconds,
                      paper_profile=i.profile == "paper", readonly_wait=i.readonly_wait_seconds)
    data = p.to_json()
    where = f"{i.host}:{i.port}"
    if p.client_id is None and p.held_ids and p.error_code == 326:
        gateway = CheckResult("gateway", "PASS", f"{where} answers the API", data=data)
    elif p.client_id is None:
        gateway = CheckResult("gateway", "FAIL", f"{where}: {p.reason}", p.fix, data=data)
    elif not p.ok:
        gateway = CheckResult("gateway", "FAIL", f"{where}: {p.reason}", p.fix, data=data)
    else:
        gateway = CheckResult("gateway", "WARN" if p.degraded else "PASS",
                              f"{where} ok: {p.reason}",
                              "wait for the data farms to reconnect" if p.degraded else "",
                              data=data)
    source = "IBKR_CLIENT_ID" if from_env else "auto-picked"
    held = f" ({', '.join(map(str, p.held_ids))} in use: error 326)" if p.held_ids else ""
    if p.client_id is not None:
        client = CheckResult("client-id", "PASS", f"{p.client_id} ({source}){held}",
                             data={"client_id": p.client_id, "held": p.held_ids})
    elif p.error_code == 326:
        client = CheckResult("client-id", "FAIL", f"every id tried is in use{held}", p.fix,
                             data={"client_id": None, "held": p.held_ids})
    else:
        client = CheckResult("client-id", "WARN", "not checked: the gateway did not answer",
                             "", data={"client_id": None, "held": p.held_ids})
    return gateway, client
