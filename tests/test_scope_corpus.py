"""The scope guard against a corpus of attempts, through real `git commit` with the hooks
installed (also `commit -a`, `commit -- path`, and a staged change whose working-tree file
was restored), and through `verify` after `git commit --no-verify`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git
from hypothesis import example, given, settings
from hypothesis import strategies as st

from evidencebot.guard.install import install_hooks
from evidencebot.guard.rules import CLOSED_MET, Violation
from evidencebot.sim.trading_repo import report, write_repo, write_report

OPS = "ops/evidence"
MSG = ("ops: hand edit\n\nEvidence-Kind: check\nCheck-Failed: window\nSession-Type: OPS\n"
       "Evidencebot-Version: 0.1.0\nConfig-Sha256: none\n")


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trading repo with one recorded run, the hooks installed, on the ops branch."""
    from evidencebot.cli import main
    from evidencebot.sim.demo import environment

    root = tmp_path_factory.mktemp("corpus")
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@x", "EVIDENCEBOT_NOW": "2026-11-25T12:00:00Z"}
    with environment(env):  # a module-scoped fixture: no monkeypatch
        repo = write_repo(root / "bot")
        rep = write_report(root / "r.json", report(
            finished=datetime(2026, 11, 25, 10, tzinfo=UTC) - timedelta(hours=1)))
        assert main(["--repo", str(repo), "record", str(rep)]) == 0
    git(repo, "switch", "-q", OPS)
    return repo


