"""The command line: the click app, one module per command or small group, and the output
helpers (tables, JSON). Thin: parse options, call the rooms below, print what they return.

May import every other room; nothing imports it (the demo gets it passed in)."""
