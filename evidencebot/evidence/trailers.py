"""The commit-trailer contract: render ops messages, parse and validate trailer blocks.

Import-light on purpose (stdlib only): the commit-msg hook runs on every commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

KINDS = ("step1a-burnin", "milestone", "handoff", "check", "void")
OUTCOMES = ("qualifying", "non-qualifying", "failed-infra", "failed-market-data", "failed-code")
REPORTED = ("qualifying", "non-qualifying")  # outcomes that come with metrics
RESETS = ("non-qualifying", "failed-code")  # outcomes that end a streak

METRIC_KEYS = (
    "Burnin-Paper-Duration-Seconds",
    "Burnin-Filled-Orders",
    "Burnin-Symbol-Data-Availability-Ratio",
    "Burnin-Min-Bars-Per-Symbol",
)
COMMON_KEYS = ("Evidence-Kind", "Session-Type", "Evidencebot-Version", "Config-Sha256")
RUN_KEYS = (
    "Evidence-Run-Id", "Evidence-Outcome", "Evidence-Record", "Evidence-Record-Sha256",
    "Burnin-Streak", "Code-Commit", "Code-Dirty",
)
MILESTONE_KEYS = ("Milestone", "Milestone-Status", "Milestone-Evidence")
CHECK_KEYS = ("Check-Failed",)
VOID_KEYS = ("Evidence-Run-Id", "Void-Reason")
TIME_KEYS = ("Evidence-Started-At", "Evidence-Finished-At")

REQUIRED: dict[str, tuple[str, ...]] = {
    "step1a-burnin": COMMON_KEYS + RUN_KEYS,
    "milestone": COMMON_KEYS + MILESTONE_KEYS,
    "check": COMMON_KEYS + CHECK_KEYS,
    "handoff": COMMON_KEYS,
    "void": COMMON_KEYS + VOID_KEYS,
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "step1a-burnin": METRIC_KEYS + TIME_KEYS + (
        "Ibkr-Client-Id", "Handoff", "Retry-After", "Ibkr-Codes", "Evidence-Report-Sha256",
        "Ibkr-Disconnects", "Evidence-Tracker-Row"),
    "milestone": (),
    "check": ("Check-Next-Window", "Ibkr-Client-Id"),
    "handoff": ("Handoff", "Evidence-Run-Id"),
    "void": (),
}

_RUN_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_INT = r"0|[1-9][0-9]*"
FORMS: dict[str, str] = {
    "Evidence-Kind": "|".join(KINDS),
    "Evidence-Run-Id": _RUN_ID,
    "Evidence-Outcome": "|".join(OUTCOMES),
    "Evidence-Record": r"reports/[A-Za-z0-9._/-]+\.json",
    "Evidence-Record-Sha256": r"[0-9a-f]{64}",
    "Burnin-Paper-Duration-Seconds": _INT,
    "Burnin-Filled-Orders": _INT,
    "Burnin-Symbol-Data-Availability-Ratio": r"(0|1)(\.[0-9]+)?",
    "Burnin-Min-Bars-Per-Symbol": _INT,
    "Burnin-Streak": rf"({_INT})/([1-9][0-9]*)",
    "Code-Commit": r"[0-9a-f]{40}([0-9a-f]{24})?|none",
    "Code-Dirty": "true|false|unknown",
    "Evidence-Started-At": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
    "Evidence-Finished-At": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
    "Evidence-Report-Sha256": r"[0-9a-f]{64}",
    "Ibkr-Disconnects": _INT,
    "Void-Reason": r"[^\x00-\x1f\x7f]{1,500}",
    "Ibkr-Client-Id": _INT,
    "Ibkr-Codes": r"[0-9]+(,[0-9]+)*",
    "Session-Type": "OPS",
    "Evidencebot-Version": r"[0-9][0-9A-Za-z.+-]*",
    "Config-Sha256": r"[0-9a-f]{64}|none",
    "Milestone": r"MO-[0-9]+",
    "Milestone-Status": "CLOSED",
    "Milestone-Evidence": rf"{_RUN_ID}(, ?{_RUN_ID})*",
    "Check-Failed": r"[a-z-]+(, ?[a-z-]+)*",
    "Check-Next-Window": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z",
    "Retry-After": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z",
    "Handoff": r"reports/[A-Za-z0-9._/-]+\.md",
    "Evidence-Tracker-Row": "hand-written",
}
# On a run commit whose run had a hand-written tracker row before it (`record` adds no row
# of its own): that row stays one the streak reads (`rows.hand_rows`).
HAND_WRITTEN_ROW = ("Evidence-Tracker-Row", "hand-written")
_KEY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]?(.*)$")
_FORM: dict[str, re.Pattern[str]] = {}  # compiled when first asked for: 25 patterns, ~1 ms


def _form(key: str) -> re.Pattern[str]:
    found = _FORM.get(key)
    if found is None:
        found = _FORM[key] = re.compile(FORMS[key])
    return found


Trailers = list[tuple[str, str]]


def _common(kind: str, *, version: str, config_sha: str) -> Trailers:
    return [("Session-Type", "OPS"), ("Evidencebot-Version", version),
            ("Config-Sha256", config_sha)]


def run_block(*, run_id: str, outcome: str, record: str, record_sha256: str,
              started: str, finished: str, report_sha256: str | None,
              metrics: tuple[int, int, str, int] | None, streak: str, code_commit: str,
              code_dirty: str, client_id: int | None, codes: Sequence[int],
              disconnects: int | None, retry_after: str | None, handoff: str | None,
              version: str, config_sha: str, hand_row: bool = False) -> Trailers:
    """A run commit's block. ``metrics``: (duration s, filled, ratio text, min bars)."""
    t: Trailers = [("Evidence-Kind", "step1a-burnin"), ("Evidence-Run-Id", run_id),
                   ("Evidence-Outcome", outcome), ("Evidence-Record", record),
                   ("Evidence-Record-Sha256", record_sha256),
                   ("Evidence-Started-At", started), ("Evidence-Finished-At", finished)]
    if report_sha256:
        t.append(("Evidence-Report-Sha256", report_sha256))
    if metrics is not None:
        t += list(zip(METRIC_KEYS, (str(metrics[0]), str(metrics[1]), metrics[2],
                                    str(metrics[3])), strict=True))
    t += [("Burnin-Streak", streak), ("Code-Commit", code_commit), ("Code-Dirty", code_dirty)]
    if client_id is not None:
        t.append(("Ibkr-Client-Id", str(client_id)))
    if codes:
        t.append(("Ibkr-Codes", ",".join(str(c) for c in codes)))
    if disconnects is not None:
        t.append(("Ibkr-Disconnects", str(disconnects)))
    if retry_after:
        t.append(("Retry-After", retry_after))
    if handoff:
        t.append(("Handoff", handoff))
    if hand_row:
        t.append(HAND_WRITTEN_ROW)
    return t + _common("step1a-burnin", version=version, config_sha=config_sha)


