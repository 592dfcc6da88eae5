"""The runs shortcut (`.git/evidencebot/runs-cache.bin` and `runs-tail.bin`): `record`
reads the streak and the one-session rule from it instead of the whole history. It holds
what git gives, is kept in step commit by commit, is rebuilt when damaged, and a forged
one fools only `record`: verify re-derives from git and names the lie."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from conftest import PINNED, git, record_run, shortcut_read, shortcut_write

from evidencebot.evidence import history
from evidencebot.evidence.streak import Runs, runs_of
from evidencebot.sim.trading_repo import report, write_report

BOT = "evidencebot <evidencebot@localhost>"


def _cache(repo: Path) -> Path:
    common = Path(git(repo, "rev-parse", "--git-common-dir").strip())
    return (common if common.is_absolute() else repo / common) / "evidencebot" / "runs-cache.bin"


def _from_git(repo: Path, tip: str) -> object:
    return runs_of(history.read(repo, tip, bot_author=BOT, cache=False)).plain()


def _kept(repo: Path) -> tuple[str, object]:
    """(the commit the shortcut reaches, the runs it gives there): the base file's runs
    extended by the tail file's commits."""
    _key, (base_tip, plain) = shortcut_read(_cache(repo))
    _key, (on, tip, rows) = shortcut_read(_cache(repo).with_name("runs-tail.bin"))
    assert on == base_tip
    return tip, runs_of(history.from_rows(rows) or [], on=Runs.from_plain(plain)).plain()


def _forge(repo: Path, plain: object) -> None:
    """The shortcut says ``plain`` are the runs at the ops tip (no tail)."""
    tip = git(repo, "rev-parse", "ops/evidence").strip()
    key, _ = shortcut_read(_cache(repo))
    shortcut_write(_cache(repo), key, (tip, plain))
    shortcut_write(_cache(repo).with_name("runs-tail.bin"), key, (tip, tip, []))


