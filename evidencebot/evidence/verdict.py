"""Metrics → Verdict: every `[qualify]` threshold that failed, in a fixed order.

The report's own ``passed`` flag is never trusted: the verdict is recomputed from the
thresholds, and a disagreement is noted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..config import Qualify
from ..frozen import frozen


@frozen
class Verdict:
    qualifying: bool
    reasons: tuple[str, ...]  # every threshold that failed, in a fixed order
    report_passed: bool | None
    disagreement: str | None  # set when the report's own flag says otherwise

    @property
    def outcome(self) -> str:
        return "qualifying" if self.qualifying else "non-qualifying"


class MetricValues(Protocol):
    """What a verdict reads: a Metrics, or the metrics stored in a record (verify)."""

    @property
    def paper_duration_seconds(self) -> int: ...
    @property
    def filled_orders(self) -> int: ...
    @property
    def symbol_data_availability_ratio(self) -> float: ...
    @property
    def min_bars_per_symbol(self) -> int: ...
    @property
    def runs_completed(self) -> int: ...
    @property
    def runs_requested(self) -> int: ...
    @property
    def report_passed(self) -> bool | None: ...


def verdict(m: MetricValues, q: Qualify, *, code_dirty: bool,
            extra: Sequence[str] = ()) -> Verdict:
    """Every failed threshold, in a fixed order, then ``extra`` (the trust rules: window,
    duration, reviewed code); never the report's own flag."""
    reasons: list[str] = []
    if m.paper_duration_seconds < q.min_paper_duration_seconds:
        reasons.append(
            f"paper duration {m.paper_duration_seconds} s < {q.min_paper_duration_seconds} s"
        )
    if m.filled_orders < q.min_filled_orders:
        reasons.append(f"{m.filled_orders} filled orders < {q.min_filled_orders}")
    if m.symbol_data_availability_ratio < q.min_symbol_data_availability_ratio:
        reasons.append(_below("data ratio", m.symbol_data_availability_ratio,
                              q.min_symbol_data_availability_ratio))
    if m.min_bars_per_symbol < q.min_bars_per_symbol:
        reasons.append(f"min bars per symbol {m.min_bars_per_symbol} < {q.min_bars_per_symbol}")
    if m.runs_completed < m.runs_requested:
        reasons.append(f"runs completed {m.runs_completed} of {m.runs_requested}")
    if code_dirty and not q.allow_dirty_code:
        reasons.append("code under test was dirty")
    reasons.extend(extra)
    ok = not reasons
    disagreement = None
    if m.report_passed is not None and m.report_passed != ok:
        disagreement = (
            f"the report says passed={str(m.report_passed).lower()}, the thresholds say "
            f"{'qualifying' if ok else 'non-qualifying'}"
        )
    return Verdict(ok, tuple(reasons), m.report_passed, disagreement)


def _below(what: str, x: float, least: float) -> str:
    """``what x < least`` with x shown as it is where rounding would show it equal to the
    threshold (0.7999999999999999, not "0.8 < 0.8")."""
    shown, bound = fmt_ratio(x), fmt_ratio(least)
    return f"{what} {repr(float(x)) if shown == bound else shown} < {bound}"


def fmt_ratio(x: float) -> str:
    """A ratio as the shortest faithful decimal to six places: 0.857, 0.8, 1.0, 0.00005
    (never in exponent form, "5e-05", nor as "-0.0": the trailer's form, adversary 48)."""
    r = round(float(x), 6) + 0.0  # (-0.0 + 0.0 is 0.0)
    return repr(r) if r == 0 or r >= 1e-4 else f"{r:.6f}".rstrip("0")


def outcome_note(v: Verdict) -> str:
    """The tracker's Outcome cell: 'qualifying' or 'non-qualifying: <reasons>'."""
    return v.outcome if v.qualifying else f"non-qualifying: {'; '.join(v.reasons)}"
