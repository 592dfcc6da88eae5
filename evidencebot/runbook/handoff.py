"""Handoff packets for DEBUG, in the §6c format of SESSION_TOPOLOGY.md."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..redact import redact
from ..templating import render
from ..textsafe import clean, fence_for, markdown

TAIL_LINES = 40


def slug(text: str, *, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-")
    return s or "run-failed"


def packet_path(*, handoff_dir: str, run_id: str, summary: str) -> str:
    """Named from the run (unique), never by the minute."""
    return f"{handoff_dir.rstrip('/')}/{run_id}-DEBUG-{slug(summary)}.md"


def log_tail(log: bytes, *, lines: int = TAIL_LINES) -> str:
    """The log's last lines, redacted and without control characters (ANSI/OSC escapes)."""
    text = clean(redact(log.decode("utf-8", "replace")))
    return "\n".join(text.rstrip().splitlines()[-lines:])


def render_packet(*, created: datetime, summary: str, command: Sequence[str], exit_code: int | None,
                  reason: str, codes: Sequence[int], code: Mapping[str, Any], run_id: str,
                  checks: str, log: bytes, record: str, log_path: str, client_id: int | None,
                  port: int, milestone: str, closed: bool) -> str:
    """The packet; ``closed``: the milestone is closed already, so there is no streak to
    speak of."""
    tail = log_tail(log)
    return redact(render(
        "handoff.md.j2", summary=markdown(summary), created=created.strftime("%Y-%m-%d %H:%M:%S"),
        milestone=milestone, code_commit=code["commit"], code_dirty=code["dirty"],
        dirty_paths=markdown(", ".join(code.get("dirty_paths", [])[:5])),
        command=markdown(shlex.join(command)),
        exit_code="none (killed at the timeout)" if exit_code is None else exit_code,
        codes=list(codes), run_id=run_id, reason=markdown(reason), checks=markdown(checks),
        log_tail=tail, fence=fence_for(tail), report=None, record=record, log_path=log_path,
        client_id=client_id if client_id is not None else "<a free id>", port=port,
        closed=closed))


_FIELD = re.compile(r"^- ([A-Za-z ()]+): (.*)$")


def parse_packet(text: str) -> dict[str, str]:
    """The heading and bullet fields of a packet (the §6c header block)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# Handoff: "):
            out["Heading"] = line[2:]
        elif line.startswith("## "):
            break
        else:
            m = _FIELD.match(line)
            if m:
                out[m.group(1)] = m.group(2)
    return out
