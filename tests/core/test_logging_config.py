"""The logging configuration keeps the terminal readable: every record printed once, the
minutely housekeeping tasks quiet at the default level, real problems still shown."""

from __future__ import annotations

import logging
import logging.config

import pytest
from django.conf import settings

from koastops.core.logfilters import QuietHousekeepingTasks


@pytest.fixture
def configured(settings):
    """The project's LOGGING as DEBUG would apply it (Django's defaults first), restored
    afterwards."""
    from django.utils.log import DEFAULT_LOGGING

    names = ["", "django", "django.request", "celery.beat", "celery.app.trace"]
    saved = {
        name: (
            logging.getLogger(name).handlers[:],
            logging.getLogger(name).filters[:],
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in names
    }
    settings.DEBUG = True
    logging.config.dictConfig(DEFAULT_LOGGING)
    logging.config.dictConfig(settings.LOGGING)
    yield
    for name, (handlers, filters, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
        logger.propagate = propagate


def handlers_reached(name: str) -> list[logging.Handler]:
    """Every handler a record logged on ``name`` passes through."""
    logger: logging.Logger | None = logging.getLogger(name)
    reached = []
    while logger is not None:
        reached.extend(logger.handlers)
        logger = logger.parent if logger.propagate else None
    return reached


@pytest.mark.parametrize(
    "name", ["django.request", "django.utils.autoreload", "koastops.celery", "celery.beat"]
)
def test_every_record_reaches_exactly_one_console_handler(configured, name):
    streams = [
        h
        for h in handlers_reached(name)
        if isinstance(h, logging.StreamHandler) and not type(h).__module__.startswith("_pytest")
    ]

    assert len(streams) == 1


def _record(name: str, level: int, msg: str, args) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


BEAT_SEND = ("Scheduler: Sending due task %s (%s)", ("heartbeat", "koastops.system.heartbeat"))
TRACE_OK = (
    "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
    ({"name": "koastops.system.heartbeat", "id": "1", "runtime": 0.01, "return_value": None},),
)


@pytest.mark.parametrize(
    ("name", "message"), [("celery.beat", BEAT_SEND), ("celery.app.trace", TRACE_OK)]
)
def test_housekeeping_task_chatter_is_debug(configured, name, message, caplog):
    logger = logging.getLogger(name)
    msg, args = message

    with caplog.at_level(logging.INFO):  # the default LOG_LEVEL
        logger.info(msg, *args)
    assert caplog.records == []

    with caplog.at_level(logging.DEBUG):  # LOG_LEVEL=DEBUG shows them
        logger.info(msg, *args)
    assert [r.levelname for r in caplog.records] == ["DEBUG"]


def test_other_tasks_and_failures_stay_visible():
    quiet = QuietHousekeepingTasks()
    invitation = _record(
        "celery.app.trace",
        logging.INFO,
        TRACE_OK[0],
        {**TRACE_OK[1][0], "name": "koastops.accounts.send_invitation"},
    )
    failed = _record(
        "celery.app.trace",
        logging.ERROR,
        "Task %(name)s[%(id)s] raised",
        {"name": "koastops.system.heartbeat", "id": "1"},
    )

    assert quiet.filter(invitation) and invitation.levelname == "INFO"
    assert quiet.filter(failed) and failed.levelname == "ERROR"


def test_the_filesystem_broker_names_a_host():
    """kombu warns "No hostname was supplied" on every connection otherwise."""
    if settings.CELERY_BROKER_URL.startswith("filesystem:"):
        assert settings.CELERY_BROKER_URL == "filesystem://localhost/"
    assert settings.CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP is True  # no deprecation warning
    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False


def test_every_beat_job_is_quiet_housekeeping(settings):
    """Beat's sends of its own jobs are DEBUG; what those jobs start (a pull, a reminder, an
    alert) logs as usual."""
    from koastops.core.logfilters import HOUSEKEEPING_TASKS

    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat <= HOUSEKEEPING_TASKS
