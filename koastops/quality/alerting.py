"""Alert evaluation after each pull.

Placeholder of the pulls part: the alerts part replaces this module with the real
evaluation (rules, open once, notify, resolve). ``koastops.quality.pulling`` calls
``evaluate_after_pull`` after every successful pull, outside the pull's transaction.
"""

from __future__ import annotations


def evaluate_after_pull(pixel_id: int) -> None:
    """Evaluate the brand's alert rules for the pixel (no-op until the alerts part lands)."""
    return None
