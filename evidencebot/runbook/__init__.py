"""What the runbook does around a run: the pre-run checks and preflight, the burn-in runner
(timeout, retries), handoff packets, the context the runbook loads, scheduling and
notifications.

May import ledger, guard, evidence, ibkr and the leaves; never cli or milestone."""
