"""Writing and re-reading the ops branch: the workspace context, plumbing commits under the
lock (every one judged by the guard), recording runs, pushing and rebuilding, and verify.

May import guard, evidence, ibkr and the leaves."""

from collections.abc import Callable

# A verify finding's Fix where nothing in the commit can be mended.
DROP = "remove this commit from the ops branch"
AGAIN = DROP + " and record the run again"  # (a run commit's)
Add = Callable[[str, str, str], None]  # how a check adds a finding: (rule, message, fix)
