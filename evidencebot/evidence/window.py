"""The session window: which days and hours a run may occupy (UTC, weekdays, bank holidays).

Pure: the instant is passed in. `check`, `next`, `schedule` and the verdict of every
recorded run use these same functions, so "inside the window" means one thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from ..config import Config
from ..frozen import frozen

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@frozen
class Window:
    days: tuple[str, ...]
    start: time
    end: time
    holidays: str = "UK"
    blackout: tuple[tuple[time, time], ...] = ()

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
        out = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.blackout)
        return f"{days} {hours}{hol}" + (f", blackout {out} UTC" if out else "")


def _contiguous(days: Sequence[str]) -> bool:
    idx = [DAYS.index(d) for d in days]
    return idx == list(range(idx[0], idx[0] + len(idx)))


def holiday_name(day: date, code: str) -> str | None:
    if not code:
        return None
    from .bankholidays import table

    return table(code, day.year).get(day)


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


def _days(start: datetime, finish: datetime) -> list[date]:
    return [start.date() + timedelta(days=k) for k in range((finish.date() - start.date()).days
                                                            + 1)]


def _blackouts(start: datetime, finish: datetime,
               w: Window) -> list[tuple[datetime, datetime, str]]:
    """The blackout periods that overlap [start, finish)."""
    hits = []
    for d in [start.date() - timedelta(days=1), *_days(start, finish)]:
        for bs, be in w.blackout:
            ps = datetime.combine(d, bs, tzinfo=UTC)
            pe = datetime.combine(d + timedelta(days=1) if be <= bs else d, be, tzinfo=UTC)
            if start < pe and finish > ps:
                hits.append((ps, pe, f"{bs:%H:%M}-{be:%H:%M}"))
    return hits


def _obstacle(start: datetime, finish: datetime, w: Window) -> tuple[str, datetime] | None:
    """Why a run over [start, finish] is outside the window, and the earliest instant a
    later attempt could start; None when it is inside."""
    if w.always_open:
        for d in _days(start, finish):
            why = closed_reason(d, w)
            if why:
                return why, datetime.combine(d + timedelta(days=1), time(0), tzinfo=UTC)
    else:
        day = start.date()
        tomorrow = datetime.combine(day + timedelta(days=1), w.start, tzinfo=UTC)
        why = closed_reason(day, w)
        if why:
            return why, tomorrow
        s, e = bounds(day, w)
        if start < s:
            return f"{start:%H:%M} UTC is before the window opens at {s:%H:%M}", s
        if start >= e:
            return f"{start:%H:%M} UTC is after the window closed at {e:%H:%M}", tomorrow
        if finish > e:
            secs = int((finish - start).total_seconds())
            began, ended = _clocks(start, finish, e)
            return (f"a {secs} s run started at {began} UTC would end at "
                    f"{ended}, after the window closes at {e:%H:%M}", tomorrow)
    hits = _blackouts(start, finish, w)
    if hits:
        began, ended = _clocks(start, finish, hits[0][0])
        return (f"a run from {began} to {ended} UTC overlaps the blackout "
                f"{hits[0][2]} UTC", max(h[1] for h in hits))
    return None


def _clocks(start: datetime, finish: datetime, bound: datetime) -> tuple[str, str]:
    """``start`` and ``finish`` of a run that ends after ``bound`` (a whole minute) as
    HH:MM, or with the seconds where HH:MM would show it ending at ``bound`` ("would end
    at 16:00, after the window closes at 16:00"), and their fraction where the seconds
    would too."""
    if finish.replace(second=0, microsecond=0) > bound:
        return f"{start:%H:%M}", f"{finish:%H:%M}"
    if finish.replace(microsecond=0) > bound:
        return f"{start:%H:%M:%S}", f"{finish:%H:%M:%S}"
    return (f"{start:%H:%M:%S.%f}".rstrip("0").rstrip("."),
            f"{finish:%H:%M:%S.%f}".rstrip("0").rstrip("."))


def interval_problem(start: datetime, finish: datetime, w: Window) -> str | None:
    """Why a run over [start, finish] (UTC) is not inside the window, or None: the rule
    `check` applies before a run and every verdict applies to a recorded one."""
    found = _obstacle(start.astimezone(UTC), finish.astimezone(UTC), w)
    return found[0] if found else None


def next_window_start(*, after: datetime, run_seconds: int, window: Window) -> datetime:
    """The earliest instant >= ``after`` at which a run of ``run_seconds`` may start and
    end inside the window (days, hours, bank holidays, blackouts)."""
    if not window.always_open:
        s0, e0 = bounds(after.date(), window)
        if run_seconds > (e0 - s0).total_seconds():
            raise ValueError(f"a {run_seconds} s run never fits in the window "
                             f"{window.describe()}")
    candidate = after.astimezone(UTC)
    limit = candidate + timedelta(days=370)
    while candidate < limit:
        found = _obstacle(candidate, candidate + timedelta(seconds=run_seconds), window)
        if found is None:
            return candidate
        candidate = max(found[1], candidate + timedelta(seconds=1))
    raise ValueError("no slot in the session window in the coming year")


def retry_start(*, after: datetime, run_seconds: int, window: Window) -> datetime:
    """Where a retry goes after a market-data failure: the first slot in a later window
    (the one that failed is assumed to stay without data until it closes)."""
    _start, end = bounds(after.date(), window)
    return next_window_start(after=max(after, end), run_seconds=run_seconds, window=window)


def window_of(cfg: Config) -> Window:
    """The window a config describes."""
    from ..config import parse_period

    w = cfg.window
    return Window(tuple(w.days), w.start, w.end, w.holidays,
                  tuple(parse_period(p) for p in w.blackout))
