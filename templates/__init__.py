"""Jinja2 templates shipped with evidencebot (installed as ``evidencebot.templates``)."""
