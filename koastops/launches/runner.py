"""The check runner (owned by the runner part; placeholder in the foundation)."""

from __future__ import annotations


def start_run(run_id: int) -> None:
    raise NotImplementedError


def execute_check(run_id: int, key: str) -> None:
    raise NotImplementedError


def reap_stale_runs() -> int:
    raise NotImplementedError


def schedule_post_launch() -> int:
    raise NotImplementedError
