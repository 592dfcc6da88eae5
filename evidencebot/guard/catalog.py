"""The scope rules by id: what each one checks, for `evidencebot explain scope` and the
README (the shape of gitlint's rule table). Every id a violation can carry is listed here;
tests/test_explain.py reads the guard's source to keep it so. Data only."""

# No `from __future__ import annotations`: see rules.py.

from typing import NamedTuple


class RuleInfo(NamedTuple):
    id: str
    scope: str  # what the rule looks at
    checks: str  # what it requires, in one sentence


_PATHS = "every changed path"
_NEW = "new evidence files"
_DOCS = "the three documents"
_LOG = "SESSION_LOG.md"
_TABLES = "IMPLEMENTATION_BACKLOG.md, PROJECT_DESIGN.md"
_CODE = "a code change (a range with no ops commit, from its merge base to its tip)"

SCOPE_RULES: tuple[RuleInfo, ...] = (
    RuleInfo("base-missing", "the commit", "the base branch whose committed rules judge "
             "it exists, here or at origin"),
    RuleInfo("path-not-allowed", _PATHS, "inside [scope] allowed_paths, outside "
             "forbidden_paths, and never the config, hooks or CI files that define the rules"),
    RuleInfo("no-git-metadata", _PATHS, "no .gitattributes, .gitignore or .gitmodules "
             "anywhere (they change what reviewers and git see)"),
    RuleInfo("regular-files-only", _PATHS, "regular files only: no symlink, no submodule"),
    RuleInfo("no-mode-change", _PATHS, "a file keeps its mode; a new file is 100644"),
    RuleInfo("case-variant", _PATHS, "evidence is written under reports/evidence/ spelt "
             "exactly (Reports/Evidence/ is the same folder on Windows and macOS)"),
    RuleInfo("case-twin", _PATHS, "no new name equal, ignoring case, to an existing one or "
             "another new one"),
    RuleInfo("evidence-immutable", _PATHS, "committed evidence (records, logs, handoff "
             "packets, check and void records, descriptions) is never rewritten or deleted"),
    RuleInfo("no-deletion", _PATHS, "a tracked document is never deleted"),
    RuleInfo("stray-record", _NEW, "under the runs' evidence folder a commit adds only "
             "its own run's record and log (the commit-msg hook and verify, which read its "
             "trailer block)"),
    RuleInfo("stray-closure-file", _NEW, "under the milestones' folder only a closure "
             "adds files: its own page and description (the commit-msg hook and verify)"),
    RuleInfo("stray-check", _NEW, "under the refused checks' folder only a check commit "
             "adds files (the commit-msg hook and verify)"),
    RuleInfo("evidence-data-only", _NEW, "a data extension ([scope] evidence_extensions: "
             ".json .md .log .txt .csv); .html only for a closure's report page, "
             "<milestone_dir>/MO-n.html"),
    RuleInfo("page-no-script", _NEW, "the report page holds only what `close` renders: "
             "its tags and attributes (no script, frame, object, form, event handler or "
             "image), links to http(s) or relative paths, a style without url() or "
             "@import"),
    RuleInfo("no-dotfiles", _NEW, "no file or folder name starting with a dot"),
    RuleInfo("portable-names", _NEW, "names Windows can hold: no <>:\"|?*\\, control "
             "characters, trailing dot or space, or device names (CON, NUL, COM1…); no "
             "format character (zero-width, bidi) a reader cannot see; ASCII only (a "
             "Cyrillic і in reports/evіdence/ reads as the evidence folder)"),
    RuleInfo("text-only", _DOCS, "UTF-8 text without NUL bytes"),
    RuleInfo("unreadable-document", _DOCS, "a document the rules can read at all"),
    RuleInfo("hidden-characters", _DOCS, "changed lines hold no control (but tab) or format "
             "character (zero-width, bidi override)"),
    RuleInfo("html-in-document", _DOCS, "changed lines hold no raw HTML (a tag, a comment) "
             "and no character reference but &amp; &lt; &gt;, outside code spans: a page "
             "would show what the text does not say"),
    RuleInfo("section-heading-changed", _TABLES, "headings are never added, removed, renamed "
             "or re-levelled"),
    RuleInfo("outside-allowed-section", _TABLES, "backlog: changes only inside the Step 1A "
             "tracker and MO-* rows of \"MO-* Status\"; design: only MO-* rows of §9"),
    RuleInfo("rows-added-or-removed", _TABLES, "MO-* rows are edited in place, never added "
             "or removed"),
    RuleInfo("table-shape", _TABLES, "an edited row keeps one cell per column"),
    RuleInfo("mo-id-changed", _TABLES, "an MO-* row keeps its ID"),
    RuleInfo("cell-not-allowed", "PROJECT_DESIGN.md", "only the Status and Evidence cells of "
             "an MO-* row change"),
    RuleInfo("status-not-closed", _TABLES, "a status changes only to exactly CLOSED"),
    RuleInfo("tracker-append-only", "the Step 1A Burn-In Tracker", "rows are only added "
             "(one per recorded run); an existing row, a hand-written one included, never "
             "changes or goes; the streak line is the one line that changes"),
    RuleInfo("tracker-row-placed", "the Step 1A Burn-In Tracker", "an added row can be "
             "placed in time: its Run ID is a UTC stamp or its Date (UTC) a day (the streak "
             "puts one it cannot place after every run)"),
    RuleInfo("streak-line-kept", "the Step 1A Burn-In Tracker", "the streak line changes "
             "only into another streak line ('Consecutive qualifying runs: N of M' on a line "
             "of its own); no added line reads like one without being one; a change that "
             "is no ops commit leaves it as it was"),
    RuleInfo("tracker-table-kept", "the Step 1A Burn-In Tracker", "the tracker table stays "
             "the section's first table with its header and every row, in order (no table "
             "added above it, no line that splits it): the streak reads hand-written rows "
             "from it"),
    RuleInfo("milestone-reopened", _TABLES, "a CLOSED milestone never changes status again"),
    RuleInfo("milestone-without-rule", _TABLES, "only a milestone with a [milestone.MO-n] "
             "rule in the base branch's config becomes CLOSED"),
    RuleInfo("milestone-closed-early", _TABLES, "CLOSED only when the branch's own history "
             "holds the streak (MO-2: 3 consecutive qualifying runs)"),
    RuleInfo("milestone-closed-by-hand", _TABLES, "CLOSED (or a note that says closed) only "
             "in the milestone's closure commit, which `evidencebot close` makes and which "
             "names the runs; never by hand"),
    RuleInfo("evidence-in-code", _CODE, "writes nothing under the evidence, voids, checks "
             "or milestones folders"),
    RuleInfo("status-kept", _CODE, "moves a milestone's status cell only among words of "
             "work not done (OPEN, IN PROGRESS ...), and leaves each readable (a row named "
             "by its id, under a Status column); no cell of a row naming an open milestone "
             "comes to say work done or a count that meets its streak (3/3)"),
    RuleInfo("breaking-row-kept", _CODE, "changes or removes no tracker row that breaks "
             "the streak"),
    RuleInfo("look-alike-characters", _CODE, "adds no text that names a milestone or says "
             "closed or work done with a word mixing Latin letters and another script's "
             "letters or symbols ('Ⲙo-2 is closed'); an image reads as a tick (what it "
             "shows is not read)"),
    RuleInfo("append-only", _LOG, "existing text never changes; a new entry starts with "
             "its own heading"),
    RuleInfo("ops-entry-only", _LOG, "appended entries are of type OPS"),
    RuleInfo("session-log-grammar", _LOG, "an entry is '## YYYY-MM-DD HH:MM UTC — OPS — "
             "title' followed by '- Field: value' lines"),
)
