"""Logging filters that keep the terminal (and the log) about what matters.

Beat sends the housekeeping tasks every minute or so, and Celery logs each send, receipt
and success at INFO: three lines a minute that say nothing. ``QuietHousekeepingTasks``
treats those records as DEBUG: shown only when the logger is enabled for DEBUG
(``LOG_LEVEL=DEBUG``). Failures (WARNING and above) always pass, and so does every other
task's INFO (an invitation email sent, say).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

# Periodic tasks beat sends on a schedule (settings.CELERY_BEAT_SCHEDULE).
HOUSEKEEPING_TASKS = frozenset(
    {
        "koastops.system.heartbeat",
        "koastops.activity.checkpoint_write",
        "koastops.consent.reminders",  # hourly; each reminder sent (consent.remind) stays INFO
        # Event quality's beat jobs (each pull, alert and webhook stays INFO).
        "koastops.quality.evaluate_alerts",  # every 15 minutes
        "koastops.quality.schedule_pulls",
        "koastops.quality.reap_stale_pulls",
        "koastops.quality.ensure_partitions",
        # Launches' beat jobs (each check run stays INFO).
        "koastops.launches.reap_stale_runs",  # every minute
        "koastops.launches.schedule_post_launch",
    }
)


def _task_name(record: logging.LogRecord) -> str | None:
    args = record.args
    if isinstance(args, dict):  # celery.worker.strategy, celery.app.trace: {"name": ...}
        name = args.get("name")
        return name if isinstance(name, str) else None
    if isinstance(args, tuple) and len(args) >= 2:  # celery.beat: (entry name, task name)
        name = args[1]
        return name if isinstance(name, str) else None
    return None


class QuietHousekeepingTasks(logging.Filter):
    def __init__(self, name: str = "", tasks: Iterable[str] = HOUSEKEEPING_TASKS) -> None:
        super().__init__(name)
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or _task_name(record) not in self.tasks:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
