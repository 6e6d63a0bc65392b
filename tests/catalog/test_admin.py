"""The catalog's admin pages render, and never show a pixel's token or its ciphertext."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import market

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["market", "brand", "adaccount", "pixel"])
def test_changelists_render(admin_client, pixel, model):
    response = admin_client.get(reverse(f"admin:catalog_{model}_changelist"), {"q": "a"})
    assert response.status_code == 200


def test_market_admin_is_reference_data(admin_client):
    assert admin_client.get(reverse("admin:catalog_market_add")).status_code == 403
    de = market("DE")
    response = admin_client.get(reverse("admin:catalog_market_change", args=[de.pk]))
    assert response.status_code == 200


def test_brand_and_ad_account_change_pages_render(admin_client, brand, ad_account):
    assert (
        admin_client.get(reverse("admin:catalog_brand_change", args=[brand.pk])).status_code == 200
    )
    response = admin_client.get(reverse("admin:catalog_adaccount_change", args=[ad_account.pk]))
    assert response.status_code == 200


def test_pixel_admin_never_shows_the_token(admin_client, pixel):
    for response in (
        admin_client.get(reverse("admin:catalog_pixel_changelist")),
        admin_client.get(reverse("admin:catalog_pixel_change", args=[pixel.pk])),
    ):
        content = response.content.decode()
        assert response.status_code == 200
        assert "EAAB-test-token" not in content
        assert pixel.access_token_encrypted not in content
        assert "access_token_encrypted" not in content
