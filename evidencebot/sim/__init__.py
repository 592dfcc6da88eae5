"""Simulated pieces for the demo and the tests: the IB Gateway and the burn-in wrapper."""
