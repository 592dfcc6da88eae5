"""The `evidencebot report` page: one self-contained HTML file a reviewer opens from disk.

Pure: `render_page` takes a complete `PageData` and returns the page; same input, same
bytes (no clock). The page has no script, fetches nothing (inline style, inline SVG, no
external URL) and escapes every string it is given: run ids, reasons and record paths come
from reports and git history, so they are treated as hostile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from urllib.parse import quote

from ..frozen import frozen


@frozen
class RunPoint:
    """One attempt as the page draws it: a run (metrics unless it failed) or a refusal."""

    run_id: str
    started_at: str  # ISO 8601 UTC
    kind: str  # "run" | "refused"
    # qualifying | non-qualifying | failed-infra | failed-market-data | failed-code | refused
    outcome: str
    filled: int | None
    ratio: float | None
    min_bars: int | None
    reasons: tuple[str, ...]
    record: str | None  # repo-relative path of the evidence record
    in_streak: bool
    voided: bool


@frozen
class Thresholds:
    """What a run needs to qualify; each metric must be at least its threshold."""

    min_filled: int
    min_ratio: float
    min_bars: int


@frozen
class PageData:
    """Everything the page shows, built complete by the caller."""

    milestone: str
    count: int
    needed: int
    closed: bool
    closed_on: str | None
    closure_runs: tuple[str, ...]
    branch: str
    runs: tuple[RunPoint, ...]
    thresholds: Thresholds
    link_prefix: str = ""  # prepended to each record path, e.g. "../../" (trusted: config)


@frozen
class _Metric:
    key: str
    title: str
    axis: str
    value: Callable[[RunPoint], float | None]
    threshold: Callable[[Thresholds], float]
    integer: bool
    floor_top: float


_METRICS = (
    _Metric("filled", "Filled orders per run", "Filled orders",
            lambda r: r.filled, lambda t: t.min_filled, True, 1.0),
    _Metric("ratio", "Symbol data availability per run", "Data availability ratio",
            lambda r: r.ratio, lambda t: t.min_ratio, False, 1.0),
    _Metric("bars", "Minimum bars per symbol per run", "Min bars per symbol",
            lambda r: r.min_bars, lambda t: t.min_bars, True, 1.0),
)
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 720, 220, 64, 56, 14, 44
_PLOT_W, _PLOT_H = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
_X_LABEL_GAP = 120  # px between x labels; one label is about 100 px wide

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem auto;
max-width:60rem;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .25rem}
figure{margin:.5rem 0 1rem}svg{width:100%;height:auto;display:block}
svg text{font-size:11px;fill:#333}.empty text,p.empty{font-style:italic;fill:#666;color:#666}
.axis{stroke:#333;stroke-width:1}.grid{stroke:#ddd;stroke-width:1}
.threshold{stroke:#333;stroke-width:1.5;stroke-dasharray:6 4}
text.threshold-label{paint-order:stroke;stroke:#fff;stroke-width:3px;font-weight:600}
.qualifying .shape{fill:#0072B2}.non-qualifying .shape{fill:#D55E00}
.missing .shape{fill:none;stroke:#444;stroke-width:1.6}
.refused .shape{fill:none;stroke:#CC79A7;stroke-width:1.6}
.ring{fill:none;stroke:#009E73;stroke-width:1.6}.strike{stroke:#000;stroke-width:1.4}
.voided .shape,.voided .ring{opacity:.4}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.voided td{text-decoration:line-through}
"""


def render_page(data: PageData) -> str:
    """The complete HTML5 page for ``data``: state, legend, three charts, the runs table.

    Deterministic (runs are ordered by start time, ties kept in input order), no
    ``<script>``, no external URL, every given string escaped."""
    runs = tuple(sorted(data.runs, key=lambda r: r.started_at))
    state = _state(data)
    charts = "\n".join(_chart(m, runs, m.threshold(data.thresholds)) for m in _METRICS)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # no favicon request
        f"<title>{escape(state)} · evidencebot</title>", f"<style>{_STYLE}</style>", "</head>",
        "<body>", f"<h1>{escape(state)}</h1>", _summary(data, runs), _legend(), charts,
        "<h2>Runs</h2>", _table(runs, data.link_prefix), "</body>", "</html>", "",
    ])


def _state(data: PageData) -> str:
    """"MO-2: 2/3", or "MO-2: CLOSED on DATE (runs a, b, c)"."""
    if not data.closed:
        return f"{data.milestone}: {data.count}/{data.needed}"
    on = f" on {data.closed_on}" if data.closed_on else ""
    runs = f" (runs {', '.join(data.closure_runs)})" if data.closure_runs else ""
    return f"{data.milestone}: CLOSED{on}{runs}"


def _summary(data: PageData, runs: Sequence[RunPoint]) -> str:
    t = data.thresholds
    line = (f"Ops branch <code>{escape(data.branch)}</code>: {len(runs)} attempt(s); "
            f"{data.needed} consecutive qualifying runs close {escape(data.milestone)}. "
            f"A run qualifies with at least {t.min_filled} filled order(s), a data "
            f"availability ratio of at least {t.min_ratio:g} and at least {t.min_bars} bars "
            "for every symbol.")
    empty = '<p class="empty">No runs yet.</p>' if not runs else ""
    return f"<p>{line}</p>{empty}"