def closure_block(*, milestone: str, runs: Sequence[str], version: str,
                  config_sha: str) -> Trailers:
    return [("Evidence-Kind", "milestone"), ("Milestone", milestone),
            ("Milestone-Status", "CLOSED"), ("Milestone-Evidence", ", ".join(runs)),
            *_common("milestone", version=version, config_sha=config_sha)]


def void_block(*, run_id: str, reason: str, version: str, config_sha: str) -> Trailers:
    return [("Evidence-Kind", "void"), ("Evidence-Run-Id", run_id), ("Void-Reason", reason),
            *_common("void", version=version, config_sha=config_sha)]


def check_block(*, failed: Sequence[str], next_window: str | None, version: str,
                config_sha: str) -> Trailers:
    t: Trailers = [("Evidence-Kind", "check"), ("Check-Failed", ", ".join(failed))]
    if next_window:
        t.append(("Check-Next-Window", next_window))
    return t + _common("check", version=version, config_sha=config_sha)


def render_message(subject: str, body: str, trailers: Sequence[tuple[str, str]]) -> str:
    """An ops commit message: subject, body, one trailer block as the last paragraph."""
    for key, value in trailers:
        if "\n" in value or "\r" in value:
            raise ValueError(f"trailer {key} has a line break in its value")
    lines = [subject.strip(), ""]
    if body.strip():
        # A '---' divider would end the message for git interpret-trailers: keep it out of
        # bodies (the line kept, its dashes spaced)
        safe = [("- - -" + ln[3:] if _DIVIDER.match(ln + "\n") else ln)
                for ln in (ln.rstrip() for ln in body.splitlines())]
        lines += [*safe, ""]
    lines += [f"{k}: {v}" for k, v in trailers]
    return "\n".join(lines) + "\n"


_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def _real_time(value: str) -> bool:
    """Whether ``value`` (``YYYY-MM-DDTHH:MM:SSZ``) names a real instant, as `datetime`
    takes it: a day the calendar has, hours below 24, minutes and seconds below 60."""
    m = _TIME.fullmatch(value)
    if m is None:
        return False
    h, mi, s = m.groups()  # two digits each: compared as text
    return h < "24" and mi < "60" and s < "60" and _real_day(value[:10])


