"""The sections of docs/benchmarks.md that different commands own.

``manage.py bench`` writes the file from the top; ``manage.py lighthouse`` owns its last
section, from the ``## Lighthouse`` heading to the end. Each keeps the other's part.
"""

from __future__ import annotations

LIGHTHOUSE_HEADING = "## Lighthouse"


def _start(text: str) -> int:
    if text.startswith(LIGHTHOUSE_HEADING + "\n"):
        return 0
    index = text.find("\n" + LIGHTHOUSE_HEADING + "\n")
    return -1 if index < 0 else index + 1


def lighthouse_section(text: str) -> str:
    """The Lighthouse section of ``text`` (heading to end), or '' when there is none."""
    start = _start(text)
    return "" if start < 0 else text[start:]


def with_lighthouse_section(text: str, section: str) -> str:
    """``text`` with its Lighthouse section replaced by ``section`` (appended if absent)."""
    start = _start(text)
    head = text if start < 0 else text[:start]
    if not section.strip():
        return head
    return head.rstrip("\n") + "\n\n" + section.strip("\n") + "\n"