def _status(run: RunPoint) -> str:
    """The fixed class a run is drawn with; never the raw outcome, which is input."""
    if run.kind == "refused" or run.outcome == "refused":
        return "refused"
    if run.outcome == "qualifying":
        return "qualifying"
    return "missing" if run.outcome.startswith("failed") else "non-qualifying"


def _shape(status: str, x: float, y: float, r: float) -> str:
    """Circle, diamond, cross or hollow triangle: shape tells the status without colour."""
    if status == "qualifying":
        return f'<circle class="shape" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"/>'
    if status == "non-qualifying":
        d = r * 1.3
        return (f'<path class="shape" d="M{x:.1f} {y - d:.1f}L{x + d:.1f} {y:.1f}'
                f'L{x:.1f} {y + d:.1f}L{x - d:.1f} {y:.1f}Z"/>')
    if status == "refused":
        h = r * 0.8
        return (f'<path class="shape" d="M{x - r:.1f} {y - h:.1f}L{x + r:.1f} {y - h:.1f}'
                f'L{x:.1f} {y + h:.1f}Z"/>')
    return (f'<path class="shape" d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}'
            f'M{x - r:.1f} {y + r:.1f}L{x + r:.1f} {y - r:.1f}"/>')


def _nice_step(raw: float, integer: bool) -> float:
    """The smallest 1-2-(2.5)-5 x 10^k at least ``raw`` (whole numbers for counts)."""
    exp = 10.0 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * exp for m in steps if m * exp >= raw)
    return max(step, 1.0) if integer else step


def _y_scale(metric: _Metric, values: Sequence[float], threshold: float) -> tuple[float, float]:
    """(top, step) of the y axis: covers every value and the threshold, 2 to 5 ticks."""
    peak = max([metric.floor_top, threshold, *values])
    step = _nice_step(peak / 4, metric.integer)
    return step * math.ceil(peak / step - 1e-9), step


def _chart(metric: _Metric, runs: Sequence[RunPoint], threshold: float) -> str:
    """One ``<svg class="chart">`` with exactly one ``g.mark`` per run, in run order."""
    values = [v for r in runs if (v := _value(metric, r)) is not None]
    top, step = _y_scale(metric, values, threshold)

    def y_of(v: float) -> float:
        return _TOP + _PLOT_H * (1 - min(max(v, 0.0), top) / top)

    parts = [f'<figure><h2 id="chart-{metric.key}">{metric.title}</h2>',
             f'<svg class="chart" data-chart="{metric.key}" viewBox="0 0 {_W} {_H}" '
             f'role="img" aria-labelledby="chart-{metric.key}">']
    for i in range(round(top / step) + 1):
        y = y_of(i * step)
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/><text x="{_LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{i * step:g}</text>')
    base, ty = _TOP + _PLOT_H, y_of(threshold)
    parts += [f'<line class="axis" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{base}" y2="{base}"/>',
              f'<line class="axis" x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{base}"/>',
              f'<text transform="translate(14 {_TOP + _PLOT_H / 2:.1f}) rotate(-90)" '
              f'text-anchor="middle">{metric.axis}</text>',
              f'<text x="{_LEFT + _PLOT_W / 2:.1f}" y="{_H - 4}" text-anchor="middle">'
              "Runs in time order (UTC)</text>",
              f'<line class="threshold" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{ty:.1f}" '
              f'y2="{ty:.1f}"/><text class="threshold-label" x="{_W - _RIGHT + 4}" '
              f'y="{ty + 4:.1f}">≥ {threshold:g}</text>']
    parts += _x_labels(runs)
    parts += [_mark(metric, run, i, len(runs), y_of) for i, run in enumerate(runs)]
    if not runs:
        parts.append(f'<g class="empty"><text x="{_LEFT + _PLOT_W / 2:.1f}" '
                     f'y="{_TOP + _PLOT_H / 2:.1f}" text-anchor="middle">No runs yet</text></g>')
    return "\n".join([*parts, "</svg></figure>"])


def _value(metric: _Metric, run: RunPoint) -> float | None:
    """The run's value on this chart; None when it has none or it is not a finite number."""
    value = metric.value(run)
    return value if value is not None and math.isfinite(value) else None


def _x_of(i: int, n: int) -> float:
    """Centre of run ``i`` of ``n`` in equal bands: defined for n = 1 (no n - 1 divisor)."""
    return _LEFT + _PLOT_W * (i + 0.5) / n


def _x_labels(runs: Sequence[RunPoint]) -> list[str]:
    """Start times of every k-th run, k chosen so labels sit at least a label's width apart
    (no overlap at any count)."""
    n = len(runs)
    stride = max(1, math.ceil(n * _X_LABEL_GAP / _PLOT_W))
    return [f'<text class="x-label" x="{_x_of(i, n):.1f}" y="{_TOP + _PLOT_H + 16}" '
            f'text-anchor="middle">{escape(_when(runs[i].started_at))}</text>'
            for i in range(0, n, stride)]


