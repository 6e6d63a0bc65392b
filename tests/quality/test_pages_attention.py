"""Quality's "needs attention" items: per brand, counts of the pixels with problems and
with a broken connection, only the pixels the user may see, one query for any number of
brands, links to the filtered table showing exactly those pixels."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.dashboard import attention
from koastops.dashboard.selectors import start_brands
from koastops.quality.attention import quality_items
from tests.factories import AdminFactory, BrandFactory, UserFactory
from tests.quality.pages_support import client_for, member, narrowed_buyer, pixel_with_summary

pytestmark = pytest.mark.django_db

PROBLEM = [{"key": "low_emq", "message": "Purchase EMQ 4.0 below 6.0"}]


def items_for(user):
    found = start_brands(user=user)
    return {
        item.key: item for item in quality_items(user=user, brands=found.brands, roles=found.roles)
    }


def test_counts_and_links(brand):
    pixel_with_summary(brand, "Fine")
    pixel_with_summary(brand, "Low", problems=PROBLEM)
    pixel_with_summary(brand, "Broken", status="broken", problems=[])
    user = member(brand, Role.ANALYST)
    items = items_for(user)
    assert items["quality.connection_broken"].count == 1
    assert items["quality.connection_broken"].tone == "failing"
    assert items["quality.connection_broken"].href.endswith("?show=broken")
    assert items["quality.problems"].count == 2
    # the link shows exactly the counted pixels
    client = client_for(user)
    body = client.get(items["quality.problems"].href).content.decode()
    assert "Low" in body and "Broken" in body and "Fine" not in body


def test_narrowed_buyer_counts_only_their_pixels(brand):
    visible = pixel_with_summary(brand, "Mine")
    hidden = pixel_with_summary(brand, "NotMine", problems=PROBLEM)
    buyer = narrowed_buyer(brand, visible, hidden)
    assert items_for(buyer) == {}


def test_no_items_for_a_user_without_roles_or_problems(brand):
    pixel_with_summary(brand, "Fine")
    assert items_for(member(brand, Role.OPS_LEAD)) == {}
    assert items_for(UserFactory()) == {}


def test_admin_sees_every_brand(brand, foreign_brand):
    pixel_with_summary(foreign_brand, "Low", problems=PROBLEM)
    assert items_for(AdminFactory())["quality.problems"].count == 1


@pytest.mark.parametrize("n", [1, 20])
def test_one_query_for_any_number_of_brands(n):
    user = UserFactory()
    for index in range(n):
        brand = BrandFactory(slug=f"att-{index}")
        policies.grant_role(user, brand, Role.MEDIA_BUYER if index % 2 else Role.ANALYST)
        pixel_with_summary(brand, f"P{index}", problems=PROBLEM)
    found = start_brands(user=user)
    with CaptureQueriesContext(connection) as queries:
        items = list(quality_items(user=user, brands=found.brands, roles=found.roles))
    assert len(items) == n
    assert len(queries) == 1


def test_registered_and_on_the_start_page(brand):
    assert "quality.pixels" in attention.providers()
    pixel_with_summary(brand, "Low", problems=PROBLEM)
    body = client_for(member(brand, Role.ANALYST)).get("/").content.decode()
    assert "event-quality problems" in body
