"""The streak table: what counts, what resets, what neither counts nor resets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot.evidence.history import OpsCommit
from evidencebot.evidence.rows import HandRow
from evidencebot.evidence.streak import (
    Fact,
    Runs,
    conflicts,
    contradicted_row,
    current,
    facts,
    runs_of,
    streak,
    streak_of,
    streak_with,
)


def run(outcome: str, i: int, *, dirty: bool = False) -> OpsCommit:
    return OpsCommit(f"{i:040x}", (), "bot", f"2026-11-{i:02d}", "s", {
        "Evidence-Kind": "step1a-burnin", "Evidence-Run-Id": f"R{i}",
        "Evidence-Outcome": outcome, "Code-Dirty": "true" if dirty else "false"})


def other(kind: str, i: int, **t: str) -> OpsCommit:
    return OpsCommit(f"{i:040x}", (), "bot", f"2026-11-{i:02d}", "s", {"Evidence-Kind": kind, **t})


Q, N = "qualifying", "non-qualifying"

# Each row: the history oldest first, and the run ids of the streak.
TABLE = [
    pytest.param([], [], id="empty"),
    pytest.param([Q, Q, Q], ["R0", "R1", "R2"], id="exactly-3"),
    pytest.param([Q, Q, Q, Q, Q], ["R0", "R1", "R2", "R3", "R4"], id="more-than-3"),
    pytest.param([Q, N, Q, Q], ["R2", "R3"], id="reset-by-non-qualifying"),
    pytest.param([Q, Q, "failed-code", Q], ["R3"], id="reset-by-failed-code"),
    pytest.param([Q, "failed-infra", Q, "failed-market-data", Q], ["R0", "R2", "R4"],
                 id="infra-and-market-data-neither-count-nor-reset"),
    pytest.param([Q, Q, "dirty", Q], ["R3"], id="reset-by-dirty-code"),
    pytest.param([N, N], [], id="only-non-qualifying"),
    pytest.param([Q, "check", Q], ["R0", "R2"], id="refused-session-neither-counts-nor-resets"),
]


def build(outcomes: list[str]) -> list[OpsCommit]:
    commits = []
    for i, o in enumerate(outcomes):
        if o == "dirty":
            commits.append(run(Q, i, dirty=True))
        elif o == "check":
            commits.append(other("check", i, **{"Check-Failed": "window"}))
        else:
            commits.append(run(o, i))
    return list(reversed(commits))  # history.read gives newest first


@pytest.mark.parametrize(("outcomes", "streak"), TABLE)
def test_streak_table(outcomes: list[str], streak: list[str]) -> None:
    s = streak_of(build(outcomes), milestone="MO-2", needed=3)
    assert [r.run_id for r in s.runs] == streak
    assert s.met == (len(streak) >= 3)
    assert s.display == f"{len(streak)}/3"
    assert len(s.attempts) == len(outcomes)  # every attempt is shown, failures included


def test_closure_already_done_is_found_and_does_not_reset() -> None:
    commits = build([Q, Q, Q])
    closure = other("milestone", 9, Milestone="MO-2", **{"Milestone-Status": "CLOSED"})
    s = streak_of([run(Q, 10), closure, *commits], milestone="MO-2", needed=3)
    assert s.closed_by is closure
    assert s.count == 4  # 4/3: a closure does not reset the streak
    assert [c.run_id for c in s.attempts] == ["R10"]  # attempts since the last closure


def test_evidence_runs_are_the_last_needed() -> None:
    s = streak_of(build([Q, Q, Q, Q]), milestone="MO-2", needed=3)
    assert [r.run_id for r in s.evidence_runs] == ["R1", "R2", "R3"]


# --- the runs of a history, whole or extended (`runs_of`), and their shortcut ------------

_step = st.sampled_from(["q", "n", "infra", "dirty", "check", "void", "close", "bad",
                         "legacy", "same-report"])


def _history(steps: list[str], times: list[int]) -> list[OpsCommit]:
    """Ops commits (newest first) from ``steps``: runs started at ``times`` (hours, so they
    may be out of recording order and overlap), voids of an earlier run, closures."""
    commits: list[OpsCommit] = []
    for i, (step, hour) in enumerate(zip(steps, times, strict=False)):
        started = f"2026-11-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z"
        finished = f"2026-11-{1 + hour // 24:02d}T{hour % 24:02d}:30:00Z"
        if step in ("check", "close", "void"):
            t = {"Check-Failed": "window"} if step == "check" else \
                {"Milestone": "MO-2"} if step == "close" else \
                {"Evidence-Run-Id": f"R{max(i - 2, 0)}"}
            kind = {"check": "check", "close": "milestone", "void": "void"}[step]
            commits.append(other(kind, i, **t))
            continue
        c = run({"q": Q, "n": N, "infra": "failed-infra"}.get(step, Q), i,
                dirty=step == "dirty")
        times_ = {} if step == "legacy" else {"Evidence-Started-At": started,
                                              "Evidence-Finished-At": finished}
        report = "same" if step == "same-report" else f"{i:064x}"
        c = c._replace(trailers={**c.trailers, **times_, "Evidence-Report-Sha256": report},
                       started=times_.get("Evidence-Started-At", ""),
                       finished=times_.get("Evidence-Finished-At", ""),
                       problems=("malformed",) if step == "bad" else ())
        commits.append(c)
    return list(reversed(commits))


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(_step, max_size=14), times=st.lists(st.integers(0, 60), min_size=14,
                                                           max_size=14),
       cut=st.integers(0, 14))
def test_runs_extended_are_the_runs_of_the_whole(steps: list[str], times: list[int],
                                                 cut: int) -> None:
    """The runs of a history equal those of its older part extended by the newer commits
    (voids of older runs included), also after a round trip through the shortcut's plain
    form; the streak and the session conflicts read the same from either."""
    whole = _history(steps, times)
    cut = min(cut, len(whole))
    older, newer = whole[cut:], whole[:cut]
    full = runs_of(whole)
    extended = runs_of(newer, on=Runs.from_plain(runs_of(older).plain()))
    assert extended.plain() == full.plain()
    assert [f.commit for f in full.facts] == [f.commit for f in facts(whole)]
    new_run = dict(run_id="NEW", started="2026-11-02T05:10:00Z",
                   finished="2026-11-02T05:20:00Z", outcome=Q, dirty=False)
    assert streak_with(extended, **new_run) == streak_with(full, **new_run)  # type: ignore[arg-type]
    assert streak(whole) == len(current(facts(full)))
    ask = dict(run_id="R1", started="2026-11-01T05:10:00Z", finished="2026-11-01T05:20:00Z",
               report_sha256="same")
    assert [(r, s.sha) for r, s in conflicts(extended.sessions, **ask)] == \
        [(r, s.sha) for r, s in conflicts(full.sessions, **ask)]  # type: ignore[arg-type]


def test_a_voided_older_run_resets_where_it_falls() -> None:
    older = build([Q, Q])
    void = other("void", 9, **{"Evidence-Run-Id": "R1"})
    extended = runs_of([void], on=runs_of(older))
    assert [f.effect for f in extended.facts] == [1, -1] and extended.voids == {"R1"}
    assert streak_with(extended, run_id="R2", started="2026-11-30", finished="2026-11-30",
                       outcome=Q, dirty=False) == 1


EMPTY = [()] * 5  # no facts or sessions, column by column


@pytest.mark.parametrize("damaged", [
    None, 7, ("x",), ([("a",)], 1, [], [], EMPTY, []), (EMPTY, "x", [], [], EMPTY, []),
    (EMPTY, 1, [], [], [(1,), ("b",), ("c",), ("d",), ("e",)], []),  # a number for a run id
    ([("s",), ("f",), (1,), (1,), ()], 1, [], [], EMPTY, []),  # columns of two lengths
    ([["s"], ["f"], [1], [1], ["r"]], 1, [], [], EMPTY, []),  # lists, not the tuples written
    ([("s",), ("f",), (True,), (1,), ("r",)], 1, [], [], EMPTY, []),  # a bool for an int
    (EMPTY, 1, [1], [], EMPTY, []),  # a number among the voided run ids
    (EMPTY, 1, ("R1",), [], EMPTY, []),  # a tuple, not the list written
])
def test_a_damaged_plain_form_is_refused(damaged: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        Runs.from_plain(damaged)


row_text = st.tuples(st.sampled_from(["2026-11-20", "", "x"]),
                     st.sampled_from(["20261120T090000Z", "R1", "", "R|2"]),
                     st.sampled_from(["qualifying", "Non-qualifying", ""]))


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["append", "edit", "header", "drop"]),
                                st.lists(row_text, max_size=3)), min_size=1, max_size=6))
def test_tracker_rows_read_after_another_tracker_equal_a_fresh_read(
        steps: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
    """The tracker read last is reused for a tracker that only adds rows to it; whatever
    the next version does (adds, edits, drops rows, renames a column), the rows are those
    a read with nothing before it gives."""
    from evidencebot.evidence import rows as tracker

    header = ["Date (UTC)", "Run ID", "Outcome"]
    rows: list[tuple[str, str, str]] = []
    for kind, new in steps:
        if kind == "append":
            rows += new
        elif kind == "edit" and rows:
            rows[0] = new[0] if new else ("", "", "")
        elif kind == "drop":
            rows = rows[1:]
        else:
            header = header[::-1] if new else ["Date (UTC)", "Run ID", "Status"]
        table = "\n".join(["| " + " | ".join(header) + " |", "|---|---|---|",
                           *("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
                             for r in rows)])
        backlog = f"# B\n\n## Step 1A Burn-In Tracker\n\n{table}\n\n## Later\n".encode()
        walked = tracker.tracker_rows(backlog, "Step 1A Burn-In Tracker")
        tracker._last_read.clear()
        assert walked == tracker.tracker_rows(backlog, "Step 1A Burn-In Tracker")


fact = st.builds(lambda s, f, o, e: Fact(s, f, o, e, f"R{o}", None),
                 st.sampled_from(["2026-11-20", "2026-11-21", "2026-11-22"]),
                 st.sampled_from(["2026-11-20", "2026-11-23"]), st.integers(-1, 5),
                 st.sampled_from([-1, 0, 1]))


@settings(max_examples=300, deadline=None)
@given(older=st.lists(fact, max_size=12), new=st.lists(fact, max_size=70))
def test_facts_put_in_their_places_equal_a_stable_sort(older: list[Fact],
                                                       new: list[Fact]) -> None:
    """New facts inserted where they fall give what a stable sort of all of them gives,
    ties included (hand rows share their order, -1); many new facts are sorted."""
    from evidencebot.evidence.streak import _WHEN, _merged

    older.sort(key=_WHEN)
    assert _merged(older, new) == sorted(older + new, key=_WHEN)


_when = st.sampled_from(["", "2026-11-01T05:00:00Z", "2026-11-01T05:10:00Z",
                         "2026-11-01T05:20:00Z", "2026-11-01T05:30:00Z"])


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["R1", "R2", "R3"]), _when, _when,
                               st.sampled_from(["", "a", "b"])), max_size=8),
       ask=st.tuples(st.sampled_from(["R1", "R4"]), _when, _when,
                     st.sampled_from([None, "", "a", "c"])))
def test_session_conflicts_are_each_recorded_run_s_own(
        rows: list[tuple[str, str, str, str]], ask: tuple[str, str, str, str | None]) -> None:
    """`conflicts` (which first looks over whole columns) finds, in order, exactly what
    looking at each recorded run in turn finds: the same run, the same report, or
    times that overlap (a run without times overlaps nothing)."""
    from evidencebot.evidence.streak import Session

    sessions = [Session(r, s, f, rep, f"{i:040x}") for i, (r, s, f, rep) in enumerate(rows)]
    run_id, started, finished, report = ask
    one_by_one = []
    for s in sessions:
        if s.run_id == run_id:
            one_by_one.append(("run-recorded-twice", s.sha))
        elif report and s.report_sha256 == report:
            one_by_one.append(("report-reused", s.sha))
        elif s.started and s.finished and s.started < finished and started < s.finished:
            one_by_one.append(("overlapping-session", s.sha))
    got = [(rule, s.sha) for rule, s in conflicts(sessions, run_id=run_id, started=started,
                                                  finished=finished, report_sha256=report)]
    assert got == one_by_one


@pytest.mark.parametrize(("row_qualifies", "outcome", "dirty", "voided", "blamed"), [
    pytest.param(False, Q, False, False, True, id="non-qualifying-row-qualifying-run"),
    pytest.param(False, N, False, False, False, id="as-strict-as-the-row"),
    pytest.param(False, "failed-infra", False, False, False, id="neutral-run"),
    pytest.param(False, Q, True, False, False, id="dirty-code-resets"),
    pytest.param(False, Q, False, True, False, id="voided-run-resets"),
    pytest.param(True, Q, False, False, False, id="qualifying-row"),
    pytest.param(True, N, False, False, True, id="qualifying-row-failed-run"),  # (it would
    pytest.param(True, "failed-infra", False, False, False, id="qualifying-row-attempt"),
])  # stand for the failed run in the tracker, saying qualifying)
def test_a_run_never_overrules_its_hand_written_non_qualifying_row(
        row_qualifies: bool, outcome: str, dirty: bool, voided: bool, blamed: bool) -> None:
    history = [run(Q, 1)]
    if voided:  # (a void named the run id before the run was recorded)
        history.insert(0, other("void", 2, **{"Evidence-Run-Id": "R9"}))
    rows = [HandRow("R8", "2026-11-03T00:00:00Z", False),
            HandRow("R9", "2026-11-04T00:00:00Z", row_qualifies)]
    found = contradicted_row(runs_of(history), rows, run_id="R9", outcome=outcome, dirty=dirty)
    assert found == (rows[1] if blamed else None)
    assert contradicted_row(runs_of(history), rows, run_id="R7", outcome=Q, dirty=False) is None


@pytest.mark.parametrize(("cell", "breaks"), [
    ("qualifying", False), ("Qualifying", False), ("`qualifying`", False),
    ("**qualifying**", False), (" qualifying. ", False), ("failed-infra (gateway down)", False),
    ("failed-infra: gateway down", False), ("failed-infra; retry scheduled 08:00", False),
    ("failed-infra — gateway", False), ("failed-market-data", False),
    ("non-qualifying: 0 fills", True), ("❌ qualifying", True), ("✗ qualifying", True),
    ("qualifying: no (0 fills)", True), ("qualifying, but 0 fills", True),
    ("failed-infra, then 0 fills", True), ("qualifying failed", True),
    ("**non-qualifying**", True), ("_non-qualifying_", True), ("NON-QUALIFYING", True),
    ("non\u2011qualifying", True), ("non qualifying", True), ("not qualifying", True),
    ("failed-code", True), ("<b>qualifying</b>", True), ("qualifying-ish", True), ("", True),
    ("—", True),
])
def test_a_row_breaks_the_streak_unless_it_reads_qualifying_or_a_failed_attempt(
        cell: str, breaks: bool) -> None:
    from evidencebot.evidence.rows import row_breaks

    assert row_breaks(cell.lower()) is breaks  # (tracker_rows reads cells in lower case)
    assert row_breaks(cell) is breaks


def test_a_hand_written_row_stays_in_the_timeline_once_its_run_is_recorded() -> None:
    """A run recorded under a hand-written row's run id says so (Evidence-Tracker-Row:
    hand-written): the row stays one the streak reads, so a run that does not count, or
    one dated elsewhere, never takes its break away. The rows run commits wrote for their
    own runs are theirs, and left out."""
    from evidencebot.evidence.rows import hand_rows
    from evidencebot.evidence.streak import written_rows

    table = ("| Date (UTC) | Run ID | Outcome |\n|---|---|---|\n"
             "| 2026-11-04 | 20261104T100000Z | non-qualifying |\n"
             "| 2026-11-05 | 20261105T100000Z | non-qualifying: 0 fills |\n")
    backlog = f"# B\n\n## Step 1A Burn-In Tracker\n\n{table}\n## Later\n".encode()
    backfilled = other("step1a-burnin", 2, **{  # a failed attempt: it would not break
        "Evidence-Run-Id": "20261104T100000Z", "Evidence-Outcome": "failed-infra",
        "Evidence-Tracker-Row": "hand-written"})
    own = other("step1a-burnin", 6, **{"Evidence-Run-Id": "20261105T100000Z",
                                       "Evidence-Outcome": "non-qualifying"})
    history = [run(Q, 1), backfilled, run(Q, 3), own]
    assert written_rows(history) == {"R1", "R3", "20261105T100000Z"}
    assert runs_of(list(reversed(history))).written == written_rows(history)
    rows = hand_rows(backlog, "Step 1A Burn-In Tracker", written_rows(history))
    assert [(r.run_id, r.started, r.qualifying) for r in rows] == [
        ("20261104T100000Z", "2026-11-04T10:00:00Z", False)]
    # R1 (Nov 1) and R3 (Nov 3) before the row of Nov 4: it breaks what they made
    assert streak(list(reversed(history[:3]))) == 2
    assert streak(list(reversed(history[:3])), rows) == 0


def test_the_streak_line_right_under_the_table_is_no_row() -> None:
    """GFM reads a line right under a table as one more row of one cell: the streak line
    there names no run (read as a row, it would be one no one can place in time, breaking
    every streak); a row with no run id is read, as a row that names none."""
    from evidencebot.evidence.rows import UNPLACED, hand_rows, tracker_rows

    table = ("| Date (UTC) | Run ID | Outcome |\n|---|---|---|\n"
             "| 2026-11-04 | 20261104T100000Z | qualifying |\n"
             "| 2026-11-05 |  | non-qualifying |\n"
             "Consecutive qualifying runs: 1 of 3\n")
    backlog = f"# B\n\n## Step 1A Burn-In Tracker\n\n{table}\n## Later\n".encode()
    assert tracker_rows(backlog, "Step 1A Burn-In Tracker") == [
        ("20261104T100000Z", "2026-11-04", "qualifying", ""),
        ("", "2026-11-05", "non-qualifying", "")]
    rows = hand_rows(backlog, "Step 1A Burn-In Tracker", set())
    assert [(r.run_id, r.started, r.qualifying) for r in rows] == [
        ("20261104T100000Z", "2026-11-04T10:00:00Z", True),
        ("", "2026-11-05T23:59:59Z", False)]
    assert UNPLACED > "2099"


def test_a_second_table_of_runs_in_the_tracker_section_is_read_and_others_are_not() -> None:
    """Found by adversaries: a "corrections" table under the tracker's went unread (a
    failing row there broke nothing), and its header could be spelled many ways. A table
    of runs (a run id and an outcome column, read leniently) is read, each row naming a
    run; a legend of outcomes or a table of notes holds no rows of runs (read as rows, a
    legend's would break every streak, and a note would say a run did not qualify)."""
    from evidencebot.evidence.rows import tracker_rows

    tracker = ("| Date (UTC) | Run ID | Outcome |\n|---|---|---|\n"
               "| 2026-11-04 | 20261104T100000Z | qualifying |\n")
    corrections = ("| **Run-ID** | \uff2f\uff55\uff54come\u200b | Date |\n|---|---|---|\n"
                   "| 20261104T100000Z | Non-qualifying | 2026-11-04 |\n|  | n/a | |\n")
    limits = "| Threshold | Value |\n|---|---|\n| Filled orders | 1 |\n"
    legend = "| Outcome | Meaning |\n|---|---|\n| non-qualifying | ran, did not pass |\n"
    notes = "| Run ID | Note |\n|---|---|\n| 20261105T100000Z | to run on Thursday |\n"
    desk = ("| Run | Outcome (desk) |\n|---|---|\n| `20261104T100000Z` | failed |\n"
            "| <run id> | <outcome> |\n| \u2014 | n/a |\n")  # (template rows name nothing)
    # found by an adversary: a run cell other than a bare run id was not read there
    by_hand = ("| Run | Date (UTC) | Outcome |\n|---|---|---|\n"
               "| [20261105T110000Z](https://desk.example/5) | 2026-11-05 | non-qualifying |\n"
               "| manual | 2026-11-06 | non-qualifying |\n"
               "| 20261107T090000Z (desk) |  | non-qualifying |\n"
               "| \uff12\uff10\uff12\uff16\uff11\uff11\uff10\uff18T090000Z\u200b |  | failed |\n"
               "|  |  | non-qualifying |\n"  # (named by nothing: it breaks every streak)
               "| <run id> | <YYYY-MM-DD> | <outcome> |\n")
    backlog = (f"# B\n\n## Step 1A Burn-In Tracker\n\n{tracker}\n{limits}\n{legend}\n"
               f"{notes}\n{corrections}\n{desk}\n{by_hand}\n## Later\n").encode()
    assert tracker_rows(backlog, "Step 1A Burn-In Tracker") == [
        ("20261104T100000Z", "2026-11-04", "qualifying", ""),
        ("20261104T100000Z", "2026-11-04", "non-qualifying", ""),
        ("20261104T100000Z", "", "failed", ""),
        ("20261105T110000Z", "2026-11-05", "non-qualifying", ""),
        ("manual", "2026-11-06", "non-qualifying", ""),
        ("20261107T090000Z (desk)", "", "non-qualifying", ""),
        ("20261108T090000Z", "", "failed", ""),
        ("", "", "non-qualifying", "")]


@pytest.mark.parametrize(("run_id", "date", "seconds", "at"), [
    ("20261124T120000Z", "2026-11-24", "1800", "2026-11-24T12:30:00Z"),  # its session's end
    ("20261124T120000Z", "2026-11-24", "", "2026-11-24T12:00:00Z"),
    ("20261124T120000Z", "", "600", "2026-11-24T12:10:00Z"),
    ("20001124T120000Z", "2026-11-24", "1800", "2026-11-24T23:59:59Z"),  # stamp and day
    ("20261101T120000Z", "2026-11-24", "", "2026-11-24T23:59:59Z"),      # disagree: later
    ("20261130T120000Z", "2026-11-24", "", "2026-11-30T12:00:00Z"),
    ("tue-desk", "2026-11-24", "1800", "2026-11-24T23:59:59Z"),
    ("tue-desk", "**2026-11-24**", "", None), ("", "", "", None),
    ("00001124T120000Z", "", "", None), ("20261331T000000Z", "2026-11-24", "", "2026-11-24T23:59:59Z"),
    ("tue-desk", "\u0662\u0660\u0662\u0666-11-24", "", None),  # (Arabic-Indic digits: no day)
    ("20261124T120000Z", "2026-11-24", "\u00b2", "2026-11-24T12:00:00Z"),  # "²": no duration
])
def test_a_row_breaks_the_streak_as_late_as_any_reading_of_it_allows(
        run_id: str, date: str, seconds: str, at: str | None) -> None:
    from evidencebot.evidence.rows import placed

    assert placed(run_id, date, seconds) == at


_CELL = st.sampled_from(["1", "7", "12", "\u00b2", "\u0661\u0662", "", "x", "20261124T120000Z"])


@given(st.lists(st.tuples(_CELL, _CELL), max_size=12), st.lists(st.integers(0, 12), max_size=6))
@settings(max_examples=200)
def test_the_tracker_row_index_read_version_by_version_is_the_one_read_at_once(
        rows: list[tuple[str, str]], cuts: list[int]) -> None:
    """What `record` and verify take from a tracker (the run ids it holds, the next row's
    number) is the same whether each version extends the last one read or not; only
    ASCII digits number a row ("²" passes str.isdigit and int() refuses it)."""
    from evidencebot.evidence import render

    def at_once(part: tuple[tuple[str, str], ...]) -> tuple[frozenset[str], int | None]:
        nums = [int(r[0]) for r in part if r[0] and all("0" <= c <= "9" for c in r[0])]
        return frozenset(r[1] for r in part), max(nums, default=None)

    whole = tuple(rows)
    for cut in [*cuts, len(whole)]:  # (growing, shrinking, the same again)
        part = whole[:cut]
        assert render._row_index(part, 1) == at_once(part)
    assert render._row_index(whole, None)[0] == frozenset()
