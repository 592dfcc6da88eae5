"""`shape.build`: the config's validation, one message per wrong value, naming its key."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot import config
from evidencebot.errors import UsageError
from evidencebot.frozen import frozen
from evidencebot.shape import Invalid, as_dict, build, listed, spec


@pytest.mark.parametrize(("text", "message"), [
    ("[burnin]\nruns = true\n", "burnin.runs: Input should be a valid integer"),
    ("[burnin]\nruns = '2'\n", "burnin.runs: Input should be a valid integer"),
    ("[burnin]\nruns = 1.5\n", "burnin.runs: Input should be a valid integer"),
    ("[burnin]\nruns = 0\n", "burnin.runs: Input should be greater than or equal to 1"),
    ("[burnin]\ntimeout_seconds = 0\n", "burnin.timeout_seconds: Input should be greater than 0"),
    ("[burnin]\ntimeout_seconds = nan\n", "Input should be a finite number"),
    ("[qualify]\nmin_symbol_data_availability_ratio = 1.01\n",
     "Input should be less than or equal to 1"),
    ("[qualify]\nallow_dirty_code = 1\n", "qualify.allow_dirty_code: Input should be a valid boolean"),
    ("[ops]\nbranch = 3\n", "ops.branch: Input should be a valid string"),
    ("[ops]\nprovider = 'bitbucket'\n", "Input should be 'auto', 'none', 'gitlab' or 'github'"),
    ("[ops]\ncode_paths = 'src/'\n", "ops.code_paths: Input should be a valid list"),
    ("[ops]\ncode_paths = ['src/', 4]\n", "ops.code_paths.1: Input should be a valid string"),
    ("[window]\ndays = ['Mon', 'Funday']\n", "window.days.1: Input should be 'Mon'"),
    ("[ibkr]\nclient_id_range = [1, 2, 3]\n", "ibkr.client_id_range: Input should be a valid tuple"),
    ("[milestone.MO-2]\nconsecutive = 0\n", "milestone.MO-2.consecutive"),
    ("[milestone.MO-2]\nquorum = 2\n", "unknown key [milestone.MO-2] quorum"),
    ("ops = 3\n", "ops: Input should be a valid dictionary"),
])
def test_wrong_values_name_their_key(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        config.parse(text.encode(), source="evidencebot.toml")
    assert message in str(e.value)


def test_values_of_the_right_shape_are_read() -> None:
    c = config.parse(b"[window]\nstart = 07:30:00\nend = '15:45'\n[burnin]\ntimeout_seconds = 60\n"
                     b"runs = 2.0\n[qualify]\nmax_disconnects = 1\n", source="evidencebot.toml")
    assert c.window.start == time(7, 30) and c.window.end == time(15, 45)
    assert c.burnin.timeout_seconds == 60.0 and isinstance(c.burnin.timeout_seconds, float)
    assert c.burnin.runs == 2 and isinstance(c.burnin.runs, int)
    assert c.qualify.max_disconnects == 1 and config.Config().qualify.max_disconnects is None


@given(runs=st.integers(min_value=1, max_value=10**6),
       ratio=st.floats(min_value=0, max_value=1),
       paths=st.lists(st.text(max_size=8), max_size=4))
def test_a_section_reads_back_what_as_dict_gives(runs: int, ratio: float, paths: list[str]) -> None:
    b = build(config.Burnin, {"runs": runs, "min_symbol_data_availability_ratio": ratio})
    assert build(config.Burnin, as_dict(b)) == b
    o = build(config.Ops, {"code_paths": paths})
    assert o.code_paths == paths and build(config.Ops, as_dict(o)) == o


def test_records_read_back_what_they_write_and_name_what_is_wrong() -> None:
    import json

    from evidencebot.evidence.record import VoidRecord, read_file
    from evidencebot.shape import Invalid

    v = VoidRecord(run_id="r1", reason="wrong gateway", voided_at="2026-11-25T09:00:00Z",
                   record="reports/evidence/step1a/r1.json", record_sha256="0" * 64)
    data = v.to_bytes()
    assert json.loads(data)["schema"] == 1 and read_file(VoidRecord, data) == v
    doc = json.loads(data)
    for change, where, words in [
        ({"schema": "1"}, ("schema",), "valid integer"),
        ({"voided_at": "2026-11-25 09:00"}, ("voided_at",), "not a UTC time"),
        ({"kind": "step1a-burnin"}, ("kind",), "Input should be 'void'"),
        ({"extra": 1}, ("extra",), "Extra inputs"),
    ]:
        with pytest.raises(Invalid) as e:
            build(VoidRecord, doc | change)
        assert e.value.loc == where and words in e.value.message
    with pytest.raises(Invalid) as e:
        build(VoidRecord, {k: x for k, x in doc.items() if k != "reason"})
    assert e.value.loc == ("reason",) and e.value.message == "Field required"
    with pytest.raises(Invalid, match="Invalid JSON"):
        read_file(VoidRecord, b"{not json")


def test_report_metrics_are_strict_about_numbers_and_zones() -> None:
    from datetime import UTC, datetime

    from evidencebot.evidence.report import Metrics
    from evidencebot.shape import Invalid

    good = {"run_id": "r1", "started_at": "2026-11-25T09:00:00Z",
            "finished_at": "2026-11-25T09:30:00+01:00", "paper_duration_seconds": 1800,
            "filled_orders": 1, "symbol_data_availability_ratio": 1, "min_bars_per_symbol": 100,
            "runs_completed": 1}
    m = build(Metrics, good)
    assert m.finished_at == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    assert m.symbol_data_availability_ratio == 1.0 and m.runs_requested == 1
    for key, bad, words in [("filled_orders", 1.0, "valid integer"),
                            ("filled_orders", True, "valid integer"),
                            ("symbol_data_availability_ratio", "0.9", "valid number"),
                            ("started_at", "2026-11-25T09:00:00", "time zone"),
                            ("started_at", "noon", "valid datetime"),
                            ("code_commit", "abc", "full commit id"),
                            ("runs_requested", 0, "greater than or equal to 1")]:
        with pytest.raises(Invalid) as e:
            build(Metrics, good | {key: bad})
        assert e.value.loc == (key,) and words in e.value.message, (key, e.value.message)


def test_values_at_the_edges_are_invalid_never_a_crash() -> None:
    from evidencebot.evidence.record import RecordMetrics, VoidRecord
    from evidencebot.evidence.report import Metrics
    from evidencebot.shape import Invalid

    metrics = {"paper_duration_seconds": 1, "filled_orders": 1, "min_bars_per_symbol": 1,
               "runs_completed": 1, "symbol_data_availability_ratio": 10 ** 400}
    with pytest.raises(Invalid, match="finite number"):
        build(RecordMetrics, metrics)
    with pytest.raises(Invalid, match="valid integer"):
        build(RecordMetrics, metrics | {"symbol_data_availability_ratio": 0.5,
                                        "paper_duration_seconds": 1e300})
    void = {"run_id": "r", "reason": "x", "voided_at": "2026-11-25T09:00:00Z", "record": "p",
            "record_sha256": "0" * 64}
    with pytest.raises(Invalid, match="given twice"):
        build(VoidRecord, void | {"schema": 1, "schema_version": 1})
    report = {"run_id": "r1", "finished_at": "2026-11-25T09:30:00Z",
              "paper_duration_seconds": 1, "filled_orders": 1, "min_bars_per_symbol": 1,
              "runs_completed": 1, "symbol_data_availability_ratio": 1.0}
    for edge in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+01:00"):
        with pytest.raises(Invalid) as e:
            build(Metrics, report | {"started_at": edge})
        assert e.value.loc == ("started_at",)
    with pytest.raises(UsageError, match="finite number"):
        config.parse(b"[qualify]\nmin_symbol_data_availability_ratio = " + b"9" * 400 + b"\n",
                     source="evidencebot.toml")


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")),
    st.from_regex(r"[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}Z?",
                  fullmatch=True),
    st.text(max_size=22)))
def test_parse_stamp_reads_what_strptime_reads(text: str) -> None:
    """The fast path for the exact form changes nothing: the same datetime, or ValueError."""
    from evidencebot.evidence.stamps import FORMAT, parse_stamp

    try:
        want: object = datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
    except ValueError:
        want = ValueError
    try:
        got: object = parse_stamp(text)
    except ValueError:
        got = ValueError
    assert got == want



@frozen(kw_only=True)
class _Inner:
    n: int = 1


@frozen
class _Outer:
    name: str
    tags: list[str] = listed("a")
    inner: _Inner | None = None
    count: int = spec(2, alias="Count")


_calls: list[int] = []


@frozen
class _Checked:
    n: int

    def __post_init__(self) -> None:
        _calls.append(self.n)

def test_a_built_frozen_instance_is_the_one_its_init_makes() -> None:
    """`build` sets a frozen class's checked values at once (no call of its `__init__`):
    defaults and default factories fill what the data leaves out, a factory's value is
    fresh each time, and the instance equals, hashes, prints and reads back as the one
    ``cls(**values)`` makes; a class with `__post_init__` is still called."""
    Outer, Inner = _Outer, _Inner
    for data, values in (({"name": "x"}, {"name": "x"}),
                         ({"name": "x", "Count": 5, "inner": {"n": 3}, "tags": ["b"]},
                          {"name": "x", "count": 5, "inner": Inner(n=3), "tags": ["b"]})):
        built, made = build(Outer, data), Outer(**values)
        assert built == made and hash(built.inner) == hash(made.inner)
        assert repr(built) == repr(made) and as_dict(built) == as_dict(made)
        assert vars(built) == vars(made)
    first, second = build(Outer, {"name": "x"}), build(Outer, {"name": "y"})
    assert first.tags == ["a"] and first.tags is not second.tags
    with pytest.raises(Exception, match="cannot assign"):
        first.name = "z"  # type: ignore[misc]

    _calls.clear()
    assert build(_Checked, {"n": 4}) == _Checked(4) and _calls == [4, 4]


def test_a_number_that_is_no_whole_number_is_shown_in_its_message() -> None:
    """Newcomer 17: a report's "paper_duration_seconds": 1800.0 was refused, and the
    message did not say what it held."""
    from evidencebot.evidence.report import Metrics

    good = {"run_id": "r1", "started_at": "2026-11-25T09:00:00Z",
            "finished_at": "2026-11-25T09:30:00Z", "paper_duration_seconds": 1800,
            "filled_orders": 1, "symbol_data_availability_ratio": 1, "min_bars_per_symbol": 100,
            "runs_completed": 1}
    for bad, shown in ((1800.0, "not 1800.0"), (True, "not true"), ("\x1b[2J", r"'\x1b[2J'")):
        with pytest.raises(Invalid) as e:
            build(Metrics, good | {"paper_duration_seconds": bad})
        assert shown in e.value.message and "\x1b" not in e.value.message
