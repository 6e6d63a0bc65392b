"""Loaded first (``-p koastops.devtools.pytest_isolation`` in pytest's addopts; it lives in the
package because pytest imports ``-p`` plugins before the tests folder is on the path), before pytest-django
reads the settings: under pytest-xdist, each worker process gets its own Celery broker
database, cache database and var directory, so that one worker's real Celery worker,
broker purge or cache clear never touches another's (the test databases are already
separate: pytest-django suffixes them per worker). Test databases also commit without
waiting for the disk (``synchronous_commit=off``: nothing in a test database needs to
survive a crash of the machine)."""

from __future__ import annotations

import os
import re

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_index = int(_worker.removeprefix("gw")) if re.fullmatch(r"gw\d+", _worker) else None


def _shift_redis_db(url: str, offset: int) -> str:
    """``redis://host:port/N`` -> ``redis://host:port/N+offset`` (Redis has 16 databases)."""
    match = re.fullmatch(r"(rediss?://[^/]+)/(\d+)", url)
    if not match:
        return url
    return f"{match.group(1)}/{(int(match.group(2)) + offset) % 16}"


# The test databases' commits need not wait for the disk (libpq reads PGOPTIONS, so every
# connection of the test process, its worker threads and subprocesses gets it).
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

if _index:  # gw0 keeps the configured names, so a run without xdist is unchanged
    for name, offset in (("CELERY_BROKER_URL", 2 * _index), ("REDIS_URL", 2 * _index)):
        if name in os.environ:
            os.environ[name] = _shift_redis_db(os.environ[name], offset)
    os.environ.setdefault("KOASTOPS_VAR_DIR", f"var/test-{_worker}")
