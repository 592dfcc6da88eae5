from __future__ import annotations

import os
from pathlib import Path

import pytest

from evidencebot import config
from evidencebot.errors import UsageError
from evidencebot.templating import render


def test_defaults_are_the_runbooks() -> None:
    c = config.Config()
    assert c.ops.branch == "ops/evidence" and c.ops.base == "main"
    assert c.qualify.min_paper_duration_seconds == 1800
    assert c.qualify.min_symbol_data_availability_ratio == 0.80
    assert c.burnin.report == "reports/uk_tax/step1a_burnin/step1a_burnin_latest.json"
    assert "-PaperDurationSeconds" in c.burnin.command
    assert c.milestone["MO-2"].consecutive == 3


def test_init_template_parses_to_the_defaults() -> None:
    parsed = config.parse(render("evidencebot.toml.j2").encode(), source="evidencebot.toml")
    assert parsed == config.Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[burnin]\nrunz = 2\n", "evidencebot.toml: unknown key [burnin] runz (did you mean runs?)"),
        ("[opps]\nbranch = 'x'\n", "evidencebot.toml: unknown section [opps] (did you mean [ops]?)"),
        ("opps = 2\n", "evidencebot.toml: unknown key opps (did you mean ops?)"),
        ("[report.fields]\nrun_id = 'run_id'\n", "is not a JSON pointer"),
        ("[qualify]\nmin_filled_orders = -1\n", "qualify.min_filled_orders"),
        ("[burnin]\ncommand = []\n", "burnin.command"),
        ("[window]\nstart = 'noon'\n", "window.start"),
        ("[window]\ndays = []\n", "window.days: Value error, names no day"),  # (was a crash)
        ("[ops\n", "not valid TOML"),
        ("[milestone.X-2]\nconsecutive = 3\n", "milestone id 'X-2'"),
        # read as MO-2's rule by the streak, and no rule at all by `close MO-2`
        ("[milestone.\"MO-2 \"]\nconsecutive = 1\n", "milestone id 'MO-2 ' must be MO- and"),
        ("[milestone.MO-2x]\nconsecutive = 1\n", "milestone id 'MO-2x'"),
        # (a streak line and its trailer carry it: 64 bits, as every count in evidence)
        ("[milestone.MO-2]\nconsecutive = 99999999999999999999\n",
         "milestone.MO-2.consecutive: Input should be within 64 bits"),
        # a branch name git would refuse, said here (not as a branch that "moved")
        ("[ops]\nbranch = 'bad..name'\n", "ops.branch: Value error, 'bad..name' is not a "
         "branch name git accepts: it holds '..'"),
        ("[ops]\nbranch = 'ops/x.lock'\n", "ops.branch"),
        ("[ops]\nbase = 'a b'\n", "ops.base"),
        ("[ops]\nbranch = 'main'\n", "ops.branch: 'main' is the base branch itself"),
        # the Evidence-Record trailer's form: records live under reports/
        ("[docs]\nevidence_dir = 'evidence/step1a'\n", "docs.evidence_dir"),
        ("[docs]\nevidence_dir = 'reports/../src'\n", "docs.evidence_dir"),
        # names the hook would refuse every record under (exit 2 here, not 1 at record)
        ("[docs]\nevidence_dir = 'reports/.hidden'\n", "'.hidden' is a dot-folder"),
        ("[docs]\nevidence_dir = 'reports/CON'\n", "'CON' is a reserved device name"),
        ("[docs]\nevidence_dir = 'reports/x.'\n", "'x.' ends with a dot"),
        # each kind of evidence a folder of its own: a void record in the runs' folder is a
        # stray record there (verify and the commit-msg hook refused evidencebot's own void)
        ("[docs]\nevidence_dir = 'reports/evidence'\n", "docs.evidence_dir 'reports/evidence' "
         "and docs.milestone_dir 'reports/evidence/milestones' overlap"),
        ("[docs]\nevidence_dir = 'reports/evidence/voids/runs'\n", "the voids' folder"),
        ("[docs]\nhandoff_dir = 'reports/evidence/checks'\n", "the refused checks' folder"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        config.parse(text.encode(), source="evidencebot.toml")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_pyproject_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='bot'\n[tool.evidencebot.ops]\nbranch = 'ops/burnin'\n")
    loaded = config.load(tmp_path)
    assert loaded.config.ops.branch == "ops/burnin"
    assert loaded.sha256 != "none"


def test_pyproject_section_is_read_from_the_base_branch_too(tmp_path: Path) -> None:
    """As committed (`load_at`, what judges): its source is "<rev>:pyproject.toml", and
    the whole file was read as an evidencebot config ("unknown section [project]")."""
    import subprocess

    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='bot'\n[tool.evidencebot.ops]\nbranch = 'ops/burnin'\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=a", "-c", "user.email=a@b",
                    "commit", "-qm", "config"], check=True)
    assert config.load_at(tmp_path, "main").config.ops.branch == "ops/burnin"


