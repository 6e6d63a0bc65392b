from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Max
from django.test import Client

from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Market
from tests.factories import (
    DEFAULT_PASSWORD,
    AdAccountFactory,
    AdminFactory,
    BrandFactory,
    PixelFactory,
    UserFactory,
)


def pytest_configure(config) -> None:
    """Transactional tests end with a flush of every table. For the test database only:

    - the flush DELETEs the rows (in one transaction, the foreign keys being deferred)
      rather than TRUNCATE every table: a test leaves a handful of rows, and TRUNCATE
      replaces each table's files — 0.2 s per flush against 0.02 s;
    - the activity log's append-only trigger (which refuses both, as it should in
      production) is switched off and on again inside that transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    table = "activity_activityentry"

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            statements = original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        else:
            statements = [
                "SET CONSTRAINTS ALL DEFERRED",
                *(f"DELETE FROM {self.quote_name(name)}" for name in tables),  # noqa: S608 (table names from the models)
            ]
        if table in tables and statements:
            return [
                f"ALTER TABLE {table} DISABLE TRIGGER USER",
                *statements,
                f"ALTER TABLE {table} ENABLE TRIGGER USER",
            ]
        return statements

    DatabaseOperations.sql_flush = sql_flush
    _share_whitenoise_file_scan()


def _share_whitenoise_file_scan() -> None:
    """Every test client builds its own middleware chain, and WhiteNoise's middleware scans
    every static file (a stat and its headers each) when it is built: about 40 ms per
    client, a quarter of a permission-matrix case. A server builds it once per process.
    In the test process the scan is made once per static setup (``STATIC_URL``, the
    folders, the finders) and its result reused; the middleware serves the same files."""
    from django.conf import settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    original = WhiteNoiseMiddleware.add_files_from_finders
    scans: dict[tuple, dict] = {}

    def add_files_from_finders(self) -> None:
        key = (
            self.static_prefix,
            tuple(str(folder) for folder in settings.STATICFILES_DIRS),
            tuple(settings.STATICFILES_FINDERS),
        )
        scanned = scans.get(key)
        if scanned is None:
            before = dict(self.files)
            original(self)
            scanned = scans[key] = {
                url: found for url, found in self.files.items() if before.get(url) is not found
            }
        else:
            self.files.update(scanned)

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Tests create many users; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the cache (Redis in CI, shared by every test): each
    test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def admin_user(db):
    return AdminFactory(email="admin@example.com")


@pytest.fixture
def plain_user(db):
    """Signed in, but holding no role on any brand (an outsider)."""
    return UserFactory(email="outsider@example.com")


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def outsider_client(plain_user) -> Client:
    client = Client()
    client.force_login(plain_user)
    return client


@pytest.fixture
def htmx_headers() -> dict[str, str]:
    """Headers an htmx request carries (as Django test-client keyword arguments)."""
    return {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def brand(db):
    """A brand serving DE, AT and FR (ad accounts may only serve their brand's markets)."""
    brand = BrandFactory(name="Own Brand", slug="own-brand")
    brand.markets.set(Market.objects.filter(code__in=["DE", "AT", "FR"]))
    return brand


@pytest.fixture
def foreign_brand(db):
    return BrandFactory(name="Foreign Brand", slug="foreign-brand")


@pytest.fixture
def ad_account(brand):
    return AdAccountFactory(brand=brand, name="Main DE", external_id="act_5550001")


@pytest.fixture
def pixel(brand, ad_account):
    pixel = PixelFactory(
        brand=brand, name="Shop pixel", external_id="111222333444", with_token=True
    )
    pixel.ad_accounts.add(ad_account)
    return pixel


class ActivityLog:
    """The activity rows written since the last look, for "exactly one row per change"."""

    def __init__(self) -> None:
        self.mark()

    def mark(self) -> None:
        self._last_id = ActivityEntry.objects.aggregate(last=Max("id"))["last"] or 0

    def new(self) -> list[ActivityEntry]:
        rows = list(ActivityEntry.objects.filter(id__gt=self._last_id).order_by("id"))
        self.mark()
        return rows

    def one(self, verb: str, *, actor: Any, brand: Any = None) -> ActivityEntry:
        """Exactly one new row, with this verb, actor and brand (None: no brand)."""
        rows = self.new()
        assert [row.verb for row in rows] == [verb]
        [entry] = rows
        assert entry.actor_id == actor.pk
        assert entry.brand_id == (brand.pk if brand is not None else None)
        return entry

    def none(self) -> None:
        rows = self.new()
        assert rows == [], [row.verb for row in rows]


@pytest.fixture
def activity(db) -> ActivityLog:
    return ActivityLog()


class EnqueuedTasks:
    """Task messages the code under test published, recorded at the broker boundary
    instead of sent. ``run()`` executes them in this process through Celery's ``apply``:
    the same task code, base class (delivery count) and retry policy a worker runs. The
    path through a real broker and worker is covered by the ``worker`` tests."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple, dict]] = []

    def record(self, task: Any, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        self.calls.append((task, tuple(args or ()), dict(kwargs or {})))

    @property
    def names(self) -> list[str]:
        return [task.name for task, _, _ in self.calls]

    def run(self) -> list[Any]:
        """Run every recorded message once (in order) and forget them; the results."""
        calls, self.calls = self.calls, []
        results = []
        for task, args, kwargs in calls:
            # throw=False: with throw, Celery raises the first Retry instead of retrying.
            outcome = task.apply(args=args, kwargs=kwargs, throw=False)
            if outcome.failed():
                raise outcome.result
            results.append(outcome.result)
        return results


@pytest.fixture
def enqueued(monkeypatch) -> EnqueuedTasks:
    from koastops.celery import KoastopsTask

    recorder = EnqueuedTasks()

    def apply_async(self, args=None, kwargs=None, **options):
        recorder.record(self, args, kwargs, **options)

    monkeypatch.setattr(KoastopsTask, "apply_async", apply_async)
    return recorder
