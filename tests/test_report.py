from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidencebot.config import Qualify, ReportFields
from evidencebot.errors import UsageError
from evidencebot.evidence.report import check_times, load_json, metrics_from
from evidencebot.evidence.verdict import verdict
from evidencebot.frozen import replace
from evidencebot.sim.trading_repo import report

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
Q = Qualify()


def metrics(**kw: object):  # type: ignore[no-untyped-def]
    doc = report(finished=NOW - timedelta(hours=1), **kw)  # type: ignore[arg-type]
    return metrics_from(doc, ReportFields(), source="r.json")


@pytest.mark.parametrize(
    ("kw", "dirty", "reasons"),
    [
        pytest.param({}, False, [], id="all-thresholds-met"),
        pytest.param({"duration": 1799}, False, ["paper duration 1799 s < 1800 s"], id="short"),
        pytest.param({"filled": 0}, False, ["0 filled orders < 1"], id="no-fills"),
        pytest.param({"ratio": 0.79}, False, ["data ratio 0.79 < 0.8"], id="low-data"),
        pytest.param({"min_bars": 99}, False, ["min bars per symbol 99 < 100"], id="few-bars"),
        pytest.param({"runs_completed": 0}, False, ["runs completed 0 of 1"], id="incomplete"),
        pytest.param({}, True, ["code under test was dirty"], id="dirty-code"),
        pytest.param({"filled": 0, "ratio": 0.5}, False,
                     ["0 filled orders < 1", "data ratio 0.5 < 0.8"], id="every-reason-listed"),
        pytest.param({"ratio": 0.8, "min_bars": 100, "duration": 1800}, False, [],
                     id="exactly-at-thresholds"),
    ],
)
def test_verdict_lists_every_failed_threshold(kw: dict, dirty: bool, reasons: list[str]) -> None:
    v = verdict(metrics(**kw), Q, code_dirty=dirty)
    assert list(v.reasons) == reasons
    assert v.qualifying == (not reasons)


def test_dirty_code_allowed_by_config_still_qualifies() -> None:
    v = verdict(metrics(), replace(Q, allow_dirty_code=True), code_dirty=True)
    assert v.qualifying


def test_a_lying_passed_flag_is_overridden_and_noted() -> None:
    v = verdict(metrics(filled=0, passed=True), Q, code_dirty=False)
    assert not v.qualifying
    assert v.disagreement == "the report says passed=true, the thresholds say non-qualifying"
    v2 = verdict(metrics(passed=False), Q, code_dirty=False)
    assert v2.qualifying and v2.disagreement is not None


def test_bars_per_symbol_object_gives_its_minimum() -> None:
    assert metrics(min_bars=137).min_bars_per_symbol == 137


def test_a_listed_symbol_without_bars_has_none() -> None:
    """Every symbol needs its bars: one the report lists but the bars leave out has 0."""
    doc = report(finished=NOW - timedelta(hours=1))
    assert metrics_from(doc, ReportFields(), source="r").min_bars_per_symbol == 240
    del doc["preflight_bars_per_symbol"]["BARC.L"]
    assert "BARC.L" in doc["symbols"]
    m = metrics_from(doc, ReportFields(), source="r")
    assert m.min_bars_per_symbol == 0
    assert "min bars per symbol 0 < 100" in verdict(m, Q, code_dirty=False).reasons
    # No list (or the pointer unset): the bars alone decide, as before.
    del doc["symbols"]
    assert metrics_from(doc, ReportFields(), source="r").min_bars_per_symbol == 240
    doc["symbols"] = ["BARC.L"]
    assert metrics_from(doc, replace(ReportFields(), symbols=""),
                        source="r").min_bars_per_symbol == 240


def test_a_ratio_just_under_its_threshold_is_not_shown_equal_to_it() -> None:
    v = verdict(metrics(ratio=0.7999999999999999), Q, code_dirty=False)
    assert list(v.reasons) == ["data ratio 0.7999999999999999 < 0.8"]


def test_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(report(finished=NOW)).encode()
    assert load_json(data, source="r.json")["profile"] == "uk_paper"


