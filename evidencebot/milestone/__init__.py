"""Milestones: the streak as a reviewer sees it, the closure commit, the merge-request
description and its providers, status, and the HTML report page.

May import runbook, ledger, guard, evidence, ibkr and the leaves."""
