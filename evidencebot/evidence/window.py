"""The session window: which days and hours a run may occupy (UTC, weekdays, bank holidays).

Pure: the instant is passed in. `check`, `next`, `schedule` and the verdict of every
recorded run use these same functions, so "inside the window" means one thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from ..config import Config

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Window:
    days: tuple[str, ...]
    start: time
    end: time
    holidays: str = "UK"

    @property
    def always_open(self) -> bool:
        """start == end means the whole day (the demo's setting)."""
        return self.start == self.end

    def describe(self) -> str:
        days = ("every day" if len(self.days) == 7 else
                f"{self.days[0]}–{self.days[-1]}" if _contiguous(self.days)
                else ", ".join(self.days))
        hours = "all day" if self.always_open else f"{self.start:%H:%M}–{self.end:%H:%M} UTC"
        hol = f", closed on {self.holidays} bank holidays" if self.holidays else ""
        return f"{days} {hours}{hol}"


def _contiguous(days: Sequence[str]) -> bool:
    idx = [DAYS.index(d) for d in days]
    return idx == list(range(idx[0], idx[0] + len(idx)))


@lru_cache(maxsize=8)
def _calendar(code: str, year: int) -> Mapping[date, str]:
    import holidays

    if code.upper() in ("UK", "GB", "GB-ENG", "ENG"):
        # England and Wales (the LSE's calendar): bank holidays incl. substitute days.
        return holidays.country_holidays("GB", subdiv="ENG", years=year)
    return holidays.country_holidays(code.upper(), years=year)


def holiday_name(day: date, code: str) -> str | None:
    if not code:
        return None
    return _calendar(code, day.year).get(day)


def closed_reason(day: date, w: Window) -> str | None:
    if DAYS[day.weekday()] not in w.days:
        return f"{day:%A} is not a session day"
    name = holiday_name(day, w.holidays)
    if name:
        return f"{day:%Y-%m-%d} is a {w.holidays} bank holiday ({name})"
    return None


def bounds(day: date, w: Window) -> tuple[datetime, datetime]:
    start = datetime.combine(day, w.start, tzinfo=UTC)
    end = start + timedelta(days=1) if w.always_open else datetime.combine(day, w.end,
                                                                          tzinfo=UTC)
    return start, end


def next_window_start(*, after: datetime, run_seconds: int, window: Window) -> datetime:
    """The earliest instant >= ``after`` at which a run of ``run_seconds`` may start."""
    if window.always_open:
        return _next_open_stretch(after, run_seconds, window)
    s0, e0 = bounds(after.date(), window)
    if run_seconds > (e0 - s0).total_seconds():
        raise ValueError(f"a {run_seconds} s run never fits in the window {window.describe()}")
    for offset in range(0, 370):
        day = after.date() + timedelta(days=offset)
        if closed_reason(day, window):
            continue
        start, end = bounds(day, window)
        candidate = max(start, after)
        if candidate + timedelta(seconds=run_seconds) <= end:
            return candidate
    raise ValueError("no session window in the coming year")


def retry_start(*, after: datetime, run_seconds: int, window: Window) -> datetime:
    """Where a retry goes after a market-data failure: the first slot in a later window
    (the one that failed is assumed to stay without data until it closes)."""
    _start, end = bounds(after.date(), window)
    return next_window_start(after=max(after, end), run_seconds=run_seconds, window=window)


def _next_open_stretch(after: datetime, run_seconds: int, window: Window) -> datetime:
    """An all-day window: the run may cross midnight into another open day."""
    candidate = after
    for _ in range(370):
        finish = candidate + timedelta(seconds=run_seconds)
        days = (finish.date() - candidate.date()).days + 1
        closed = [d for d in (candidate.date() + timedelta(days=k) for k in range(days))
                  if closed_reason(d, window)]
        if not closed:
            return candidate
        candidate = datetime.combine(closed[-1] + timedelta(days=1), time(0), tzinfo=UTC)
    raise ValueError("no session window in the coming year")


def window_of(cfg: Config) -> Window:
    """The window a config describes."""
    w = cfg.window
    return Window(tuple(w.days), w.start, w.end, w.holidays)
