"""IBKR knowledge: the gateway probe (real ib_async), error codes and the failure classes
they imply.

May import the leaves only."""