def _mark(metric: _Metric, run: RunPoint, i: int, n: int,
          y_of: Callable[[float], float]) -> str:
    """The run's mark: its shape at its value, or on the baseline when it has no value;
    a ring when it is in the streak, a strike when it is voided, a tooltip always."""
    x, value, status = _x_of(i, n), _value(metric, run), _status(run)
    if value is None and status != "refused":
        status = "missing"
    y = y_of(value) if value is not None else _TOP + _PLOT_H
    r = min(5.0, max(1.5, _PLOT_W / n * 0.3))
    extra = (" streak" if run.in_streak else "") + (" voided" if run.voided else "")
    parts = [f'<g class="mark {status}{extra}" data-run="{escape(run.run_id)}">',
             f"<title>{escape(_tooltip(metric, run, value))}</title>", _shape(status, x, y, r)]
    if run.in_streak:
        parts.append(f'<circle class="ring" cx="{x:.1f}" cy="{y:.1f}" r="{r + 2.5:.1f}"/>')
    if run.voided:
        s = r + 3
        parts.append(f'<line class="strike" x1="{x - s:.1f}" y1="{y + s:.1f}" '
                     f'x2="{x + s:.1f}" y2="{y - s:.1f}"/>')
    return "".join([*parts, "</g>"])


def _tooltip(metric: _Metric, run: RunPoint, value: float | None) -> str:
    shown = "no value" if value is None else f"{value:g}"
    notes = "".join([", in streak" if run.in_streak else "", ", voided" if run.voided else ""])
    return (f"{run.run_id} · {_when(run.started_at)} UTC · {run.outcome}{notes} · "
            f"{metric.axis.lower()}: {shown}")


def _when(started_at: str) -> str:
    """"2026-11-25T08:29:58Z" → "2026-11-25 08:29"; anything else unchanged."""
    return started_at[:16].replace("T", " ") if "T" in started_at else started_at


def _legend() -> str:
    """The key to the charts: shapes and colours, ring, strike, threshold line."""
    items = [("qualifying", "qualifying", ""), ("non-qualifying", "non-qualifying", ""),
             ("missing", "failed / no value", ""), ("refused", "refused", ""),
             ("qualifying", "in the streak", "ring"), ("qualifying", "voided", "strike"),
             ("", "qualifying threshold", "threshold")]
    parts = ['<svg class="legend" viewBox="0 0 720 44" role="img" aria-label="Legend">']
    for i, (status, label, extra) in enumerate(items):
        x, y = 10 + (i % 4) * 180, 12 + (i // 4) * 20
        parts.append(f'<g class="key {status}">')
        if extra == "threshold":
            parts.append(f'<line class="threshold" x1="{x - 6}" x2="{x + 8}" y1="{y}" y2="{y}"/>')
        else:
            parts.append(_shape(status, x, y, 5))
        if extra == "ring":
            parts.append(f'<circle class="ring" cx="{x}" cy="{y}" r="7.5"/>')
        if extra == "strike":
            parts.append(f'<line class="strike" x1="{x - 8}" y1="{y + 8}" x2="{x + 8}" '
                         f'y2="{y - 8}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 4}">{label}</text></g>')
    return "\n".join([*parts, "</svg>", '<p class="note">Failures and refusals have no '
                      "metrics: they sit on the baseline. Hover a mark for its run.</p>"])


def _table(runs: Sequence[RunPoint], link_prefix: str) -> str:
    """The runs, oldest first, each linking to its committed record."""
    if not runs:
        return '<p class="empty">No runs yet: <code>evidencebot run</code> records the first.</p>'
    head = ("<table><thead><tr><th>Date (UTC)</th><th>Run</th><th>Outcome</th><th>Reasons</th>"
            '<th class="num">Filled</th><th class="num">Data ratio</th>'
            '<th class="num">Min bars</th><th>Record</th></tr></thead><tbody>')
    return "\n".join([head, *(_row(r, link_prefix) for r in runs), "</tbody></table>"])


def _row(run: RunPoint, link_prefix: str) -> str:
    notes = "".join([" · streak" if run.in_streak else "", " · voided" if run.voided else ""])
    record = "—"
    if run.record:
        # Quoted so a hostile path (":" of a scheme, a leading "//") stays a relative link.
        href = link_prefix + quote(run.record.lstrip("/"), safe="/")
        record = f'<a href="{escape(href)}">{escape(run.record)}</a>'
    cells = [escape(_when(run.started_at)), f"<code>{escape(run.run_id)}</code>",
             escape(run.outcome + notes), escape("; ".join(run.reasons))]
    nums = [_num(run.filled), _num(run.ratio, ".3f"), _num(run.min_bars)]
    row_class = ' class="voided"' if run.voided else ""
    return (f"<tr{row_class}>" + "".join(f"<td>{c}</td>" for c in cells)
            + "".join(f'<td class="num">{n}</td>' for n in nums) + f"<td>{record}</td></tr>")


def _num(value: float | None, fmt: str = "d") -> str:
    return "—" if value is None else format(value, fmt)
