"""Markdown, line by line: `blocks` (a document's top-level blocks, derived from the last
version's where it can), `scan` (those blocks without markdown-it, for the documents
evidencebot keeps), `edit` (the edits evidencebot makes, byte-exact) and `lines` (single
lines of a section found by a pattern, the first rewritten). A leaf: it may
import errors only (and markdown-it, when `scan` leaves a document to it)."""
