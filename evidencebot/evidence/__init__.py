"""What evidence is and what counts: report -> metrics -> verdict, the session window, the
EvidenceRecord model, the trailer contract, the history as git records it, the streak
rules, and the rendering of rows, entries and messages.

May import ibkr and the leaves. The modules the hook uses (trailers, history, streak)
import neither pydantic nor jinja2."""
