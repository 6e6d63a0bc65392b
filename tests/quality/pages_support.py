"""Helpers of the quality pages' tests: members by role, a narrowed media buyer, pixels
with a connection summary set straight through the factories."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.factories import AdAccountFactory, PixelConnectionFactory, PixelFactory, UserFactory


def member(brand: Any, role: Role, email: str | None = None) -> Any:
    user = UserFactory(email=email or f"{role.value}-{brand.slug}@example.com")
    policies.grant_role(user, brand, role)
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pixel_with_summary(brand: Any, name: str, **summary: Any) -> Any:
    """An active pixel and its connection with plausible summary figures (override any)."""
    pixel = PixelFactory(brand=brand, name=name)
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": "ok",
        "last_fired_at": now,
        "events_per_day": 1200,
        "server_share": Decimal("45.50"),
        "dedup_coverage": Decimal("88.00"),
        "key_emq": {"Purchase": "7.4", "Lead": "6.1"},
        "min_key_emq": Decimal("6.10"),
        "freshness": "real_time",
        "problems": [],
        "counts_pulled_at": now,
        "quality_pulled_at": now,
    }
    fields.update(summary)
    PixelConnectionFactory(pixel=pixel, **fields)
    return pixel


def narrowed_buyer(brand: Any, visible_pixel: Any, hidden_pixel: Any) -> Any:
    """A media buyer narrowed to one ad account: ``visible_pixel`` is linked to it,
    ``hidden_pixel`` only to another account (so the buyer may not see it)."""
    mine, other = AdAccountFactory(brand=brand), AdAccountFactory(brand=brand)
    visible_pixel.ad_accounts.add(mine)
    hidden_pixel.ad_accounts.add(other)
    buyer = member(brand, Role.MEDIA_BUYER, f"narrowed-{brand.slug}@example.com")
    policies.set_ad_account_narrowing(buyer, brand, [mine])
    return buyer