def test_the_shortcut_holds_what_git_gives_commit_by_commit(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    for n in (3, 4, 5, 6):
        record_run(cli, trading_repo, n, filled=0 if n == 4 else 2)
        tip, plain = _kept(trading_repo)
        # kept at the parent of the commit just made: the next record extends it by one
        assert tip == git(trading_repo, "rev-parse", "ops/evidence~1").strip()
        assert plain == _from_git(trading_repo, tip)
    assert "Burnin-Streak: 2/3" in git(trading_repo, "log", "-1", "--format=%B", "ops/evidence")


def test_a_damaged_shortcut_is_rebuilt(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    record_run(cli, trading_repo, 3)
    record_run(cli, trading_repo, 4)
    cache = _cache(trading_repo)
    key, (tip, plain) = shortcut_read(cache)
    shortcut_write(cache, key, (tip, ("not", "runs")))
    record_run(cli, trading_repo, 5)
    key, (tip, plain) = shortcut_read(cache)
    assert plain == _from_git(trading_repo, tip)
    assert json.loads(cli("--repo", trading_repo, "--json", "status").out)[
        "milestones"][0]["streak"]["count"] == 3


def test_a_forged_shortcut_fools_record_but_not_verify(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    record_run(cli, trading_repo, 3)
    second = record_run(cli, trading_repo, 4)
    now = datetime.fromisoformat(PINNED)
    # Ten minutes after run 4 ended: it overlaps run 4's session.
    doc = report(finished=now - timedelta(minutes=35 * 6 - 10))
    path = write_report(trading_repo.parent / "overlap.json", doc)
    honest = cli("--repo", trading_repo, "record", path)
    assert honest.code == 2 and f"overlaps run {second}" in honest.err, honest.err
    tip = git(trading_repo, "rev-parse", "ops/evidence").strip()
    facts, commits, voids, unnamed, unwritten, _sessions, closed = _from_git(trading_repo, tip)  # type: ignore[misc]
    no_sessions = [()] * 5  # the plain form is column by column
    _forge(trading_repo, (facts, commits, voids, unnamed, unwritten, no_sessions, closed))
    fooled = cli("--repo", trading_repo, "record", path)
    assert fooled.code == 0, fooled.err  # the local shortcut lied to record...
    v = cli("--repo", trading_repo, "verify", "--range", "main..ops/evidence")
    assert v.code == 1 and "overlapping-session" in v.out, v.out  # ...and verify says so



def test_a_forged_shortcut_of_the_wrong_types_is_refused_not_a_crash(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                                      cli) -> None:
    """Well formed (its CRC matches) but holding numbers where times go: refused and
    rebuilt, the record goes ahead, nothing crashes."""
    record_run(cli, trading_repo, 3)
    record_run(cli, trading_repo, 4)
    cache = _cache(trading_repo)
    key, (tip, plain) = shortcut_read(cache)
    facts, commits, voids, unnamed, unwritten, sessions, closed = plain
    sessions = [sessions[0], (1,) * len(sessions[1]), (2,) * len(sessions[2]), *sessions[3:]]
    shortcut_write(cache, key, (tip, (facts, commits, voids, unnamed, unwritten, sessions, closed)))
    record_run(cli, trading_repo, 5)
    key, (tip, plain) = shortcut_read(cache)
    assert plain == _from_git(trading_repo, tip)
    history_cache = cache.with_name("history-cache.bin")
    key, (tip, rows) = shortcut_read(history_cache)
    shortcut_write(history_cache, key, (tip, [(*r[:3], 7, *r[4:]) for r in rows]))
    assert cli("--repo", trading_repo, "status").code == 0  # the history read from git


def test_a_forged_streak_in_the_shortcut_cannot_close_the_milestone(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                                    cli) -> None:
    """The shortcut says every run counted: record writes 3/3 on the strength of it, but
    `close` (the scope rules read the streak from git) refuses and verify names the lie."""
    record_run(cli, trading_repo, 3)
    record_run(cli, trading_repo, 4, filled=0)  # breaks the streak
    cache = _cache(trading_repo)
    key, _ = shortcut_read(cache)
    tip = git(trading_repo, "rev-parse", "ops/evidence").strip()
    facts, commits, voids, unnamed, unwritten, sessions, closed = _from_git(trading_repo, tip)  # type: ignore[misc]
    facts = [*facts[:3], (1,) * len(facts[3]), facts[4]]  # every run "counts"
    shortcut_write(cache, key, (tip, (facts, commits, voids, unnamed, unwritten, sessions, closed)))
    record_run(cli, trading_repo, 5)
    assert "Burnin-Streak: 3/3" in git(trading_repo, "log", "-1", "--format=%B", "ops/evidence")
    before = git(trading_repo, "rev-parse", "ops/evidence")
    r = cli("--repo", trading_repo, "close", "MO-2")
    assert r.code != 0 and git(trading_repo, "rev-parse", "ops/evidence") == before
    v = cli("--repo", trading_repo, "verify", "--range", "main..ops/evidence")
    assert v.code == 1 and "Burnin-Streak" in v.out, v.out


def test_a_forged_tip_in_the_shortcut_is_refused_not_a_crash(trading_repo: Path,  # type: ignore[no-untyped-def]
                                                             cli) -> None:
    """A tip that is no commit id (here with a NUL, which git refuses as an argument) is
    no start: the runs are read from git and the shortcut is written again."""
    record_run(cli, trading_repo, 3)
    cache = _cache(trading_repo)
    key, (tip, plain) = shortcut_read(cache)
    shortcut_write(cache, key, (tip[:10] + "\x00", plain))
    record_run(cli, trading_repo, 4)
    key, (tip, plain) = shortcut_read(cache)
    assert plain == _from_git(trading_repo, tip)


def test_the_base_is_written_again_only_when_the_tail_grows_long(  # type: ignore[no-untyped-def]
        trading_repo: Path, cli, monkeypatch) -> None:
    """A record adds its parent to the small tail file; once the tail holds more than
    `TAIL` commits the base file is written at that commit and the tail starts again.
    At every step the two give what git gives."""
    from evidencebot.ledger import runs as runs_shortcut

    monkeypatch.setattr(runs_shortcut, "TAIL", 2)
    bases = []
    for n in (2, 3, 4, 5, 6, 7):
        record_run(cli, trading_repo, n)
        tip, plain = _kept(trading_repo)
        assert tip == git(trading_repo, "rev-parse", "ops/evidence~1").strip()
        assert plain == _from_git(trading_repo, tip)
        bases.append(shortcut_read(_cache(trading_repo))[1][0])
    assert [bases.index(b) for b in bases] == [0, 0, 0, 3, 3, 3]  # again once the tail held 3
