"""Domain exceptions any app may raise and any caller may show. Core knows no domain, so
these say what went wrong in general terms; the caller names the object."""

from __future__ import annotations


class StaleVersion(Exception):
    """The row changed since the caller read it: its version is no longer the one the
    caller's edit was based on, so applying the edit would silently overwrite the other
    change. Nothing was written."""

    def __init__(self, *, expected_version: int, current_version: int) -> None:
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"Expected version {expected_version}, but it is now version {current_version}."
        )
