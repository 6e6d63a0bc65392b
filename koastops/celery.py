"""The Celery application. Tasks are named ``koastops.<app>.<action>``, take ids, are
idempotent (so ``acks_late`` is safe) and are enqueued after the transaction commits."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koastops.settings")

app = Celery("koastops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
