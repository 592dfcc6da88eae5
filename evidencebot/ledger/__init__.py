"""Writing and re-reading the ops branch: the workspace context, plumbing commits under the
lock (every one judged by the guard), recording runs, pushing and rebuilding, and verify.

May import guard, evidence, ibkr and the leaves."""

# A verify finding's Fix where nothing in the commit can be mended.
DROP = "remove this commit from the ops branch"
