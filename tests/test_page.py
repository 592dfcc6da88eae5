"""The report page: pure checks on the HTML, then the same page in real headless Chromium."""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from chromium import ChromiumError, PageResult, WebSocket, find_chromium, load

from evidencebot.frozen import replace
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


# --- pure -------------------------------------------------------------------------------


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


# --- the websocket client, against frames written by hand -------------------------------


def frame(opcode: int, payload: bytes, *, final: bool = True) -> bytes:
    """A server frame: never masked; 7-, 16- or 64-bit length as its size needs."""
    n = len(payload)
    size = bytes([n]) if n < 126 else (bytes([126]) + struct.pack("!H", n) if n < 1 << 16
                                       else bytes([127]) + struct.pack("!Q", n))
    return bytes([(0x80 if final else 0) | opcode]) + size + payload


def unmask(data: bytes) -> tuple[int, bytes]:
    """(opcode, payload) of one client frame, which must be masked."""
    assert data[1] & 0x80, "client frames must be masked"
    n, pos = data[1] & 0x7F, 2
    if n == 126:
        (n,), pos = struct.unpack("!H", data[2:4]), 4
    elif n == 127:
        (n,), pos = struct.unpack("!Q", data[2:10]), 10
    mask, body = data[pos:pos + 4], data[pos + 4:pos + 4 + n]
    return data[0] & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(body))


def test_websocket_joins_continuation_frames_and_answers_pings() -> None:
    ours, chromium_end = socket.socketpair()
    with ours, chromium_end:
        ws = WebSocket(ours, time.monotonic() + 5)
        big = "é" * 40_000  # 80,000 bytes: a 64-bit length
        frames = (frame(0x1, b'{"id": ', final=False) + frame(0x9, b"hi")
                  + frame(0x0, b"1", final=False) + frame(0x0, b"}") + frame(0x1, big.encode()))
        writer = threading.Thread(target=chromium_end.sendall, args=(frames,))
        writer.start()  # more than a socket buffer may hold: write while we read
        assert ws.receive() == '{"id": 1}'
        assert ws.receive() == big
        writer.join()
        chromium_end.settimeout(5)
        assert unmask(chromium_end.recv(64)) == (0xA, b"hi")
        ws.send(0x1, b"x" * 300)  # a 16-bit length, masked
        assert unmask(chromium_end.recv(400)) == (0x1, b"x" * 300)


def test_websocket_refuses_a_masked_server_frame_and_a_close() -> None:
    for data in (b"\x81\x81abcd" + b"x", frame(0x8, b"")):
        ours, chromium_end = socket.socketpair()
        with ours, chromium_end:
            chromium_end.sendall(data)
            with pytest.raises(ChromiumError):
                WebSocket(ours, time.monotonic() + 5).receive()


# --- Chromium ---------------------------------------------------------------------------


def png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB/RGBA PNG, unfiltered."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack("!I", png[pos:pos + 4])
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack("!IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp, raw = 3 if colour == 2 else 4, zlib.decompress(idat)
    stride, rows, prev = width * (3 if colour == 2 else 4), [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            paeth = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - c), 2, c))[2]
            line[i] = (line[i] + (0, a, b, (a + b) // 2, paeth)[kind]) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def pixels_vary(png: bytes) -> bool:
    """True when more than 1% of pixels differ from the top-left one, in 10+ colours."""
    width, height, rows = png_pixels(png)
    bpp = len(rows[0]) // width
    pixels = [row[i:i + bpp] for row in rows for i in range(0, len(row), bpp)]
    background = pixels[0]
    differing = sum(p != background for p in pixels)
    return differing > 0.01 * width * height and len(set(pixels)) >= 10


def test_a_blank_png_is_seen_as_blank() -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack("!I", len(body)) + kind + body + struct.pack("!I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + b"\xff" * 3 * 16 for _ in range(16))
    blank = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
             + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    assert png_pixels(blank)[:2] == (16, 16)
    assert not pixels_vary(blank)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> PageResult:
    """The eight-run page (a hostile run id among them) as Chromium loaded it, once."""
    path = tmp_path_factory.mktemp("page") / "MO-2.html"
    path.write_text(render_page(page(eight_runs(), count=3)), encoding="utf-8")
    return load(path)


def test_chromium_loads_the_page_with_no_console_error_and_no_request(loaded: PageResult) -> None:
    assert loaded.console_errors == []
    assert loaded.requests == []


def test_chromium_draws_one_mark_per_run_in_each_chart(loaded: PageResult) -> None:
    assert loaded.counts == {"filled": 8, "ratio": 8, "bars": 8}
    assert "<script" not in loaded.dom.lower()
    assert 'data-run="&lt;script&gt;alert(&quot;x&quot;)' in loaded.dom


def test_chromium_screenshot_is_not_blank(loaded: PageResult) -> None:
    assert pixels_vary(loaded.screenshot_png)


def test_the_helper_sees_console_errors_and_requests(tmp_path: Path) -> None:
    """The control: a page that logs an error and fetches from the network is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><title>bad</title><script>console.error("boom")</script>'
                   '<img src="http://127.0.0.1:9/x.png">', encoding="utf-8")
    result = load(bad)
    assert "boom" in result.console_errors
    assert result.requests == ["http://127.0.0.1:9/x.png"]
    assert result.counts == {}


def test_the_helper_kills_chromium_when_it_gives_up(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Chromium cannot start in 50 ms: load raises, and no Chromium of ours is left."""
    import tempfile

    path = tmp_path / "page.html"
    path.write_text(render_page(page([])), encoding="utf-8")
    ours = tmp_path / "chromium-homes"
    ours.mkdir()
    # this load's Chromium homes (its profile is on every process's command line), not
    # those of a test running beside this one in another worker
    monkeypatch.setattr(tempfile, "tempdir", str(ours))
    with pytest.raises(ChromiumError):
        load(path, timeout=0.05)
    assert chromium_processes(str(ours)) == []


def chromium_processes(home: str) -> list[str]:
    """Command lines of live processes whose command line names ``home`` (zombies have an
    empty one)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if home in text:
            found.append(text)
    return found


@pytest.mark.parametrize(("ci", "outcome"), [
    ("true", pytest.fail.Exception), (None, pytest.skip.Exception), ("false", pytest.skip.Exception),
], ids=["ci-fails", "local-skips", "ci-false-skips"])
def test_no_chromium_skips_locally_and_fails_in_ci(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str | None, outcome: type) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        find_chromium()
