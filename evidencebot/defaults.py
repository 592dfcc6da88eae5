"""The runbook's defaults that both the config and the import-light hook need
(SESSION_TOPOLOGY.md §2 Type 4, the runbook's milestone). One place, stdlib only."""

from __future__ import annotations

# The folders of the evidence kinds whose place is no [docs] setting: void records and the
# records of refused checks (each kind keeps a folder of its own: `config` holds the
# configurable ones apart from them).
VOIDS_DIR = "reports/evidence/voids"
CHECKS_DIR = "reports/evidence/checks"
# (and the three documents `[docs]` names, wherever they are: the old names stay no
# evidence path once they move)
ALLOWED_PATHS = ("reports/**",)
FORBIDDEN_PATHS = ("src/**", "backtest/**", "config/**", "tests/**")
OPS_BRANCHES = ("ops/*",)
MILESTONE = "MO-2"
# a milestone id as a reader takes it, in text `textsafe.skeleton` folded: MO-2, MO 2, MO·2,
# MO-02 (the same), M0-2 (a zero for the o), MO - 2, MO--2, MO/2, MO:2
MILESTONE_NAMED = r"\bm[o0][-\s._\u00b7/:]*0*([0-9]+)\b"
CONSECUTIVE = 3
EVIDENCE_EXTENSIONS = (".json", ".md", ".log", ".txt", ".csv")
MAX_CLOCK_SKEW_SECONDS = 300
MAX_LOG_BYTES = 16 * 1024 * 1024  # a run's log, kept by `run` or given to `record --log`
# Before the paper session starts the run checks, connects and runs the wrapper's preflight:
# a run fits the window when its paper session and this much more end inside it (the
# pre-run window check, `next` and `schedule` alike).
RUN_MARGIN_SECONDS = 300


def whole_run_seconds(paper_seconds: int) -> int:
    """How long a run with ``paper_seconds`` on paper takes, as the window counts it."""
    return paper_seconds + RUN_MARGIN_SECONDS


# The tracker's streak line under its table (`record` and `void` rewrite it; the hook
# lets it change into another streak line only): a whole line of its own (a row that
# quotes it is a row, and the rules that let the streak line change never let a row
# change with it), its two numbers (count, needed) captured.
STREAK_WORDS = "Consecutive qualifying runs:"
STREAK_LINE = (rf"^[ \t]*{STREAK_WORDS}[ \t]*([0-9]{{1,9}})[ \t]+of[ \t]+([0-9]{{1,9}})"
               r"[ \t]*$")
# Names Windows cannot hold a file under, whatever the extension (evidence is read there).
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                              *(f"lpt{i}" for i in range(10))})

WINDOWS_BAD = frozenset('<>:"|?*\\')


def windows_problem(part: str) -> str | None:
    """Why Windows cannot hold a file or folder named ``part`` (None: it can)."""
    if part.endswith((".", " ")):
        return "ends with a dot or a space (Windows drops it)"
    if not WINDOWS_BAD.isdisjoint(part) or (part and min(part) < " "):  # (U+0000-U+001F)
        return "holds a character Windows cannot (<>:\"|?*\\ or a control character)"
    if part.split(".", 1)[0].strip().lower() in WINDOWS_RESERVED:
        return "is a reserved device name on Windows"
    if part[:4].lower() == "git~" and part[4:].isdigit():  # (git refuses it too)
        return "is a short (8.3) name Windows can give .git"
    return None


def overlapping(folders: dict[str, str]) -> tuple[str, str] | None:
    """The first two of ``folders`` (name -> folder) of which one holds the other: each
    kind of evidence keeps a folder of its own (a void record inside the runs' folder
    reads as a stray record there)."""
    items = [(name, folder.rstrip("/") + "/") for name, folder in folders.items()]
    for k, (a, x) in enumerate(items):
        for b, y in items[k + 1:]:
            if x.startswith(y) or y.startswith(x):
                return a, b
    return None


def records_folder_problem(folder: str) -> str | None:
    """Why ``folder`` cannot hold the records (None: it can): where the Evidence-Record
    trailer's form says records live (reports/…, plain names, no ``..``), under names
    the hook lets evidence have."""
    import re

    if not re.fullmatch(r"reports(/[A-Za-z0-9._-]+)+/?", folder) or "/../" in f"{folder}/" \
            or "/./" in f"{folder}/":
        return ("must be a folder under reports/ (letters, digits, . _ -), where the "
                "Evidence-Record trailer says records live and ops commits write evidence")
    for part in folder.rstrip("/").split("/"):
        why = "is a dot-folder" if part.startswith(".") else windows_problem(part)
        if why:
            return f"{part!r} {why}: the hook refuses evidence there"
    return None
