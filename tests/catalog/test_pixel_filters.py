"""The pixel list's facets (``?token=``, ``?capi=``, ``?fired=``) that the overview's stat
cards and the attention panel link to: exactly those pixels, shown as removable chips,
kept while paging, and what the card counts is what the list shows."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import CatalogStatus
from tests.factories import AdAccountFactory, PixelFactory, UserFactory

pytestmark = pytest.mark.django_db

CARDS = {  # stat -> the filtered list its card links to
    "active_ad_accounts": ("catalog:ad_account_list", ""),
    "active_pixels": ("catalog:pixel_list", ""),
    "pixels_with_capi": ("catalog:pixel_list", "capi=on"),
    "pixels_without_capi": ("catalog:pixel_list", "capi=off"),
    "pixels_without_token": ("catalog:pixel_list", "token=missing"),
    "pixels_never_fired": ("catalog:pixel_list", "fired=never"),
}


@pytest.fixture
def pixels(brand):
    """One pixel per combination of token / Conversions API / fired, plus an archived one
    without a token (never counted by the default "active" lists and cards)."""
    fired = timezone.now()
    rows = {}
    for token in (True, False):
        for capi in (True, False):
            for last_fired_at in (fired, None):
                name = f"px-{'tok' if token else 'notok'}-{'capi' if capi else 'nocapi'}-{'fired' if last_fired_at else 'never'}"
                rows[name] = PixelFactory(
                    brand=brand,
                    name=name,
                    with_token=token,
                    capi_enabled=capi,
                    last_fired_at=last_fired_at,
                )
    PixelFactory(brand=brand, name="px-archived", status=CatalogStatus.ARCHIVED)
    return rows


def _names(response) -> set[str]:
    return {pixel.name for pixel in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("token=missing", lambda name: "-notok-" in name),
        ("token=set", lambda name: "-tok-" in name),
        ("capi=on", lambda name: "-capi-" in name),
        ("capi=off", lambda name: "-nocapi-" in name),
        ("fired=never", lambda name: name.endswith("-never")),
        ("fired=ever", lambda name: name.endswith("-fired")),
        ("token=missing&capi=off", lambda name: "-notok-nocapi-" in name),
    ],
)
def test_each_facet_lists_exactly_its_pixels(admin_client, brand, pixels, query, expected):
    response = admin_client.get(reverse("catalog:pixel_list", args=[brand.slug]) + "?" + query)
    assert response.status_code == 200
    assert _names(response) == {name for name in pixels if expected(name)}


@pytest.mark.parametrize(
    "query",
    ["token=nope", "capi=1", "fired=", "token=missing%00", "capi=on&capi=", "token=" + "x" * 5000],
)
def test_a_bad_facet_value_falls_back_to_no_filter(admin_client, brand, pixels, query):
    response = admin_client.get(reverse("catalog:pixel_list", args=[brand.slug]) + "?" + query)
    assert response.status_code == 200
    assert _names(response) == set(pixels)
    assert response.context["chips"] == []


def test_a_bad_facet_keeps_the_search_and_a_good_one(admin_client, brand, pixels):
    url = reverse("catalog:pixel_list", args=[brand.slug])
    response = admin_client.get(url, {"q": "-nocapi-", "token": "missing", "capi": "bogus"})
    assert _names(response) == {"px-notok-nocapi-fired", "px-notok-nocapi-never"}


def test_a_facet_shows_as_a_removable_chip_and_stays_in_the_form(admin_client, brand, pixels):
    url = reverse("catalog:pixel_list", args=[brand.slug])
    response = admin_client.get(url, {"token": "missing", "q": "px", "page": "1"})
    html = response.content.decode()
    chip = re.search(r'<a class="filter-chip" href="([^"]*)"[^>]*>(.*?)</a>', html, re.DOTALL)
    assert chip, "no chip"
    assert "Without access token" in chip.group(2)
    assert '<path d="m6 6 12 12"' in chip.group(2)  # the "x" icon
    assert 'aria-label="Remove the filter Without access token"' in html
    # Removing the chip keeps the search and drops only the facet (and the page).
    assert chip.group(1) == f"{url}?q=px"
    # The search form keeps the facet (typing a search does not drop it).
    assert '<input type="hidden" name="token" value="missing">' in html
    assert admin_client.get(chip.group(1)).context["chips"] == []


def test_the_facet_is_kept_in_the_pagination_links(admin_client, brand, settings):
    settings.KOASTOPS_PAGE_SIZE = 2
    PixelFactory.create_batch(5, brand=brand)  # no token
    PixelFactory(brand=brand, with_token=True)
    url = reverse("catalog:pixel_list", args=[brand.slug])
    response = admin_client.get(url, {"token": "missing"})
    html = response.content.decode()
    assert "Page 1 of 3" in html
    assert 'href="' + url + '?token=missing&amp;page=2"' in html
    page2 = admin_client.get(url, {"token": "missing", "page": "2"})
    assert len(_names(page2)) == 2 and page2.context["page"].paginator.count == 5


def test_an_empty_filtered_list_says_so_and_offers_every_pixel(admin_client, brand, pixel):
    response = admin_client.get(
        reverse("catalog:pixel_list", args=[brand.slug]), {"token": "missing"}
    )
    html = response.content.decode()
    assert "No active pixels match the filter “Without access token”" in html
    assert "Show every pixel" in html


def _card_counts_match_the_lists(client: Client, brand) -> dict[str, int]:
    stats = client.get(reverse("catalog:brand_detail", args=[brand.slug])).context["stats"]
    for stat, (name, query) in CARDS.items():
        url = reverse(name, args=[brand.slug]) + (f"?{query}" if query else "")
        listed = client.get(url).context["page"].paginator.count
        assert stats[stat] == listed, (stat, url)
    return stats


def test_the_counts_on_the_cards_are_the_rows_of_their_lists_for_an_admin(
    admin_client, brand, pixels
):
    AdAccountFactory.create_batch(2, brand=brand)
    stats = _card_counts_match_the_lists(admin_client, brand)
    assert stats["pixels_without_token"] == 4
    assert stats["pixels_never_fired"] == 4


def test_the_counts_on_the_cards_are_the_rows_of_their_lists_for_a_narrowed_buyer(brand, pixels):
    chosen, hidden = AdAccountFactory.create_batch(2, brand=brand)
    for name, pixel in pixels.items():
        # Pixels with a token are linked to the buyer's account, half of the others to an
        # account the buyer may not use (hidden), the rest to none (visible).
        if "-tok-" in name:
            pixel.ad_accounts.set([chosen])
        elif "-capi-" in name:
            pixel.ad_accounts.set([hidden])
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, [chosen])
    client = Client()
    client.force_login(buyer)
    stats = _card_counts_match_the_lists(client, brand)
    assert stats == {
        "active_ad_accounts": 1,
        "active_pixels": 6,
        "pixels_with_capi": 2,
        "pixels_without_capi": 4,
        "pixels_without_token": 2,
        "pixels_never_fired": 3,
    }


def test_the_overview_cards_link_to_the_filtered_lists(admin_client, brand, pixels):
    html = admin_client.get(reverse("catalog:brand_detail", args=[brand.slug])).content.decode()
    for name, query in CARDS.values():
        url = reverse(name, args=[brand.slug]) + (f"?{query}" if query else "")
        assert f'href="{url}"' in html, url
