"""Post-launch regressions (owned by the runner part; placeholder in the foundation)."""

from __future__ import annotations

from typing import Any


def evaluate(*, run: Any, launch: Any) -> None:
    return None