@lru_cache(maxsize=512)
def _real_day(day: str) -> bool:
    """Whether ``YYYY-MM-DD`` is a day of the calendar (a history's runs share days: each
    is asked once)."""
    from datetime import date

    try:
        date(int(day[:4]), int(day[5:7]), int(day[8:10]))
    except ValueError:
        return False
    return True


def _paragraphs(message: str) -> list[list[str]]:
    """The message's paragraphs, split where git splits them (trailer.c is_blank_line): at
    lines of spaces, tabs and CRs only. A line of a form feed or a no-break space is text to
    git, so it is here too: else the block validated and the block git reads could differ."""
    lines = [ln for ln in message.replace("\r\n", "\n").split("\n") if not ln.startswith("#")]
    paras: list[list[str]] = []
    cur: list[str] = []
    for ln in lines:
        if ln.strip(" \t\r"):
            cur.append(ln)
        elif cur:
            paras.append(cur)
            cur = []
    if cur:
        paras.append(cur)
    return paras


def parse_block(message: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The trailers of the last paragraph and every line in it that is not a trailer."""
    paras = _paragraphs(message)
    if len(paras) < 2:
        return [], []
    pairs: list[tuple[str, str]] = []
    junk: list[str] = []
    for ln in paras[-1]:
        m = _KEY.match(ln)
        if m:
            pairs.append((m.group(1), m.group(2).strip()))
        else:
            junk.append(ln)
    return pairs, junk


# git's divider (trailer.c, find_patch_start): a line that starts with "---" and then a
# space, a tab, a CR or its end. interpret-trailers reads no trailer after one.
_DIVIDER = re.compile(r"^---[ \t\r\n]", re.MULTILINE)
# A comment line (git's comment character, which every trailer read pins to "#"): git's
# trailer parser skips it and stops at a scissors line, so the block git reads and the
# message's last paragraph differ (found by an adversary: a second block after a scissors
# line was validated while git's went unchecked). evidencebot writes none.
_COMMENT = re.compile(r"^#", re.MULTILINE)
_ALLOWED = {kind: frozenset(REQUIRED[kind]) | frozenset(OPTIONAL[kind]) for kind in KINDS}


def validate(message: str) -> list[str]:
    """Problems with an ops commit message's trailer block (empty when it is valid)."""
    pairs, junk = parse_block(message)
    return check(pairs, junk, message)


def validate_parsed(pairs: Sequence[tuple[str, str]], message: str) -> list[str]:
    """`validate` for a message whose trailers git already parsed (``git log
    %(trailers)``): the message is read again only when its last paragraph holds more
    lines than git found trailers (junk, or continuation lines)."""
    last = message.rstrip("\n").rsplit("\n\n", 1)[-1]
    if last.count("\n") + 1 != len(pairs) or "#" in last:
        return validate(message)
    return check(pairs, (), message)


def check(pairs: Sequence[tuple[str, str]], junk: Sequence[str], message: str) -> list[str]:
    problems: list[str] = []
    found = _DIVIDER.search(message) if "---" in message else None  # (only where it can be)
    if found:
        at = message.count("\n", 0, found.start())
        shown = message.split("\n")[at][:40]
        problems.append(f"line {at + 1} ({shown!r}) is a '---' line: git interpret-trailers "
                        "stops reading there")
    hashed = _COMMENT.search(message) if "#" in message else None
    if hashed:
        at = message.count("\n", 0, hashed.start())
        shown = message.split("\n")[at][:40]
        problems.append(f"line {at + 1} ({shown!r}) starts with '#': git reads it as a "
                        "comment, and no trailer after a scissors line")
    for ln in junk:
        problems.append(f"not a trailer in the trailer block: {ln.strip()!r}")
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            problems.append(f"{key} appears twice")
        seen[key] = value
    kind = seen.get("Evidence-Kind")
    if kind is None:
        problems.append("no Evidence-Kind trailer in the last paragraph")
        return problems
    if kind not in KINDS:
        problems.append(f"Evidence-Kind {kind!r} is not one of {', '.join(KINDS)}")
        return problems
    required = list(REQUIRED[kind])
    if kind == "step1a-burnin" and seen.get("Evidence-Outcome") in REPORTED:
        required += METRIC_KEYS
    allowed = _ALLOWED[kind]
    for key in required:
        if key not in seen:
            problems.append(f"missing trailer {key} (required for Evidence-Kind: {kind})")
    for key, value in seen.items():
        if key not in allowed:
            problems.append(f"trailer {key} does not belong on Evidence-Kind: {kind}")
        elif not _form(key).fullmatch(value):
            problems.append(f"trailer {key}: {value!r} is not of the form {FORMS[key]}")
        elif key in TIME_KEYS and not _real_time(value):
            problems.append(f"trailer {key}: {value!r} is not a real UTC time")
    return problems
