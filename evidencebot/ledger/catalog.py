"""What `verify` checks beyond the scope rules, by finding id, for `evidencebot explain
scope` and the README. Every id a finding can carry is listed here; tests/test_explain.py
reads the ledger's source to keep it so. Data only."""

from __future__ import annotations

from ..guard.catalog import RuleInfo

_RANGE = "every commit"
_RUN = "run commits"
_CLOSURE = "closures"
_VOID = "voids"

VERIFY_RULES: tuple[RuleInfo, ...] = (
    RuleInfo("not-from-base", _RANGE, "descends from the base branch (no orphan history)"),
    RuleInfo("range-not-from-base", _RANGE, "the range starts on the base branch (--range "
             "A..B with A the base holds): no ops commit below it goes unjudged"),
    RuleInfo("base-evidence-missing", _RANGE, "the range's tip holds every ops commit the "
             "base holds (evidence merged into the base is never left out)"),
    RuleInfo("branch-like-tag", _RANGE, "no tag is named like an ops branch (a checkout "
             "by the branch's name would land on the tag)"),
    RuleInfo("not-an-ops-commit", _RANGE, "an ops branch holds ops commits only"),
    RuleInfo("merge-with-changes", _RANGE, "a merge is exactly git's merge of its parents"),
    RuleInfo("ops-lines-merged", _RANGE, "a merge joins no two lines of ops commits (each "
             "run is judged against the one list of runs before it)"),
    RuleInfo("merge-conflict", "a code change", "its merge into the base is clean (what a "
             "conflicted merge would write cannot be judged)"),
    RuleInfo("ops-line-left-out", _RANGE, "no other ops branch on the remote holds ops "
             "commits the range's tip and the base do not (a failed session recorded there "
             "is evidence too)"),
    RuleInfo("merge-with-trailers", _RANGE, "a merge carries no evidence trailers (it would "
             "be a run, closure or void no rule re-derives: it counts for nothing)"),
    RuleInfo("tree-malformed", _RANGE, "every folder a commit makes is a tree git would "
             "write: entries in git's order, no name twice (`git fsck`)"),
    RuleInfo("tree-unreadable", _RANGE, "git can read every commit's change (a tree its "
             "parser stops at: an empty name, a cut entry)"),
    RuleInfo("trailers", _RANGE, "the trailer block follows the contract "
             "(`evidencebot explain trailers`)"),
    RuleInfo("future-commit", _RANGE, "no commit dated in the future (beyond 5 min skew)"),
    RuleInfo("unsigned", _RANGE, "signed by a key git trusts (with --require-signed)"),
    RuleInfo("history-squashed", _RANGE, "every evidence record came with its ops commit "
             "(merge, do not squash)"),
    RuleInfo("record-path", _RUN, "the record lives at <evidence_dir>/<run-id>.json"),
    RuleInfo("record-missing", _RUN, "the commit holds its record"),
    RuleInfo("record-not-new", _RUN, "the record is new in this commit"),
    RuleInfo("record-unreadable", _RUN, "the record is a valid EvidenceRecord"),
    RuleInfo("record-mismatch", _RUN, "the record is the run the trailers name"),
    RuleInfo("record-after-commit", _RUN, "the run finished before its commit"),
    RuleInfo("record-times", _RUN, "the run finished after it started"),
    RuleInfo("report-missing", _RUN, "a completed run's record embeds its report"),
    RuleInfo("report-sha256", _RUN, "report_sha256 is the hash of the embedded report"),
    RuleInfo("report-unreadable", _RUN, "the embedded report yields metrics"),
    RuleInfo("metrics-mismatch", _RUN, "the record's metrics are what its report gives"),
    RuleInfo("attempt-mismatch", _RUN, "a failed-* attempt is what `run` records for one: "
             "no report, metrics or verdict (a completed run's outcome follows from its "
             "report), named <start>-<outcome>"),
    RuleInfo("closure-before-runs", _CLOSURE, "a closure is dated after the runs it names "
             "finished (author and committer dates)"),
    RuleInfo("closure-documents-mismatch", _CLOSURE, "a closure's backlog, design and "
             "session log are what `close` writes at its commit: the milestone's cells and "
             "its entry, nothing else"),
    RuleInfo("connectivity-mismatch", _RUN, "the record's IBKR counts (disconnections, "
             "restorations, benign messages) are those of the log beside it and its "
             "report's messages"),
    RuleInfo("failure-mismatch", _RUN, "a failed-infra or failed-market-data attempt's "
             "outcome and reason are what `run` reads in the log beside it and its exit code, "
             "with the gateway up or gone after the run (a crash, or no exit code, is a "
             "code failure)"),
    RuleInfo("outcome-mismatch", _RUN, "the outcome follows from the metrics and the trust "
             "rules of the base config (a report's session starts no earlier than `run` "
             "started it)"),
    RuleInfo("run-recorded-twice", _RUN, "a run id is recorded once"),
    RuleInfo("report-reused", _RUN, "one report backs one record"),
    RuleInfo("overlapping-session", _RUN, "runs do not overlap in time (one session, one "
             "run)"),
    RuleInfo("closure-contradicted", _RUN, "no run recorded after a closure not yet merged, "
             "nor a hand-written row merged in, breaks the streak between two of the runs "
             "it names"),
    RuleInfo("tracker-row-mismatch", _RUN, "a run commit's tracker is what `record` writes "
             "for its record on the parent's: its row (outcome, figures, run id, evidence "
             "path) and the streak line, nothing else (no row hidden, none added beside)"),
    RuleInfo("session-entry-mismatch", _RUN, "a run commit's session log is the parent's with "
             "the entry `record` writes for its record, nothing else"),
    RuleInfo("subject-mismatch", _RUN, "a run commit's subject is `record`'s: the run id and "
             "its outcome"),
    RuleInfo("hand-row-contradicted", _RUN, "a run counts only when no hand-written "
             "tracker row before it says that run did not qualify"),
    RuleInfo("trailer-mismatch", _RUN, "every trailer (metrics, streak, times, code) is "
             "recomputed from the record and the history before it"),
    RuleInfo("streak-line", _RANGE, "the tracker's streak line reads the streak after each "
             "run or void commit; no other commit changes it"),
    RuleInfo("milestone-without-rule", _CLOSURE, "the milestone has a rule in the base "
             "config"),
    RuleInfo("milestone-closed-twice", _CLOSURE, "a milestone closes once"),
    RuleInfo("milestone-closed-early", _CLOSURE, "the history before it holds the streak"),
    RuleInfo("milestone-evidence-mismatch", _CLOSURE, "Milestone-Evidence names the last "
             "runs of that streak"),
    RuleInfo("milestone-runs-reused", _CLOSURE, "no run it names closed another milestone "
             "before it: each milestone closes on runs of its own"),
    RuleInfo("description-mismatch", _CLOSURE, "the committed description is what `close` "
             "renders from the history at that commit"),
    RuleInfo("page-mismatch", _CLOSURE, "the committed report page is what `close` renders "
             "from the history at that commit"),
    RuleInfo("stray-void", _RANGE, "a void record comes only with its own void commit"),
    RuleInfo("void-unknown-run", _VOID, "the voided run is recorded earlier in the history"),
    RuleInfo("void-of-closed-run", _VOID, "no closure's streak holds the voided run (named, "
             "or between two named runs)"),
    RuleInfo("void-twice", _VOID, "a run is voided once"),
    RuleInfo("void-record", _VOID, "the void record names the run and reason of the "
             "trailers and is bound (sha256) to the run's record as committed"),
)