def test_a_pyproject_that_cannot_be_read_is_no_config_taken_away(tmp_path: Path,
                                                                 cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a key given twice in [project] made the whole file unread,
    and its [tool.evidencebot] (5 runs of 3 fills) gave way to the defaults (3 runs of
    1) without a word: MO-2 closed on runs the reviewed rules refuse. A file that names
    evidencebot and cannot be read is a config error; one that does not is no config."""
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='bot'\nname='bot'\n[tool.evidencebot.milestone.MO-2]\n"
        "consecutive = 5\n")
    with pytest.raises(UsageError) as e:
        config.load(tmp_path)
    assert "pyproject.toml" in str(e.value) and "\n" not in str(e.value)
    r = cli("--repo", tmp_path, "status")
    assert r.code == 2 and r.err.startswith("evidencebot: error:") and "Traceback" not in r.err
    (tmp_path / "pyproject.toml").write_text("[project]\nname='bot'\nname='bot'\n")
    assert config.load(tmp_path).path is None


def test_no_file_means_defaults_and_sha_none(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='bot'\n")
    loaded = config.load(tmp_path)
    assert loaded.path is None and loaded.sha256 == "none"
    assert loaded.config == config.Config()


def test_a_config_path_given_from_the_wrong_folder_names_the_one_beside_the_repo(
        tmp_path: Path, trading_repo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the repository is ./bot; its config is ./bot/evidencebot.toml
    r = cli("--repo", "bot", "--config", "evidencebot.toml", "status")
    assert r.code == 2
    assert f"looked for {tmp_path / 'evidencebot.toml'}" in r.err
    assert f"Fix: --config {tmp_path / 'bot' / 'evidencebot.toml'}" in r.err


def test_a_config_that_is_no_regular_file_is_named_as_such(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", trading_repo, "--config", os.devnull, "status")
    assert r.code == 2 and "not a regular file" in r.err and "not found" not in r.err


def test_init_template_writes_every_key() -> None:
    """`init` writes every key with its default, as the README says (a key whose default
    TOML cannot write, None, as a commented line)."""
    import tomllib

    from evidencebot.frozen import fields, is_frozen

    text = render("evidencebot.toml.j2")
    doc = tomllib.loads(text)

    def walk(obj: object, where: list[str]) -> None:
        for f in fields(obj):
            value = getattr(obj, f.name)
            if is_frozen(value):
                walk(value, [*where, f.name])
                continue
            table: dict[str, object] = doc
            for name in where:
                table = table.get(name, {})  # type: ignore[assignment]
            assert f.name in table or (value is None and f"# {f.name} =" in text), \
                ".".join([*where, f.name])

    walk(config.Config(), [])


def test_a_local_change_no_command_reads_is_said(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The gateway, the wrapper and the thresholds come from the base's committed config:
    a change to them in the working tree, not yet merged, is said on stderr (a newcomer's
    port edit was silently unused); the operator's own [ops] and [notify] are not."""
    import subprocess

    cfg = trading_repo / "evidencebot.toml"
    committed = cfg.read_text(encoding="utf-8")
    cfg.write_text(committed + "[notify]\nurls = []\n", encoding="utf-8")
    assert "note:" not in cli("--repo", trading_repo, "status").err
    cfg.write_text(committed + "[ibkr]\nport = 4011\n[qualify]\nmin_filled_orders = 0\n",
                   encoding="utf-8")
    r = cli("--repo", trading_repo, "status")
    assert r.code == 0 and r.err == (
        "evidencebot: note: [qualify], [ibkr] in evidencebot.toml differ(s) from main's "
        "committed config, which is what counts: commit it, merge it into main to use "
        "it\n"), r.err
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-qam", "the new port"],
                   check=True)
    assert cli("--repo", trading_repo, "status").err == ""
    # the newcomer's case: `init` wrote the file, and main has no config committed yet
    subprocess.run(["git", "-C", str(trading_repo), "rm", "-q", "--cached", "evidencebot.toml"],
                   check=True)
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-qm", "no config yet"],
                   check=True)
    cfg.write_text("[ibkr]\nport = 4011\n", encoding="utf-8")
    assert cli("--repo", trading_repo, "status").err == (
        "evidencebot: note: [ibkr] in evidencebot.toml differ(s) from the defaults (main "
        "has no config committed yet), which is what counts: commit it, merge it into "
        "main to use it\n")
    # with a remote, its main is what counts (what was reviewed): committed is not enough
    subprocess.run(["git", "-C", str(trading_repo), "init", "-q", "--bare",
                    str(trading_repo.parent / "origin.git")], check=True)
    subprocess.run(["git", "-C", str(trading_repo), "remote", "add", "origin",
                    str(trading_repo.parent / "origin.git")], check=True)
    subprocess.run(["git", "-C", str(trading_repo), "push", "-q", "origin", "main"], check=True)
    subprocess.run(["git", "-C", str(trading_repo), "add", "evidencebot.toml"], check=True)
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-qm", "the port"], check=True)
    assert cli("--repo", trading_repo, "status").err == (
        "evidencebot: note: [ibkr] in evidencebot.toml differ(s) from the defaults "
        "(origin/main has no config committed yet), which is what counts: commit it, merge "
        "it into main and push main to use it\n")


