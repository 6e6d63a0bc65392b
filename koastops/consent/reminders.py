"""Which configs are due a reminder, and sending one (see ``tasks``). To be written by
the reminders part of #9."""

from __future__ import annotations


def due_config_ids() -> list[int]:
    raise NotImplementedError


def remind(config_id: int) -> int:
    raise NotImplementedError
