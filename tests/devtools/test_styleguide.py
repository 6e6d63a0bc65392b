"""The style guide (/dev/styleguide/, DEBUG only): every component renders, in every state."""

from __future__ import annotations

import importlib
import re

import pytest
from django.urls import NoReverseMatch, clear_url_caches, reverse

import koastops.urls


@pytest.fixture
def debug_urls(settings):
    """The URLconf as it is with DEBUG on (it decides at import time)."""
    settings.DEBUG = True
    importlib.reload(koastops.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(koastops.urls)
    clear_url_caches()


def test_no_style_guide_without_debug(admin_client):
    with pytest.raises(NoReverseMatch):
        reverse("devtools:styleguide")
    assert admin_client.get("/dev/styleguide/").status_code == 404


def test_the_style_guide_shows_every_component_in_every_state(debug_urls, outsider_client):
    response = outsider_client.get(reverse("devtools:styleguide"))

    assert response.status_code == 200
    html = response.content.decode()
    for tone in ("ok", "warning", "failing", "unknown", "archived"):
        assert f'class="badge badge-{tone}"' in html
        assert f"stat-card-{tone}" in html or tone == "archived"
    assert 'class="badge badge-active"' in html  # a status maps to its tone by CSS class
    assert html.count('class="empty-state"') == 2
    assert 'class="btn btn-primary" href="#sg-empty"' in html  # with and without action
    assert "data-error-summary" in html
    assert 'aria-invalid="true"' in html
    assert 'href="#id_email">Email: Enter a valid email address.</a>' in html
    assert 'data-confirm-tone="danger"' in html
    for level in ("success", "info", "warning", "error"):
        assert f'data-toast-level="{level}"' in html
    assert html.count('<details class="row-menu">') == 25
    assert 'class="num"' in html
    assert 'rel="next"' in html and "data-focus-after-swap" in html
    assert 'class="readonly-note"' in html
    assert '<dialog id="confirm-dialog"' in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers (CSP)


def test_paging_the_sample_table_answers_the_fragment(debug_urls, outsider_client):
    response = outsider_client.get(
        reverse("devtools:styleguide") + "?page=2",
        headers={"HX-Request": "true", "HX-Target": "sg-table"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="sg-table"')
    assert html.count('<details class="row-menu">') == 5


def test_signed_out_visitors_go_to_sign_in(debug_urls, client):
    response = client.get(reverse("devtools:styleguide"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