def test_a_calendar_no_run_could_read_is_said_before_it_is_merged(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 14: [window] holidays = "Scotland" passed unsaid in the working tree;
    merged, every check and run stopped (exit 2)."""
    import subprocess

    cfg = trading_repo / "evidencebot.toml"
    committed = cfg.read_text(encoding="utf-8")
    for code, said in (("Scotland", True), ("GB-SCT", False)):
        cfg.write_text(committed + f'[window]\nholidays = "{code}"\n', encoding="utf-8")
        r = cli("--repo", trading_repo, "status")
        assert r.code == 0 and ("holidays = 'Scotland': no such calendar" in r.err) is said
        assert "stops every check and run" in r.err if said else "calendar" not in r.err
    # committed with a mistake, mended in the working tree: the Fix says where it counts
    cfg.write_text(committed + "[window]\nholidayz = 1\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(trading_repo), "commit", "-qam", "typo"], check=True)
    cfg.write_text(committed, encoding="utf-8")
    r = cli("--repo", trading_repo, "status")
    assert r.code == 2 and "main:evidencebot.toml" in r.err
    assert "the config committed at main is what counts: commit the mend and merge it" in r.err


def test_an_ops_branch_beside_the_evidence_is_said(trading_repo: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 14: a typo in [ops] branch showed 0/3 without a word, and `record` then
    started a second ops branch beside the evidence."""
    from datetime import UTC, datetime

    from evidencebot.sim.trading_repo import report, write_report

    cfg = trading_repo / "evidencebot.toml"
    committed = cfg.read_text(encoding="utf-8")
    typo = committed.replace("[ops]\n", '[ops]\nbranch = "ops/evidense"\n', 1)
    assert typo != committed
    cfg.write_text(typo, encoding="utf-8")
    before = cli("--repo", trading_repo, "status")  # (no evidence yet: a new name is free)
    assert before.code == 0 and "note:" not in before.err, before.err
    cfg.write_text(committed, encoding="utf-8")
    doc = report(finished=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert cli("--repo", trading_repo, "record", write_report(tmp_path / "r.json", doc)).code == 0
    cfg.write_text(typo, encoding="utf-8")
    for command in ("status", "history"):
        r = cli("--repo", trading_repo, command)
        assert r.code == 0 and r.err.startswith(
            "evidencebot: note: [ops] branch 'ops/evidense' in evidencebot.toml names no "
            "branch here or at origin, while the base's config names 'ops/evidence', which "
            "holds evidence"), r.err


@pytest.mark.parametrize("key", ["handoff_dir", "milestone_dir"])
@pytest.mark.parametrize("folder", ["docs/handoffs", "reports/\u00e9vidence/jalons"])
def test_every_evidence_folder_is_under_reports_in_plain_names(key: str, folder: str) -> None:
    """Found by an adversary: a handoff folder the scope rules refuse (outside reports/, or
    not ASCII) left every failed session unrecorded (its commit refused, exit 1), and MO-2
    closed over it; a closure folder so named was refused after the streak was met."""
    with pytest.raises(UsageError) as e:
        config.parse(f"[docs]\n{key} = {folder!r}\n".encode(), source="evidencebot.toml")
    assert f"docs.{key}" in str(e.value) and "must be a folder under reports/" in str(e.value)


@pytest.mark.parametrize(("given", "read"), [
    ('start = "08:00+01:00"', None), ('end = "16:30-05:00"', None),
    ('blackout = ["12:00+01:00-12:30"]', None), ('end = "16:30Z"', "16:30:00"),
    ('end = "16:30+00:00"', "16:30:00"), ('end = "16:30"', "16:30:00"),
    ('start = "08.30"', None), ('blackout = ["12.30-12.45"]', None),  # (newcomer 15)
])
def test_a_window_time_is_utc_or_refused(given: str, read: str | None) -> None:
    """Adversary 44a: an offset was read and dropped ("16:30+01:00" ran to 16:30 UTC)."""
    text = f"[window]\n{given}\n".encode()
    if read is None:
        with pytest.raises(UsageError) as e:
            config.parse(text, source="evidencebot.toml")
        assert "UTC all year" in str(e.value) or "HH:MM" in str(e.value)
    else:
        assert config.parse(text, source="evidencebot.toml").window.end.isoformat() == read
