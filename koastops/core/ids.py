"""Database ids are bigints (``BigAutoField``): 1 … 2**63 - 1. A larger number must be
refused as bad input before it reaches a query, where PostgreSQL and SQLite fail on it."""

from __future__ import annotations

MAX_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """The id ``text`` spells in ASCII digits and in range, else None (``str.isdigit``
    also accepts "²", which ``int`` refuses)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