def test_fields_come_from_configured_pointers() -> None:
    doc = {"id": "R-1", "t": {"a": "2026-11-24T09:00:00Z", "b": "2026-11-24T09:30:00Z"},
           "secs": 1800, "fills": 3, "ratio": 0.9, "bars": 150, "done": 1}
    fields = ReportFields(run_id="/id", started_at="/t/a", finished_at="/t/b",
                          paper_duration_seconds="/secs", filled_orders="/fills",
                          symbol_data_availability_ratio="/ratio", bars_per_symbol="/bars",
                          runs_completed="/done", runs_requested="", passed="", client_id="",
                          ibkr_messages="")
    m = metrics_from(doc, fields, source="r.json")
    assert (m.run_id, m.filled_orders, m.min_bars_per_symbol) == ("R-1", 3, 150)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda d: d.pop("run_id"), "missing run_id", id="missing-field"),
        pytest.param(lambda d: d.update(run_id="../etc"), "run_id: Value error", id="path-run-id"),
        pytest.param(lambda d: d.update(run_id="DU1234567"), "reads as an IBKR account number",
                     id="account-run-id"),
        # (found by adversaries: a run's heading, row and subject read "MO-2-CLOSED";
        # spelt apart, or a verdict without a milestone)
        *(pytest.param(lambda d, v=v: d.update(run_id=v), said, id=v) for v, said in [
            ("MO-2-CLOSED", "names a milestone"), ("MO--2-run", "names a milestone"),
            ("run.M0_2", "names a milestone"), ("20261127T0900Z_mo02_closed", "(closed)"),
            ("streak-met-3-of-3-signed-off", "says a verdict (met, signed)")]),
        pytest.param(lambda d: d["orders"].update(filled=-1), "orders/filled", id="negative"),
        pytest.param(lambda d: d["ibkr"].update(client_id=-5), "client_id",
                     id="negative-client-id"),  # (round 41: a trailer verify refuses)
        pytest.param(lambda d: d.update(symbol_data_availability_ratio="high"),
                     "symbol_data_availability_ratio", id="not-a-number"),
        pytest.param(lambda d: d.update(started_at_utc="2026-11-24T09:00:00"),
                     "started_at_utc", id="naive-time"),
        pytest.param(lambda d: d.update(started_at_utc=1795683600), "must be an ISO-8601 "
                     "time with a zone", id="epoch-seconds"),  # (round 41: read as UTC)
    ],
)
def test_bad_reports_are_one_line_usage_errors(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    doc = report(finished=NOW)
    mutate(doc)
    with pytest.raises(UsageError) as e:
        metrics_from(doc, ReportFields(), source="r.json")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_not_json_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not valid JSON"):
        load_json(b"{nope", source="r.json")


def test_report_finishing_in_the_future_or_before_it_starts_is_bad_input() -> None:
    future = metrics_from(report(finished=NOW + timedelta(minutes=6)), ReportFields(), source="r")
    with pytest.raises(UsageError, match="finishes in the future"):
        check_times(future, now=NOW, source="r")
    skew = metrics_from(report(finished=NOW + timedelta(minutes=4)), ReportFields(), source="r")
    check_times(skew, now=NOW, source="r")  # within five minutes of clock skew
    doc = report(finished=NOW)
    doc["started_at_utc"] = "2026-11-25T13:00:00Z"
    backwards = metrics_from(doc, ReportFields(), source="r")
    with pytest.raises(UsageError, match="before it started"):
        check_times(backwards, now=NOW, source="r")
    old = metrics_from(report(finished=NOW - timedelta(days=400)), ReportFields(), source="r")
    check_times(old, now=NOW, source="r")  # an old report is fine


@pytest.mark.parametrize("listed", [[{"symbol": "VOD.L"}], "VOD.L,BARC.L", {"VOD.L": 1}])
def test_symbols_listed_otherwise_than_by_name_are_refused(listed: object) -> None:
    """A `symbols` the bars cannot be checked against is bad input, not a pass."""
    doc = report(finished=NOW - timedelta(hours=1))
    doc["symbols"] = listed
    with pytest.raises(UsageError, match="symbols: should be a list of symbol names"):
        metrics_from(doc, ReportFields(), source="r")


def test_a_lone_surrogate_escape_is_no_text_and_a_pair_is() -> None:
    """Half of a UTF-16 pair (a .NET writer's truncated message) cannot be written as
    UTF-8 again: refused as the report is read, not a traceback when its record is."""
    with pytest.raises(UsageError, match="lone UTF-16 surrogate") as e:
        load_json(b'{"failure_reasons": ["order rejected: \\ud83d"]}', source="r.json")
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError, match="lone UTF-16 surrogate"):
        load_json(b'{"\\uDE00": 1}', source="r.json")
    assert load_json(b'{"note": "\\ud83d\\ude00"}', source="r.json") == {"note": "\U0001F600"}


@pytest.mark.parametrize("run_id", ["20261126T095958Z-m01", "20261126T095958Z-mo0800",
                                    "run_m03", "20261126T095958Z-retry"])
def test_a_run_id_with_a_suffix_of_its_own_is_no_milestone(run_id: str) -> None:
    """Found by an adversary: a host's or a model's suffix ("-m01") was read as naming a
    milestone, and a good session was recorded as failed-code."""
    doc = report(finished=NOW)
    doc["run_id"] = run_id
    assert metrics_from(doc, ReportFields(), source="r.json").run_id == run_id


@given(st.floats(min_value=-0.0, max_value=1.0))
def test_a_ratio_is_written_in_the_trailer_s_form_and_reads_back(x: float) -> None:
    from evidencebot.evidence.trailers import FORMS
    from evidencebot.evidence.verdict import fmt_ratio

    said = fmt_ratio(x)
    assert re.fullmatch(FORMS["Burnin-Symbol-Data-Availability-Ratio"], said), said
    assert float(said) == round(x, 6)
