"""The report page: pure checks on the HTML it renders."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

import pytest

from evidencebot.milestone.page import PageData, RunPoint, Thresholds, render_page

CHARTS = ("filled", "ratio", "bars")
HOSTILE_ID = '<script>alert("x")</script>|"><b onmouseover="x">|'


def run(n: int, outcome: str = "qualifying", **changes: object) -> RunPoint:
    """Run number ``n`` (started n minutes after 08:00), qualifying unless told otherwise."""
    metrics = outcome in ("qualifying", "non-qualifying")
    point = RunPoint(
        run_id=f"20261124T{8 + n // 60:02d}{n % 60:02d}00Z-{n}", started_at=f"2026-11-24T{8 + n // 60:02d}:{n % 60:02d}:00Z",
        kind="refused" if outcome == "refused" else "run", outcome=outcome,
        filled=2 if metrics else None, ratio=0.857 if metrics else None,
        min_bars=240 if metrics else None, reasons=(),
        record=None if outcome == "refused" else f"reports/evidence/step1a/run-{n}.json",
        in_streak=False, voided=False)
    return replace(point, **changes)  # type: ignore[arg-type]


def page(runs: list[RunPoint] | tuple[RunPoint, ...], **changes: object) -> PageData:
    data = PageData(milestone="MO-2", count=0, needed=3, closed=False, closed_on=None,
                    closure_runs=(), branch="ops/evidence", runs=tuple(runs),
                    thresholds=Thresholds(min_filled=1, min_ratio=0.8, min_bars=200))
    return replace(data, **changes)  # type: ignore[arg-type]


def eight_runs() -> list[RunPoint]:
    """A failure, a refusal, a voided run, a non-qualifying run, then a 3-run streak."""
    return [
        run(0, "non-qualifying", filled=0, reasons=("0 filled orders < 1",)),
        run(1, "failed-market-data", reasons=("error 354: not subscribed",)),
        run(2, "refused", reasons=("window closed | try at 08:00",)),
        run(3, "qualifying", voided=True, reasons=("voided: code was dirty",)),
        run(4, "non-qualifying", ratio=0.5, min_bars=120, reasons=("ratio 0.5 < 0.8",)),
        run(5, run_id=HOSTILE_ID, in_streak=True),
        run(6, in_streak=True, filled=3, ratio=0.95),
        run(7, in_streak=True, min_bars=300),
    ]


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> list[Element]:
        return [self, *(d for c in self.children for d in c.walk())]

    def find(self, tag: str, cls: str | None = None) -> list[Element]:
        return [e for e in self.walk()[1:] if e.tag == tag and (cls is None or cls in e.classes())]


class Tree(HTMLParser):
    """The page as a tree of elements (void elements and self-closed SVG tags are leaves)."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "line", "circle", "path"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.tags: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def charts(html: str) -> dict[str, Element]:
    return {svg.attrs["data-chart"]: svg for svg in Tree(html).root.find("svg", "chart")}


def text_of(e: Element) -> str:
    return e.text + "".join(text_of(c) for c in e.children)


def test_page_has_no_script_and_no_external_url() -> None:
    html = render_page(page(eight_runs()))
    tree = Tree(html)
    assert "script" not in tree.tags
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html and "@import" not in html and "@font-face" not in html
    links = [v for e in tree.root.walk() for k, v in e.attrs.items() if k in ("href", "src")]
    assert links and all(":" not in v.split("/")[0] or v == "data:," for v in links)


@pytest.mark.parametrize("n", [0, 1, 2, 8, 500])
def test_every_chart_has_exactly_one_mark_per_run_in_time_order(n: int) -> None:
    runs = [run(i, "qualifying" if i % 3 else "failed-code") for i in range(n)]
    found = charts(render_page(page(list(reversed(runs)))))
    assert set(found) == set(CHARTS)
    for svg in found.values():
        assert [g.attrs["data-run"] for g in svg.find("g", "mark")] == [r.run_id for r in runs]


def test_each_chart_has_one_dashed_threshold_line_with_its_label() -> None:
    found = charts(render_page(page(eight_runs())))
    labels = {"filled": "≥ 1", "ratio": "≥ 0.8", "bars": "≥ 200"}
    for key, svg in found.items():
        assert len(svg.find("line", "threshold")) == 1
        assert [text_of(t) for t in svg.find("text", "threshold-label")] == [labels[key]]
    assert ".threshold{" in render_page(page([])) and "stroke-dasharray" in render_page(page([]))


def test_hostile_run_id_and_reasons_come_out_inert() -> None:
    hostile = run(1, "non-qualifying", reasons=('<script>x()</script>', '"quoted" | piped'),
                  run_id=HOSTILE_ID)
    html = render_page(page([hostile]))
    tree = Tree(html)
    assert "script" not in tree.tags and "b" not in tree.tags
    assert "onmouseover" not in {k for e in tree.root.walk() for k in e.attrs}
    for svg in charts(html).values():
        (mark,) = svg.find("g", "mark")
        assert mark.attrs["data-run"] == HOSTILE_ID
        assert text_of(mark.find("title")[0]).startswith(HOSTILE_ID)
    (row,) = tree.root.find("tbody")[0].find("tr")
    cells = [text_of(td) for td in row.find("td")]
    assert cells[1] == HOSTILE_ID
    assert cells[3] == '<script>x()</script>; "quoted" | piped'


