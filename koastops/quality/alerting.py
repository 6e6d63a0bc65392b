"""Alert evaluation after each pull.

Placeholder of the pulls part: the alerts part replaces this module with the real
evaluation (rules, open once, notify, resolve). ``koastops.quality.pulling`` calls
``evaluate_after_pull`` after every pull that ended (succeeded, or failed with a platform
error that changed the connection: broken, rate limited, failing), outside the pull's
transaction; an exception it raises is logged and does not change the pull's result.
"""

from __future__ import annotations


def evaluate_after_pull(pixel_id: int) -> None:
    """Evaluate the brand's alert rules for the pixel (no-op until the alerts part lands)."""
    return None
