"""The runbook's defaults that both the config and the import-light hook need
(SESSION_TOPOLOGY.md §2 Type 4, the runbook's milestone). One place, stdlib only."""

from __future__ import annotations

ALLOWED_PATHS = ("reports/**", "SESSION_LOG.md", "IMPLEMENTATION_BACKLOG.md", "PROJECT_DESIGN.md")
FORBIDDEN_PATHS = ("src/**", "backtest/**", "config/**", "tests/**")
OPS_BRANCHES = ("ops/*",)
MILESTONE = "MO-2"
CONSECUTIVE = 3
EVIDENCE_EXTENSIONS = (".json", ".md", ".log", ".txt", ".csv")
MAX_CLOCK_SKEW_SECONDS = 300
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