@pytest.mark.parametrize(("record", "href"), [
    ("reports/evidence/step1a/r 1.json", "../../reports/evidence/step1a/r%201.json"),
    ("https://evil.example/x", "../../https%3A//evil.example/x"),
    ("//evil.example/x", "../../evil.example/x"),
    ("javascript:alert(1)", "../../javascript%3Aalert%281%29"),
], ids=["spaces-quoted", "scheme-made-relative", "protocol-relative-made-relative", "javascript"])
def test_record_links_stay_relative(record: str, href: str) -> None:
    tree = Tree(render_page(page([run(1, record=record)], link_prefix="../../")))
    (link,) = tree.root.find("a")
    assert link.attrs["href"] == href
    assert text_of(link) == record


def test_zero_runs_say_no_runs_yet() -> None:
    html = render_page(page([]))
    assert "No runs yet" in html
    assert all(svg.find("g", "mark") == [] for svg in charts(html).values())
    assert Tree(html).root.find("table") == []


def test_one_run_is_centred_not_divided_by_zero() -> None:
    found = charts(render_page(page([run(1)])))
    for svg in found.values():
        (mark,) = svg.find("g", "mark")
        (circle,) = mark.find("circle", "shape")
        (label,) = svg.find("text", "x-label")
        assert float(circle.attrs["cx"]) == float(label.attrs["x"])
        assert 64 < float(circle.attrs["cx"]) < 720


def test_rendering_is_deterministic_and_independent_of_input_order() -> None:
    runs = eight_runs()
    first = render_page(page(runs))
    shuffled = runs[:]
    random.Random(7).shuffle(shuffled)
    assert render_page(page(runs)) == first
    assert render_page(page(shuffled)) == first


@pytest.mark.parametrize(("changes", "heading"), [
    ({"count": 2}, "MO-2: 2/3"),
    ({"count": 3, "closed": True, "closed_on": "2026-11-25", "closure_runs": ("a", "b", "c")},
     "MO-2: CLOSED on 2026-11-25 (runs a, b, c)"),
    ({"count": 0, "milestone": "MO-<3>"}, "MO-<3>: 0/3"),
], ids=["open", "closed", "escaped"])
def test_heading_states_the_milestone(changes: dict[str, object], heading: str) -> None:
    (h1,) = Tree(render_page(page(eight_runs(), **changes))).root.find("h1")
    assert text_of(h1) == heading


@pytest.mark.parametrize(("point", "classes", "shape", "on_baseline"), [
    (run(1), {"qualifying"}, "circle", False),
    (run(1, "non-qualifying"), {"non-qualifying"}, "path", False),
    (run(1, "failed-infra"), {"missing"}, "path", True),
    (run(1, "refused"), {"refused"}, "path", True),
    (run(1, in_streak=True), {"qualifying", "streak"}, "circle", False),
    (run(1, voided=True), {"qualifying", "voided"}, "circle", False),
], ids=["qualifying-circle", "non-qualifying-diamond", "failure-cross-on-baseline",
        "refusal-triangle-on-baseline", "streak-ring", "voided-struck"])
def test_marks_tell_runs_apart_by_class_and_shape(point: RunPoint, classes: set[str], shape: str,
                                                   on_baseline: bool) -> None:
    svg = charts(render_page(page([point])))["filled"]
    (mark,) = svg.find("g", "mark")
    assert mark.classes() == {"mark", *classes}
    assert [e.tag for e in mark.children if "shape" in e.classes()] == [shape]
    assert bool(mark.find("circle", "ring")) == point.in_streak
    assert bool(mark.find("line", "strike")) == point.voided
    (baseline,) = [e for e in svg.find("line", "axis") if e.attrs["y1"] == e.attrs["y2"]]
    assert (centre_y(mark.children[1]) == float(baseline.attrs["y1"])) == on_baseline


def centre_y(shape: Element) -> float:
    """The vertical centre of a mark's shape: a circle's cy, a path's middle y."""
    if shape.tag == "circle":
        return float(shape.attrs["cy"])
    ys = [float(v) for v in re.findall(r"-?[\d.]+", shape.attrs["d"])[1::2]]
    return round((min(ys) + max(ys)) / 2, 1)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_a_non_finite_metric_is_drawn_as_missing(bad: float) -> None:
    html = render_page(page([run(1, ratio=bad), run(2)]))
    svg = charts(html)["ratio"]
    assert [m.classes() - {"mark"} for m in svg.find("g", "mark")] == [{"missing"}, {"qualifying"}]
    coordinates = [v for e in svg.walk() for k, v in e.attrs.items() if k in ("cx", "cy", "d", "y1")]
    assert coordinates and not any("nan" in v or "inf" in v for v in coordinates)


def test_500_runs_stay_legible() -> None:
    runs = [run(i, "qualifying" if i % 4 else "non-qualifying", in_streak=i > 496)
            for i in range(500)]
    svg = charts(render_page(page(runs)))["ratio"]
    xs = [float(t.attrs["x"]) for t in svg.find("text", "x-label")]
    assert 2 <= len(xs) <= 6
    assert all(b - a >= 110 for a, b in zip(xs, xs[1:], strict=False))
    radii = {float(c.attrs["r"]) for c in svg.find("circle", "shape")}
    assert radii and max(radii) <= 2
