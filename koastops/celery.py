"""The Celery application. Tasks are named ``koastops.<app>.<action>``, take ids, are
idempotent (so ``acks_late`` is safe) and are enqueued after the transaction commits
(``task.delay_on_commit(...)``)."""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.exceptions import Reject
from django.conf import settings
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koastops.settings")

logger = logging.getLogger("koastops.celery")


class KoastopsTask(DjangoTask):
    """Every koastops task: enqueue after commit, and a bounded number of deliveries.

    ``acks_late`` + ``reject_on_worker_lost`` put a message back on the queue when the
    worker process running it dies (OOM kill, segfault, hard time limit). A task that
    kills its worker every time would then be redelivered forever, taking a worker down
    each time. Each run (task id and retry number) counts its deliveries in the database
    (``system.TaskDelivery``) before it starts; past ``CELERY_TASK_MAX_DELIVERIES`` the run
    is given up: logged as an error, marked in its row, and the message rejected without
    requeue (acknowledged) instead of running again. A run that returns in any way
    (success, exception, retry) deletes its row, so only runs that took their worker down
    leave one behind.
    """

    # celery-types says AsyncResult; Celery's DjangoTask.delay_on_commit returns None.
    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # robust: the transaction has committed whatever happens here; a broker that is
        # down must not turn the committed change into a 500 (the failure is logged).
        transaction.on_commit(functools.partial(self.delay, *args, **kwargs), robust=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.called_directly or not request.id:
            return super().__call__(*args, **kwargs)
        from koastops.system import services as system_services

        key = f"{request.id}:{request.retries or 0}"
        limit = settings.CELERY_TASK_MAX_DELIVERIES
        deliveries = system_services.task_delivery_count(key=key, task_name=self.name)
        if deliveries > limit:
            system_services.task_delivery_give_up(key=key)
            logger.error(
                "Task %s[%s] was delivered %d times (limit %d): its worker died on each run; "
                "giving up instead of running it again.",
                self.name,
                request.id,
                deliveries,
                limit,
            )
            raise Reject(f"delivered {deliveries} times (limit {limit})", requeue=False)
        try:
            # self.run, not super().__call__: that would push a request without the id.
            return self.run(*args, **kwargs)
        finally:
            system_services.task_delivery_forget(key=key)


app = Celery("koastops", task_cls=KoastopsTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
