"""render_page: the partial only when htmx swaps a region; the whole page otherwise."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    ("headers", "whole_page"),
    [
        ({}, True),
        ({"HTTP_HX_REQUEST": "true"}, False),
        ({"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}, True),
        ({"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}, True),
        ({"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "main"}, True),  # HX-Location after a save
    ],
)
def test_partial_only_for_region_swaps(admin_client, brand, headers, whole_page):
    pages = [
        reverse("catalog:brand_list"),
        reverse("members:list", args=[brand.slug]),
        reverse("activity:list", args=[brand.slug]),
        reverse("system:system"),
    ]
    for url in pages:
        html = admin_client.get(url, **headers).content.decode()
        assert ("<!doctype html>" in html.lower()) is whole_page, url
