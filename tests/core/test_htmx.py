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


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}])
def test_pages_that_answer_htmx_differently_vary_on_its_headers(admin_client, brand, headers):
    """Both answers carry the same Vary, so a cache never serves one for the other."""
    pages = [
        reverse("catalog:brand_list"),
        reverse("catalog:ad_account_list", args=[brand.slug]),
        reverse("members:list", args=[brand.slug]),
        reverse("activity:list", args=[brand.slug]),
        reverse("system:system"),
    ]
    for url in pages:
        response = admin_client.get(url, **headers)
        assert response.status_code == 200, url
        vary = {value.strip().lower() for value in response["Vary"].split(",")}
        assert {"hx-request", "hx-boosted", "hx-history-restore-request", "hx-target"} <= vary, url
