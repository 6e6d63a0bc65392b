"""The demo CRM conversions (koastops.devtools.demo_crm)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Pixel
from koastops.devtools import demo_crm
from koastops.quality.models import Conversion
from koastops.quality.reconciliation import reconcile
from tests.factories import (
    AdAccountFactory,
    EventDefinitionFactory,
    EventMappingFactory,
    HourlyStatFactory,
    PixelFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_demo_crm_is_about_8_percent_below_the_platform_with_one_big_gap(brand):
    account = AdAccountFactory(brand=brand, time_zone="Europe/Berlin")
    pixel = PixelFactory(brand=brand)
    pixel.ad_accounts.add(account)
    purchase = EventDefinitionFactory(brand=brand, name="Purchase")
    EventMappingFactory(event=purchase, target="Purchase")
    analyst = UserFactory()
    policies.grant_role(analyst, brand, Role.ANALYST)
    today = timezone.now().astimezone(demo_crm.time_zone_of(account)).date()
    for days in range(1, 31):
        noon = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(12), tzinfo=dt.UTC)
        HourlyStatFactory(pixel=pixel, event="Purchase", hour=noon, count=100)

    created, existing = demo_crm.seed_crm(brand=brand, analyst=analyst)
    assert created > 2500 and existing == 0
    assert not Conversion.objects.filter(event="Lead").exists()  # not in this plan
    rows = reconcile(
        brand,
        ad_account=account,
        start=today - dt.timedelta(days=30),
        end=today - dt.timedelta(days=1),
        pixels=Pixel.objects.all(),
    )
    gaps = {(today - r.day).days: r.pct for r in rows}
    assert -45 <= gaps[12] <= -35  # the big gap (60 % of the platform)
    others = [pct for ago, pct in gaps.items() if ago != 12]
    assert all(-12 <= pct <= -4 for pct in others), others
    assert [r.flagged for r in rows].count(True) >= 1

    assert demo_crm.seed_crm(brand=brand, analyst=analyst) == (0, created)
