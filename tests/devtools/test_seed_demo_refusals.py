"""``seed_demo`` refusing, or failing half-way: nothing is written (on an empty database,
so these are apart from test_seed_demo.py's shared seeded data)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError

from koastops.catalog import services as catalog_services
from koastops.catalog.models import Brand
from tests.devtools.test_seed_demo import counts, seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_refuses_without_force_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        seed()

    assert counts() == {"brands": 0, "ad_accounts": 0, "pixels": 0, "users": 0}


def test_runs_without_force_when_debug_is_on(settings):
    settings.DEBUG = True

    seed()

    assert Brand.objects.count() == 3


def test_a_validation_failure_writes_nothing(monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"external_id": "refused by the test"})

    monkeypatch.setattr(catalog_services, "pixel_create", refuse)

    with pytest.raises(CommandError, match="nothing was written"):
        seed("--force")

    assert counts() == {"brands": 0, "ad_accounts": 0, "pixels": 0, "users": 0}


def test_a_refused_event_writes_nothing_at_all(monkeypatch):
    from koastops.activity.models import ActivityEntry
    from koastops.devtools import demo_plan
    from koastops.taxonomy.models import EventDefinition, NamingRule

    def refuse(**kwargs):
        raise ValidationError({"name": "refused by the test"})

    monkeypatch.setattr(demo_plan.services, "event_create", refuse)

    with pytest.raises(CommandError, match="nothing was written"):
        seed("--force")

    assert counts() == {"brands": 0, "ad_accounts": 0, "pixels": 0, "users": 0}
    assert not EventDefinition.objects.exists()
    assert not NamingRule.objects.exists()
    assert not ActivityEntry.objects.exists()
