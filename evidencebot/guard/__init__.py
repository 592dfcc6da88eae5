"""The scope guard: the rule model, path rules, document rules, reading a change from git,
and the hook entry points. Import-light (no click, rich, pydantic, jinja2 or ib_async):
it runs on every commit.

May import evidence's light modules and the leaves."""
