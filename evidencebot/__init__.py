"""evidencebot: the operations side of a UK paper-trading bot, with its evidence kept in git."""

from __future__ import annotations

__version__ = "0.1.0"
