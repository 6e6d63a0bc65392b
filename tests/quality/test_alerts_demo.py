"""Demo alerts: seed_demo gives every demo brand a few rules and some open alerts (opened
directly when no stats exist yet), and running it again doubles nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from koastops.catalog.models import Brand
from koastops.quality.models import Alert, AlertRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings, enqueued):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = True


def test_seed_demo_adds_rules_and_open_alerts_once():
    call_command("seed_demo", stdout=io.StringIO())
    brands = list(Brand.objects.all())
    assert brands
    for brand in brands:
        assert AlertRule.objects.filter(brand=brand).count() == 6
        assert Alert.objects.filter(brand=brand, status="open").exists()
    before = (AlertRule.objects.count(), Alert.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (AlertRule.objects.count(), Alert.objects.count()) == before
    assert all("demo data" in a.message for a in Alert.objects.filter(kind="silent"))