@pytest.fixture
def repo(template_repo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bot"
    shutil.copytree(template_repo, target, symlinks=True)
    install_hooks(target, base="main", force=True)
    return target


def edit(path: str, old: str, new: str) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        p = repo / path
        text = p.read_bytes().decode("utf-8")
        assert old in text, f"{old!r} not in {path}"
        p.write_bytes(text.replace(old, new, 1).encode("utf-8"))
        return [path]
    return apply


def several(*applies: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        return [p for a in applies for p in a(repo)]
    return apply


def append(path: str, data: bytes) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        with open(repo / path, "ab") as f:
            f.write(data)
        return [path]
    return apply


def prepend(path: str, data: bytes) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        (repo / path).write_bytes(data + (repo / path).read_bytes())
        return [path]
    return apply


def write(path: str, data: bytes = b"x\n", mode: int | None = None) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        p = repo / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if mode is not None:
            p.chmod(mode)
        return [path]
    return apply


def delete(path: str) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        (repo / path).unlink()
        return [path]
    return apply


def record_file(repo: Path) -> str:
    return next(p for p in git(repo, "ls-files", "reports/evidence").split() if p.endswith(".json"))


def rewrite_record(repo: Path) -> list[str]:
    path = record_file(repo)
    (repo / path).write_text((repo / path).read_text().replace('"filled_orders": 2',
                                                               '"filled_orders": 9'))
    return [path]


def delete_record(repo: Path) -> list[str]:
    path = record_file(repo)
    (repo / path).unlink()
    return [path]


def rename(src: str, dst: str) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        (repo / dst).parent.mkdir(parents=True, exist_ok=True)
        (repo / src).rename(repo / dst)
        return [src, dst]
    return apply


def symlink(path: str, target: str) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, repo / path)
        return [path]
    return apply


def gitlink(repo: Path) -> list[str]:
    """A nested repository: `git add` stages it as a gitlink (mode 160000)."""
    nested = repo / "reports" / "vendored"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    git(nested, "commit", "-q", "--allow-empty", "-m", "nested")
    return ["reports/vendored"]


def chmod_x(path: str) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        p = repo / path
        p.chmod(p.stat().st_mode | 0o111)
        return [path]
    return apply


def crlf(path: str) -> Callable[[Path], list[str]]:
    def apply(repo: Path) -> list[str]:
        p = repo / path
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
        return [path]
    return apply


ENTRY = ("\n## 2026-11-25 12:30 UTC — OPS — hand-written note\n\n- Milestone: MO-2\n"
         "- Result: gateway restarted\n")


@dataclass(frozen=True)
class Case:
    name: str
    apply: Callable[[Path], list[str]]
    rule: str  # the rule id the refusal must name ("" for a legitimate edit)
    modifies_tracked: bool = True  # commit -a and the restored-file variant apply


# Dated after the template's run (Wed 25 Nov 08:30-09:00): its streak falls to 0.
BREAKING_ROW = ("| 3 | 2026-11-25 | 20261125T100000Z | 1800 | 0 | 0.857 | 236 | 18 | "
                "non-qualifying | copied by hand |")

FORBIDDEN = [
    Case("src-edit", edit("src/broker/session.py", "27", "99"), "path-not-allowed"),
    Case("backtest-edit", edit("backtest/replay.py", "list", "tuple"), "path-not-allowed"),
    Case("config-edit", edit("config/uk_paper.toml", "4002", "4001"), "path-not-allowed"),
    Case("tests-edit", edit("tests/test_replay.py", "True", "False"), "path-not-allowed"),
    Case("main-py-edit", edit("main.py", "uk_paper", "uk_live"), "path-not-allowed"),
    Case("readme-edit", edit("README.md", "demo", "real"), "path-not-allowed"),
    Case("src-new-file", write("src/broker/hotfix.py"), "path-not-allowed", False),
    Case("src-delete", delete("backtest/replay.py"), "path-not-allowed"),
    Case("rename-code-into-reports", rename("src/broker/session.py", "reports/session.py"),
         "path-not-allowed", False),
    Case("config-file-added", write("evidencebot.toml", b"[scope]\nallowed_paths=['**']\n"),
         "path-not-allowed", False),
    Case("pre-commit-config-added", write(".pre-commit-config.yaml", b"repos: []\n"),
         "path-not-allowed", False),
    Case("hook-file-added", write("hooks/pre-commit", b"#!/bin/sh\nexit 0\n"),
         "path-not-allowed", False),
    Case("ci-workflow-added", write(".github/workflows/ci.yml", b"on: push\n"),
         "path-not-allowed", False),
    Case("gitattributes-in-reports", write("reports/.gitattributes", b"* -diff\n"),
         "no-git-metadata", False),
    Case("gitignore-in-root", edit(".gitignore", "state/", "state/\nsrc/"), "no-git-metadata"),
    Case("gitmodules-added", write(".gitmodules", b"[submodule \"x\"]\n"), "no-git-metadata",
         False),
    Case("symlink-in-reports", symlink("reports/link.md", "../src/broker/session.py"),
         "regular-files-only", False),
    Case("gitlink-in-reports", gitlink, "regular-files-only", False),
    Case("mode-change", chmod_x("SESSION_LOG.md"), "no-mode-change"),
    Case("executable-report", write("reports/run.sh", b"#!/bin/sh\n", mode=0o755),
         "no-mode-change", False),
    Case("evidence-record-rewritten", rewrite_record, "evidence-immutable"),
    Case("evidence-record-deleted", delete_record, "evidence-immutable"),
    Case("evidence-record-renamed", lambda r: rename(record_file(r), "reports/old.json")(r),
         "evidence-immutable", False),
    Case("backlog-other-section", edit("IMPLEMENTATION_BACKLOG.md", "W-8 survive",
                                       "W-8 ignore"), "outside-allowed-section"),
    Case("backlog-checklist", edit("IMPLEMENTATION_BACKLOG.md", "- [ ] Kill switch",
                                   "- [x] Kill switch"), "outside-allowed-section"),
    Case("backlog-status-row-added", edit("IMPLEMENTATION_BACKLOG.md", "| MO-3 | OPEN |",
                                          "| MO-4 | OPEN | 2026-11-25 | |\n| MO-3 | OPEN |"),
         "rows-added-or-removed"),
    Case("backlog-status-row-removed", edit("IMPLEMENTATION_BACKLOG.md",
                                            "| MO-3 | OPEN | 2026-10-28 | |\n", ""),
         "rows-added-or-removed"),
    Case("backlog-mo-id-changed", edit("IMPLEMENTATION_BACKLOG.md", "| MO-3 | OPEN",
                                       "| MO-9 | OPEN"), "mo-id-changed"),
    Case("backlog-heading-renamed", edit("IMPLEMENTATION_BACKLOG.md",
                                         "## Step 1A Burn-In Tracker", "## Step 1A Tracker"),
         "section-heading-changed"),
    Case("backlog-heading-relevelled", edit("IMPLEMENTATION_BACKLOG.md", "## Later",
                                            "### Later"), "section-heading-changed"),
    Case("backlog-heading-injected-in-tracker", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs",
        "## Work Items\n\nConsecutive qualifying runs"), "section-heading-changed"),
    # The streak reads hand-written rows from the section's first table: a table above it,
    # or a blank line that splits it, would hide the rows below (a non-qualifying one).
    Case("tracker-decoy-table-above", edit("IMPLEMENTATION_BACKLOG.md", "every symbol.\n",
                                           "every symbol.\n\n| Note |\n|------|\n"
                                           "| rows below are copied |\n"),
         "tracker-table-kept"),
    Case("tracker-split-by-a-blank-line", edit("IMPLEMENTATION_BACKLOG.md",
                                               "| 1 | 2026-11-16 |",
                                               "| 0 | 2026-11-15 | X | 1800 | 1 | 0.9 | 200 | 18 | qualifying | hand |\n" "\n| 1 | 2026-11-16 |"),
         "tracker-table-kept"),
    # The streak line changes only into another streak line: reworded or removed, it would
    # leave a false one for the eye (and nothing for record and verify to read); a note
    # that reads like one would show a streak no rule checks.
    # A row the streak cannot place in time would break every streak: not on ops.
    Case("tracker-row-without-time", edit("IMPLEMENTATION_BACKLOG.md", "\n\nConsecutive",
                                          "\n| 3 | someday | desk-run | 1800 | 0 | 0.9 | 200 | "
                                          "18 | non-qualifying | by hand |\n\nConsecutive"),
         "tracker-row-placed"),
    Case("streak-line-reworded", edit("IMPLEMENTATION_BACKLOG.md", "runs: 1 of 3",
                                      "runs: 3 of 3 \u2705"), "streak-line-kept"),
    Case("streak-line-in-bold", edit("IMPLEMENTATION_BACKLOG.md",
                                     "Consecutive qualifying runs: 1 of 3",
                                     "**Consecutive qualifying runs: 3** of 3"),
         "streak-line-kept"),
    Case("streak-line-with-5000-digits", edit("IMPLEMENTATION_BACKLOG.md", "runs: 1 of 3",
                                              "runs: " + "9" * 5000 + " of 3"),
         "streak-line-kept"),  # (it once crashed verify: int() of 5,000 digits)
    Case("streak-line-removed", edit("IMPLEMENTATION_BACKLOG.md",
                                     "Consecutive qualifying runs: 1 of 3\n", ""),
         "streak-line-kept"),
    Case("streak-line-look-alike-added", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs: 1 of 3\n",
        "Consecutive qualifying runs: 1 of 3\n\n_consecutive  QUALIFYING\u00a0runs_ 3 of 3\n"),
         "streak-line-kept"),
    Case("streak-line-hidden-in-a-comment", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs: 1 of 3\n",
        "<!-- Consecutive qualifying runs: 1 of 3 -->\nConsecutive qualifying runs: 3 of 3.\n"),
         "html-in-document"),
    # what a page shows, not what the text says: HTML and character references
    Case("tracker-folded-in-details", edit(
        "IMPLEMENTATION_BACKLOG.md", "\n| # | Date (UTC)",
        "\n<details><summary>older attempts</summary>\n\n| # | Date (UTC)"), "html-in-document"),
    Case("streak-look-alike-with-an-entity", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs: 1 of 3\n",
        "Consecutive qualifying runs: 1 of 3\n\n**Consecutive qualifying&#32;runs: 3 of 3**\n"),
         "html-in-document"),
    Case("session-log-entry-hiding-a-comment", append(
        "SESSION_LOG.md", (ENTRY + "- Note: <!-- MO-2 closed -->\n").encode()),
         "html-in-document"),
    # a milestone's other cells say it closed only where its status may become CLOSED
    Case("streak-line-in-a-link-reference", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs: 1 of 3\n",
        "[streak]: /burn-in '\nConsecutive qualifying runs: 1 of 3\n'\n"),
         "streak-line-kept"),
    Case("streak-look-alike-in-cyrillic", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs: 1 of 3\n",
        "Consecutive qualifying runs: 1 of 3\n\n\u0421onsecutive qualifying runs: 3 of 3\n"),
         "streak-line-kept"),
    Case("mo-note-says-closed-in-cyrillic", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started", "\u0421L\u041eS\u0415D on 2026-11-25"),
         "milestone-closed-early"),
    # found by an adversary: what no one sees inside the word, small capitals, Lisu
    Case("mo-note-says-closed-with-a-combining-grapheme-joiner", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started", "clos\u034fed on 2026-11-25 by runs"),
         "milestone-closed-early"),
    Case("mo-note-says-closed-in-small-capitals", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started",
        "\u1d04\u029f\u1d0f\ua731\u1d07\u1d05 on 2026-11-25 by runs"),
         "milestone-closed-early"),
    Case("session-log-field-says-closed-with-a-variation-selector", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 clos\ufe0fed on 2026-11-25\n").encode()),
         "milestone-closed-early"),
    Case("session-log-field-says-closed-in-lisu", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 \ua4da\ua4e1\ua4f3\ua4e2\ua4f0\ua4d3\n").encode()),
         "milestone-closed-early"),
    Case("session-log-field-says-closed-with-a-hangul-filler", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 clo\u3164sed\n").encode()), "milestone-closed-early"),
    # and then (round 22): a capital I for the l, Armenian, Coptic, Cherokee, a click
    Case("mo-note-says-closed-with-a-capital-i", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started", "cIosed on 2026-11-25 by runs"),
         "milestone-closed-early"),
    Case("session-log-field-says-closed-with-an-armenian-o", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 cl\u0585sed\n").encode()), "milestone-closed-early"),
    Case("session-log-field-says-closed-with-a-coptic-c", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 \u2ca5losed\n").encode()), "milestone-closed-early"),
    Case("mo-note-says-closed-in-cherokee", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started",
        "\u13df\u13deO\u13da\u13ac\u13a0 on 2026-11-25 by runs"), "milestone-closed-early"),
    Case("session-log-field-says-closed-with-a-dental-click", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 c\u01c0osed\n").encode()), "milestone-closed-early"),
    # and then (round 23): a lunate sigma, a zero for the o, a paseq and a Thai zero
    Case("mo-note-says-closed-with-a-lunate-sigma", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started", "\u03f2losed on 2026-11-25 by runs"),
         "milestone-closed-early"),
    Case("session-log-field-says-closed-with-a-zero", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 cl0sed\n").encode()), "milestone-closed-early"),
    Case("session-log-field-says-closed-with-a-paseq-and-a-thai-zero", append(
        "SESSION_LOG.md", (ENTRY + "- Result: MO-2 c\u05c0\u0e50sed\n").encode()),
         "milestone-closed-early"),
    # and then (round 24): an escaped hyphen, an ideographic zero, an l with a stroke
    Case("session-log-field-says-closed-with-an-escaped-hyphen", append("SESSION_LOG.md", (
        ENTRY + "- Note: MO\\-2 closed on 2026-11-27.\n").encode()), "milestone-closed-early"),
    Case("session-log-field-says-closed-with-an-ideographic-zero", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 cl\u3007sed\n").encode()), "milestone-closed-early"),
    Case("mo-note-says-closed-with-an-l-with-a-stroke", edit(
        "IMPLEMENTATION_BACKLOG.md", "burn-in started", "c\u0142osed on 2026-11-25 by runs"),
         "milestone-closed-early"),
    Case("mo-note-says-closed-in-pieces", edit("IMPLEMENTATION_BACKLOG.md", "burn-in started",
                                               "CL`OS`ED, [3 of](#) 3"),
         "milestone-closed-early"),
    Case("session-log-entry-says-mo2-closed", append("SESSION_LOG.md", (
        "\n## 2026-11-25 16:30 UTC — OPS — MO-2 closed\n\n- Milestone: MO-2\n"
        "- Result: 3 of 3 qualifying runs\n").encode()), "milestone-closed-early"),
    # a review: a closure said over two lines a reader takes as one is no OPS entry's
    Case("session-log-note-says-mo2-closed-over-two-lines", append("SESSION_LOG.md", (
        ENTRY + "- Note: as of today MO-2 is\n  closed\n").encode()), "session-log-grammar"),
    Case("session-log-field-says-mo2-closed-in-cyrillic", append("SESSION_LOG.md", (
        ENTRY + "- Result: MO-2 \u0421L\u041eS\u0415D\n").encode()), "milestone-closed-early"),
    # found by an adversary: a closure said across an entry's lines (the layout `close`
    # writes), with a non-breaking hyphen, by the heading alone, in a tracker note
    Case("session-log-entry-closed-as-close-writes-it", append("SESSION_LOG.md", (
        "\n## 2026-11-25 16:30 UTC — OPS — burn-in done\n\n- Milestone: MO-2\n"
        "- Result: CLOSED on 3 consecutive qualifying runs\n").encode()),
         "milestone-closed-early"),
    Case("session-log-heading-closed-with-a-non-breaking-hyphen", append("SESSION_LOG.md", (
        "\n## 2026-11-25 16:30 UTC — OPS — MO\u20112 closed\n\n- Result: done\n").encode()),
         "milestone-closed-early"),
    Case("session-log-heading-closed-names-no-milestone", append("SESSION_LOG.md", (
        "\n## 2026-11-25 16:30 UTC — OPS — Step 1A burn-in closed\n\n- Milestone: MO-2\n"
        "- Result: done\n").encode()), "milestone-closed-early"),
    Case("session-log-outcome-says-closed-later-in-the-line", append("SESSION_LOG.md", (
        "\n## 2026-11-25 16:30 UTC — OPS — burn-in done\n\n- Milestones: MO-2\n"
        "- State: \u2705 milestone closed\n").encode()), "milestone-closed-early"),
    Case("session-log-milestone-spelled-otherwise", append("SESSION_LOG.md", (
        "\n## 2026-11-25 16:30 UTC — OPS — MO\u00b702 closed\n\n- Result: done\n").encode()),
         "milestone-closed-early"),
    Case("tracker-note-says-closed", edit(
        "IMPLEMENTATION_BACKLOG.md", "Consecutive qualifying runs: 1 of 3\n",
        "Consecutive qualifying runs: 1 of 3\n\n**MO-2 CLOSED**: ready for go-live.\n"),
         "milestone-closed-early"),
    Case("mo-note-says-closed", edit("IMPLEMENTATION_BACKLOG.md", "burn-in started",
                                     "**Closed** on 2026-11-25 by runs a, b, c"),
         "milestone-closed-early"),
    Case("design-evidence-says-closed", edit("PROJECT_DESIGN.md", "| OPEN | Step 1A Burn-In",
                                             "| OPEN | CLOSED: 3/3 runs, Step 1A Burn-In"),
         "milestone-closed-early"),
    Case("backlog-byte-order-mark", prepend("IMPLEMENTATION_BACKLOG.md", b"\xef\xbb\xbf"),
         "outside-allowed-section"),
    Case("design-byte-order-mark", prepend("PROJECT_DESIGN.md", b"\xef\xbb\xbf"),
         "outside-allowed-section"),
    Case("backlog-mo2-closed-early", edit("IMPLEMENTATION_BACKLOG.md", "| MO-2 | IN PROGRESS",
                                          "| MO-2 | CLOSED"), "milestone-closed-early"),
    Case("backlog-mo1-reopened", edit("IMPLEMENTATION_BACKLOG.md", "| MO-1 | CLOSED",
                                      "| MO-1 | OPEN"), "milestone-reopened"),
    Case("backlog-mo3-closed-without-rule", edit("IMPLEMENTATION_BACKLOG.md", "| MO-3 | OPEN",
                                                 "| MO-3 | CLOSED"), "milestone-without-rule"),
    Case("design-exit-criteria", edit("PROJECT_DESIGN.md", "three qualifying paper runs",
                                      "one qualifying paper run"), "cell-not-allowed"),
    Case("design-mo2-closed-early", edit("PROJECT_DESIGN.md", "100 bars) | OPEN",
                                         "100 bars) | CLOSED"), "milestone-closed-early"),
    Case("design-components", edit("PROJECT_DESIGN.md", "entry and exit rules",
                                   "entry rules"), "outside-allowed-section"),
    Case("design-fenced-fake-section", edit("PROJECT_DESIGN.md", "(a fenced example",
                                            "(edited"), "outside-allowed-section"),
    Case("design-mo-row-added", edit("PROJECT_DESIGN.md", "| MO-3 |",
                                     "| MO-4 | New | x | OPEN | — |\n| MO-3 |"),
         "rows-added-or-removed"),
    Case("session-log-edit-existing", edit("SESSION_LOG.md", "all green; client id 21",
                                           "all green; client id 22"), "append-only"),
    Case("session-log-debug-entry", append("SESSION_LOG.md", ENTRY.replace("OPS", "DEBUG")
                                           .encode()), "ops-entry-only"),
    Case("session-log-append-to-last-entry", append("SESSION_LOG.md", b"- Extra: field\n"),
         "append-only"),
    Case("session-log-nul-byte", append("SESSION_LOG.md", ENTRY.encode() + b"\x00\n"),
         "text-only"),
    Case("session-log-invalid-utf8", append("SESSION_LOG.md", ENTRY.encode() + b"\xff\xfe\n"),
         "text-only"),
    Case("session-log-crlf-rewrite", crlf("SESSION_LOG.md"), "append-only"),
    Case("session-log-free-text", append("SESSION_LOG.md", ENTRY.encode() + b"free text\n"),
         "session-log-grammar"),
    Case("case-trick-session-log", write("Session_Log.md", b"# x\n"), "path-not-allowed", False),
    Case("case-trick-reports", write("Reports/x.json", b"{}\n"), "path-not-allowed", False),
    Case("case-trick-src", write("SRC/broker/x.py"), "path-not-allowed", False),
    Case("case-trick-evidence-record",
         lambda r: write(record_file(r).replace("evidence", "Evidence"), b"{}\n")(r),
         "case-variant", False),
    Case("design-binary", write("PROJECT_DESIGN.md", b"\x00\x01binary"), "text-only"),
    # (found by an adversary: a Cyrillic і made a closure's description look committed)
    Case("look-alike-evidence-folder", write("reports/ev\u0456dence/milestones/MO-2.md",
                                             b"# Close MO-2\n"), "portable-names", False),
    # A status cell changes only to exactly CLOSED (the trust model, rule 7).
    Case("mo3-in-progress", edit("IMPLEMENTATION_BACKLOG.md", "| MO-3 | OPEN | 2026-10-28",
                                 "| MO-3 | IN PROGRESS | 2026-11-25"), "status-not-closed"),
]

LEGIT = [
    Case("tracker-row", edit("IMPLEMENTATION_BACKLOG.md", "\n\nConsecutive",
                             "\n| 9 | 2026-11-25 | X | 1800 | 1 | 0.9 | 200 | 18 | qualifying "
                             "| hand |\n\nConsecutive"), ""),
    Case("tracker-row-between-rows", edit("IMPLEMENTATION_BACKLOG.md", "| 1 | 2026-11-16 |",
                                          "| 0 | 2026-11-15 | X | 1800 | 1 | 0.9 | 200 | 18 | qualifying | hand |\n" "| 1 | 2026-11-16 |"), ""),
    Case("tracker-note-after-table", edit("IMPLEMENTATION_BACKLOG.md", "\n\n## Later",
                                          "\n\nDesk PC runs are copied by hand.\n\n## Later"),
         ""),
    # a hand-written row that breaks the streak, and the streak line set to what it leaves
    Case("tracker-streak-line", several(
        edit("IMPLEMENTATION_BACKLOG.md", "\n\nConsecutive", f"\n{BREAKING_ROW}\n\nConsecutive"),
        edit("IMPLEMENTATION_BACKLOG.md", "runs: 1 of 3", "runs: 0 of 3")), ""),
    Case("mo-status-note", edit("IMPLEMENTATION_BACKLOG.md", "burn-in started",
                                "burn-in day 2"), ""),
    Case("design-evidence-cell", edit("PROJECT_DESIGN.md", "| OPEN | — |",
                                      "| OPEN | tax pack draft |"), ""),
    Case("session-log-ops-entry", append("SESSION_LOG.md", ENTRY.encode()), ""),
    Case("session-log-entry-on-a-milestone-without-a-rule", append("SESSION_LOG.md", (
        ENTRY + "- Note: MO-3 closed last week (the tax pack)\n").encode()), ""),
    Case("session-log-entry-with-a-link-and-code", append("SESSION_LOG.md", (
        ENTRY + "- Link: <https://example.invalid/runs/12>\n- Command: `run <x> &nbsp;`\n"
        "- Contact: <ops@example.invalid>\n"
        "- Note: 2 &lt; 3 &amp; fills &gt; 0\n").encode()), ""),
    Case("session-log-entry-on-a-milestone-saying-closed-of-something-else", append(
        "SESSION_LOG.md", (ENTRY + "- Note: positions closed before the bell\n").encode()), ""),
    Case("new-report-file", write("reports/uk_tax/summary.json", b"{}\n"), "", False),
    Case("handoff-packet", write("reports/handoffs/20261125-1230-DEBUG-crash.md",
                                 b"# Handoff: OPS -> DEBUG - crash\n"), "", False),
    # (a file beside the run records is verify's stray-record: it lives elsewhere)
    Case("new-evidence-note", write("reports/evidence/notes/extra.json", b"{}\n"), "", False),
]

VARIANTS = ["add", "commit-a", "commit-path", "staged-then-restored"]


def commit(repo: Path, case: Case, variant: str, *extra: str) -> subprocess.CompletedProcess[str]:
    before = {p: (repo / p).read_bytes() for p in git(repo, "ls-files").split()
              if (repo / p).is_file() and not (repo / p).is_symlink()}
    paths = case.apply(repo)
    cmd = ["git", "-C", str(repo), "commit", "-q", "-m", MSG, *extra]
    if variant == "add":
        git(repo, "add", "-A")
    elif variant == "commit-a":
        cmd.append("-a")
    elif variant == "commit-path":
        git(repo, "add", "-N", "--", *[p for p in paths if (repo / p).exists()]) if any(
            p not in before for p in paths) else None
        cmd += ["--", *paths]
    elif variant == "staged-then-restored":
        git(repo, "add", "-A")
        for p in paths:
            if p in before:
                (repo / p).write_bytes(before[p])
        assert git(repo, "diff", "--cached", "--name-only") != ""
    env = {k: v for k, v in os.environ.items()}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def params(cases: list[Case], variants: list[str]):  # type: ignore[no-untyped-def]
    return [pytest.param(c, v, id=f"{c.name}-{v}") for c in cases for v in variants
            if v == "add" or c.modifies_tracked]


@pytest.mark.parametrize(("case", "variant"), params(FORBIDDEN, VARIANTS))
def test_hook_refuses(repo: Path, case: Case, variant: str) -> None:
    tip = git(repo, "rev-parse", "HEAD")
    proc = commit(repo, case, variant)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"({case.rule})" in proc.stderr, proc.stderr
    assert "Fix:" in proc.stderr
    assert git(repo, "rev-parse", "HEAD") == tip


@pytest.mark.parametrize("case", FORBIDDEN, ids=[c.name for c in FORBIDDEN])
def test_verify_catches_what_no_verify_let_through(repo: Path, case: Case, cli) -> None:  # type: ignore[no-untyped-def]
    proc = commit(repo, case, "add", "--no-verify")
    assert proc.returncode == 0, proc.stderr
    r = cli("--repo", repo, "verify")
    assert r.code == 1
    assert f"({case.rule})" in r.out, r.out


@pytest.mark.parametrize(("case", "variant"), params(LEGIT, ["add", "commit-path"]))
def test_legitimate_ops_edits_pass_hook_and_verify(repo: Path, case: Case, variant: str,
                                                   cli) -> None:  # type: ignore[no-untyped-def]
    proc = commit(repo, case, variant)
    assert proc.returncode == 0, proc.stderr
    r = cli("--repo", repo, "verify")
    assert r.code == 0, r.out


def test_same_edit_is_allowed_on_main(repo: Path) -> None:
    git(repo, "switch", "-q", "main")
    proc = commit(repo, FORBIDDEN[0], "add")
    assert proc.returncode == 0, proc.stderr


def test_session_env_applies_the_guard_on_any_branch(repo: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "switch", "-q", "main")
    monkeypatch.setenv("EVIDENCEBOT_SESSION", "OPS")
    proc = commit(repo, FORBIDDEN[0], "add")
    assert proc.returncode != 0 and "(path-not-allowed)" in proc.stderr


ONE_PASS = Case("path-and-documents", several(
    edit("src/broker/session.py", "27", "99"),                       # a forbidden path
    write("reports/evidence/notes/x.exe", b"MZ"),                     # not evidence data
    edit("IMPLEMENTATION_BACKLOG.md", "| MO-2 | IN PROGRESS", "| MO-2 | DONE"),
    edit("PROJECT_DESIGN.md", "## 1. Goal", "## 1. Goals"),
    edit("SESSION_LOG.md", "first burn-in by hand", "first burn-in, edited"),
), "path-not-allowed")
ONE_PASS_RULES = ("path-not-allowed", "evidence-data-only", "status-not-closed",
                  "section-heading-changed", "append-only")


def test_the_hook_reports_every_violation_of_a_change_in_one_pass(repo: Path) -> None:
    proc = commit(repo, ONE_PASS, "add")
    assert proc.returncode == 1
    for rule in ONE_PASS_RULES:
        assert f"({rule})" in proc.stderr, proc.stderr
    assert "breaks 5 scope rule(s)" in proc.stderr


def test_verify_reports_every_violation_of_a_commit_in_one_pass(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert commit(repo, ONE_PASS, "add", "--no-verify").returncode == 0
    r = cli("--repo", repo, "verify")
    assert r.code == 1
    for rule in ONE_PASS_RULES:
        assert f"({rule})" in r.out, r.out


@pytest.mark.parametrize("data", [b"\xff\xfe not utf-8\n", b"# x\n\x00\x01\n"],
                         ids=["invalid-utf8", "nul"])
def test_a_document_the_rules_cannot_read_is_a_violation_next_to_the_others(
        repo: Path, data: bytes) -> None:
    case = Case("unreadable", several(edit("src/broker/session.py", "27", "99"),
                                      write("IMPLEMENTATION_BACKLOG.md", data)), "text-only")
    proc = commit(repo, case, "add")
    assert proc.returncode == 1
    assert "(path-not-allowed)" in proc.stderr and "(text-only)" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


@settings(max_examples=300, deadline=None)
@given(existing=st.lists(st.text(alphabet="aAbBßSsİi\x00/.", min_size=1, max_size=5),
                         max_size=8),
       new=st.lists(st.text(alphabet="aAbBßSsİi/.", min_size=1, max_size=5), max_size=4))
def test_case_twins_fold_all_names_at_once_as_one_by_one(existing: list[str],
                                                          new: list[str]) -> None:
    """Folding every existing name in one call finds the twins, and names the spelling, a
    name-by-name fold finds (folding can change a name's length: ß, İ; a name holding a
    NUL is in no tree and twins no new path); a path that exists as spelled is no twin."""
    from evidencebot.guard.paths import Names, case_twins
    from evidencebot.guard.rules import Blob, Change

    changes = [Change(None, Blob(p, "100644", b"")) for p in new]
    known: dict[str, str] = {}
    for name in existing:
        known.setdefault(name.casefold(), name)
    expected = []
    for p in new:
        parts = p.split("/")
        for k in range(1, len(parts) + 1):
            prefix = "/".join(parts[:k])
            twin = known.setdefault(prefix.casefold(), prefix)
            if twin != prefix and prefix not in existing:
                expected.append((p, f"{prefix!r} differs only in case from {twin!r}"))
                break
    got = case_twins(changes, Names.of(existing))
    assert [(v.path, v.message.split(" (")[0]) for v in got] == expected


def test_a_folder_that_exists_as_spelled_is_no_twin_of_a_file_beside_it(
        tmp_path: Path) -> None:
    """The parent holds a file "A" and a folder "a/": a file added into "a/" makes no new
    name there. (Decided by which of the two came first in a set once, so by the hash
    seed; now never a finding.) A new "a/OLD" still is one, of "a/old"."""
    from evidencebot.guard.changes import existing_names
    from evidencebot.guard.rules import Blob, Change, Rules
    from evidencebot.guard.scope import judge

    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "a").mkdir()
    (repo / "A").write_bytes(b"file\n")
    (repo / "a" / "old").write_bytes(b"1\n")
    git = ["git", "-C", str(repo), "-c", "core.ignorecase=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "1"],
                   check=True)
    parent = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    rules = Rules()
    for added, twins in (("a/new", []), ("a/OLD", ["a/OLD"])):
        changes = [Change(None, Blob(added, "100644", b"n\n"))]
        found = judge(changes, rules, streak_of=lambda _mo: 0,
                      existing=existing_names(repo, parent, changes))
        assert [v.path for v in found if v.rule == "case-twin"] == twins


@settings(max_examples=300, deadline=None)
@given(part=st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=8))
@example(part="a\x1fb")
@example(part="a b")  # a space is no control character
@example(part="x\x7f")  # DEL: Windows takes it
def test_a_name_windows_cannot_hold_is_found_as_char_by_char(part: str) -> None:
    """A name part with a character Windows refuses (<>:"|?*\\ or U+0000-U+001F) is
    reported, whatever else it holds; one without is not (its other problems aside)."""
    from evidencebot.defaults import WINDOWS_BAD
    from evidencebot.defaults import windows_problem as _windows_problem

    bad = any(c in WINDOWS_BAD or ord(c) < 32 for c in part)
    why = _windows_problem(part) or ""
    assert ("Windows cannot" in why) == (bad and not part.endswith((".", " ")))


def _glob_one(path: str, pattern: str) -> bool:
    """One pattern as the rules mean it, spelt out: a folder's ``/**`` is its prefix, a
    plain path itself, anything else fnmatch."""
    import fnmatch

    if pattern.endswith("/**"):
        return path.startswith(pattern[:-2])
    if not any(c in pattern for c in "*?["):
        return path == pattern
    return fnmatch.fnmatchcase(path, pattern)


_GLOB_PARTS = ["src", "SRC", "reports", "evidence", "a.json", "x.md", "*", "**", "?", "[ab]",
               "[!a]", "*.json", "é", "ǅ", "ß", "\n", ".", "-", "", "[", "]"]


@settings(max_examples=500, deadline=None)
@given(patterns=st.lists(st.lists(st.sampled_from(_GLOB_PARTS), min_size=1, max_size=4)
                         .map("/".join), max_size=6),
       path=st.lists(st.sampled_from(_GLOB_PARTS), min_size=1, max_size=5).map("/".join),
       fold=st.booleans())
@example(patterns=["reports/**"], path="reports/", fold=False)  # the folder itself, empty rest
@example(patterns=["x.md", "SRC/**"], path="src/\nb", fold=True)
@example(patterns=["*.json"], path="a/b.json", fold=False)  # "*" crosses "/" (fnmatch)
def test_one_expression_matches_as_each_pattern_does(patterns: list[str], path: str,
                                                     fold: bool) -> None:
    """`matcher` (every allowed or forbidden pattern in one regular expression) answers as
    the patterns do one by one, folded or not."""
    from evidencebot.guard.rules import matcher

    seen = path.casefold() if fold else path
    expected = any(_glob_one(seen, p.casefold() if fold else p) for p in patterns)
    assert matcher(tuple(patterns), fold)(seen) == expected


def test_the_guard_applies_inside_a_rebase_of_an_ops_branch(repo: Path) -> None:
    """An interactive rebase's edit step commits on a detached HEAD, then moves the ops
    branch: the hook reads the branch the rebase rewrites and refuses there too."""
    editor = f"{sys.executable} -c \"import sys; p = sys.argv[1]; " \
             "s = open(p).read(); open(p, 'w').write(s.replace('pick', 'edit', 1))\""
    env = {**os.environ, "GIT_SEQUENCE_EDITOR": editor,
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    subprocess.run(["git", "-C", str(repo), "rebase", "-q", "-i", "HEAD~1"], env=env,
                   check=True, capture_output=True)
    try:
        assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"  # detached
        FORBIDDEN[0].apply(repo)
        proc = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-a", "--amend",
                               "--no-edit"], capture_output=True, text=True, env=env)
        assert proc.returncode == 1 and "(path-not-allowed)" in proc.stderr, proc.stderr
    finally:
        subprocess.run(["git", "-C", str(repo), "rebase", "--abort"], capture_output=True)


def refused_by_hook_and_verify(repo: Path, case: Case, cli) -> None:  # type: ignore[no-untyped-def]
    """``case`` committed with the hooks is refused naming its rule; committed with
    --no-verify, verify names the same rule."""
    proc = commit(repo, case, "add")
    assert proc.returncode != 0 and f"({case.rule})" in proc.stderr, proc.stderr
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-qfd")
    assert commit(repo, case, "add", "--no-verify").returncode == 0
    r = cli("--repo", repo, "verify")
    assert r.code == 1 and f"({case.rule})" in r.out, r.out


def files_on_main_merged(repo: Path, paths: Sequence[str], message: str) -> None:
    """``paths`` committed on main, then main merged into the ops branch (a plain merge of
    the base)."""
    git(repo, "switch", "-q", "main")
    for path in paths:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(b"on main\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    git(repo, "switch", "-q", OPS)
    git(repo, "merge", "-q", "--no-edit", "--no-verify", "main")


# A hand-written row that quotes the streak line is a row: once committed, it is kept in
# the table like any other (it used to pass for the streak line, so removing, flipping or
# splitting it off went through and a false streak closed MO-2). With or without its outer
# pipes (GFM reads both as a row).
QUOTING_ROW = ("| 5a | 2026-11-25 | 20261125T133500Z | 1800 | 0 | 0.857 | 236 | 18 | "
               "non-qualifying | hand copy; Consecutive qualifying runs: 0 of 3 after it |")
QUOTING = [  # (attack, what it does to the row, the rule that refuses it)
    ("removed", lambda row: "", "tracker-append-only"),
    ("flipped", lambda row: row.replace("| non-qualifying", "| qualifying"),
     "tracker-append-only"),
    ("split-off", lambda row: "\n" + row, "tracker-table-kept"),
]


@pytest.mark.parametrize("row", [QUOTING_ROW, QUOTING_ROW.strip("| ")], ids=["piped", "bare"])
@pytest.mark.parametrize(("attack", "change", "rule"), QUOTING, ids=[q[0] for q in QUOTING])
def test_a_row_that_quotes_the_streak_line_is_kept_as_a_row(
        repo: Path, row: str, attack: str, change: Callable[[str], str], rule: str,
        cli) -> None:  # type: ignore[no-untyped-def]
    added = commit(repo, Case("add-quoting-row", edit(
        "IMPLEMENTATION_BACKLOG.md", "\n\nConsecutive", f"\n{row}\n\nConsecutive"), ""), "add")
    assert added.returncode == 0, added.stderr  # adding a row is allowed
    case = Case(attack, edit("IMPLEMENTATION_BACKLOG.md", row + "\n", change(row) +
                             ("\n" if change(row) else "")), rule)
    refused_by_hook_and_verify(repo, case, cli)


def test_the_streak_line_of_a_crlf_tracker_still_changes(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The streak line is a whole line, in a CRLF tracker too (its line ending is no part
    of it): written right under the table, it still changes with a row added between rows,
    and a table line is the streak line by its text, whatever its line ending."""
    from evidencebot.guard.documents import _is_streak_line

    for ending in (b"", b"\n", b"\r\n"):
        assert _is_streak_line(b"Consecutive qualifying runs: 1 of 3" + ending)
        assert not _is_streak_line(QUOTING_ROW.encode() + ending)
    p = repo / "IMPLEMENTATION_BACKLOG.md"
    text = p.read_bytes().replace(b"\r\n", b"\n")
    text = text.replace(b"report |\n\nConsecutive", b"report |\nConsecutive")
    p.write_bytes(text.replace(b"\n", b"\r\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "tracker as CRLF (on main's terms)")
    git(repo, "branch", "-f", "main", "HEAD")  # the base holds it: only the next is judged
    proc = commit(repo, Case("row-and-streak", several(
        edit("IMPLEMENTATION_BACKLOG.md", "\r\n| 1 | 2026-11-16 |",
             f"\r\n{BREAKING_ROW}\r\n| 1 | 2026-11-16 |"),
        edit("IMPLEMENTATION_BACKLOG.md", "runs: 1 of 3", "runs: 0 of 3")), ""), "add")
    assert proc.returncode == 0, proc.stderr
    assert cli("--repo", repo, "verify").code == 0


@pytest.mark.parametrize(("line", "said"), [
    ("runs: 2 of 3", "reads 2 of 3; the history here holds 1 of 3"),  # no row moved it
    ("runs: 1 of 2", "reads 1 of 2; the history here holds 1 of 3"),
])
def test_a_streak_line_changed_by_hand_reads_the_streak(repo: Path, line: str, said: str,
                                                       cli) -> None:  # type: ignore[no-untyped-def]
    """The hook lets the streak line change (a hand-written row can move the streak);
    verify holds it to the streak the history and the tracker leave."""
    proc = commit(repo, Case("streak-line", edit("IMPLEMENTATION_BACKLOG.md", "runs: 1 of 3",
                                                 line), ""), "add")
    assert proc.returncode == 0, proc.stderr
    r = cli("--repo", repo, "verify")
    assert r.code == 1 and "(streak-line)" in r.out and said in r.out, r.out


def test_record_rewrites_the_streak_line_not_a_row_that_quotes_it() -> None:
    from evidencebot.evidence.render import STREAK_LINE
    from evidencebot.md import lines as mdlines
    from evidencebot.sim.trading_repo import BACKLOG

    backlog = BACKLOG.replace("report |\n\nConsecutive",
                              f"report |\n{QUOTING_ROW}\n\nConsecutive").encode()
    done = mdlines.replace_line(backlog, "Step 1A Burn-In Tracker", STREAK_LINE,
                               "Consecutive qualifying runs: 2 of 3")
    assert QUOTING_ROW.encode() in done and b"runs: 2 of 3\n" in done
    assert done.replace(b"runs: 2 of 3", b"runs: 1 of 3") == backlog


@pytest.mark.parametrize("added", ["reports/notes/A.txt", "reports/Notes/X.txt",
                                   "reports/NOTES/deep/B.txt"])
def test_a_new_file_is_compared_with_every_spelling_of_its_folder(repo: Path, added: str,
                                                                  cli) -> None:  # type: ignore[no-untyped-def]
    """Folders spelled alike but for case, already on the base (reviewed there), are one
    folder on Windows and macOS: a file added into one of them is a twin of a file of the
    same name in another, whichever spelling the new path takes."""
    files_on_main_merged(repo, ("reports/Notes/a.txt", "reports/notes/x.txt",
                                "reports/Notes/Deep/b.txt"), "notes on main")
    refused_by_hook_and_verify(repo, Case("twin", write(added, b"new\n"), "case-twin", False),
                               cli)


def test_names_spelled_alike_are_all_found() -> None:
    from evidencebot.guard.paths import Names

    names = Names.of(["a/X", "a/x", "b", "A/x", "straße"])
    assert names.spelled("a/x") == ["a/X", "a/x", "A/x"] and names.spelled("q") == []
    assert names.spelled("strasse") == ["straße"] and names.twin("a/x") == "a/X"
    assert list(names + Names.of(["c"])) == ["a/X", "a/x", "b", "A/x", "straße", "c"]


@settings(max_examples=300, deadline=None)
@given(existing=st.lists(st.sampled_from(["a", "A", "b", "B", "/", "é", "ß", "."]).map(str)
                         | st.text(alphabet="aAbB/.", min_size=1, max_size=4), max_size=10),
       asked=st.text(alphabet="aAbB/.ßé", min_size=1, max_size=4))
def test_names_spelled_alike_are_the_paths_that_fold_alike(existing: list[str],
                                                           asked: str) -> None:
    """`Names.spelled` finds each path whose fold is the one asked for, in order: where
    every name is ASCII it reads the spelling at the match, elsewhere by counting."""
    from evidencebot.guard.paths import Names, fold

    names = Names.of(existing)
    want = fold(asked)
    assert names.spelled(want) == [p for p in existing if fold(p) == want]
    assert names.spelled(want) == names.spelled(want)  # (asked again, from the fold kept)


def test_an_accent_written_two_ways_is_one_name() -> None:
    """macOS takes "é" as one character or as "e" and a combining accent for one name: a
    new path in the other form is a twin, with a case difference too."""
    from evidencebot.guard.paths import Names, case_twins
    from evidencebot.guard.rules import Blob, Change

    existing = Names.of(["reports/café.txt", "reports/Été", "reports/notes"])
    for new, twin in (("reports/cafe\u0301.txt", "reports/café.txt"),
                      ("reports/e\u0301te\u0301/x.txt", "reports/Été"),
                      ("reports/notes/x.txt", None)):
        found = case_twins([Change(None, Blob(new, "100644", b""))], existing)
        assert [v.message.split(" from ")[1].split(" (")[0] for v in found] == (
            [repr(twin)] if twin else []), new


def test_an_accent_written_two_ways_is_refused_by_hook_and_verify(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    files_on_main_merged(repo, ("reports/Café/a.txt",), "an accented folder on main")
    refused_by_hook_and_verify(repo, Case("nfd", write("reports/cafe\u0301/b.txt", b"new\n"),
                                          "case-twin", False), cli)


@pytest.mark.parametrize(("streak", "page", "rule"), [
    (3, False, "milestone-closed-by-hand"),  # the streak met, flipped by hand
    (3, True, None),  # the closure: it adds the milestone's page (verify holds it to close's)
    (2, False, "milestone-closed-early"),  # short of the streak: that says why
    (2, True, "milestone-closed-early"),
    (CLOSED_MET, False, None),  # the history closed it already (the cell stays CLOSED)
])
def test_only_the_closure_sets_a_status_closed(tmp_path: Path, streak: int, page: bool,
                                               rule: str | None) -> None:
    """MO-2's Status set CLOSED, and a session-log line saying it closed, judged with the
    streak the history holds: only the change that adds its page (`close`'s) may."""
    from evidencebot.guard.rules import Blob, Change, Rules
    from evidencebot.guard.scope import judge

    repo = write_repo(tmp_path / "bot")
    design = (repo / "PROJECT_DESIGN.md").read_bytes()
    log = (repo / "SESSION_LOG.md").read_bytes()
    closed = design.replace(b"100 bars) | OPEN", b"100 bars) | CLOSED", 1)
    assert closed != design
    said = log + ENTRY.encode().replace(b"hand-written note", b"MO-2 closed")
    changes = [Change(Blob("PROJECT_DESIGN.md", "100644", design),
                      Blob("PROJECT_DESIGN.md", "100644", closed)),
               Change(Blob("SESSION_LOG.md", "100644", log), Blob("SESSION_LOG.md", "100644", said))]
    if page:
        changes.append(Change(None, Blob("reports/evidence/milestones/MO-2.md", "100644", b"x\n")))
    found = judge(changes, Rules(), streak_of=lambda _mo: streak)
    assert sorted({v.rule for v in found}) == ([rule] if rule else []), found
    if rule:  # (the status cell and the log line alike)
        assert {v.path for v in found} == {"PROJECT_DESIGN.md", "SESSION_LOG.md"}


@given(st.text(min_size=1))
@example("reports/evidence/step1a/x\nOK: verify passed.json")
def test_a_finding_is_one_line_whatever_the_path(path: str) -> None:
    """git allows any byte but NUL in a path: one with a newline named in a finding would
    print a line of its own (a fake "OK" under the hook's refusal); it is shown escaped."""
    shown = Violation(path, "stray-record", "not the record of this commit's run",
                      f"undo the change to {path}").render()
    assert shown.isprintable() and "(stray-record). Fix: undo the change to " in shown
    assert path in shown or not path.isprintable()
