"""Signed-out htmx requests: the browser goes to the sign-in page (HX-Redirect) and comes
back to the page it was on; plain requests keep Django's 302."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from koastops.core.login import LOST_CHANGE_MESSAGE
from koastops.core.session import SIGNED_IN_AT
from tests.factories import DEFAULT_PASSWORD, BrandFactory, UserFactory

pytestmark = pytest.mark.django_db

BRANDS = "/brands/"


def members_url(slug: str = "nordwind") -> str:
    return reverse("members:list", args=[slug])


def next_of(url: str) -> str | None:
    parts = urlsplit(url)
    assert parts.path == reverse("login")
    values = parse_qs(parts.query).get("next")
    return values[0] if values else None


def htmx(current_url: str | None = None) -> dict[str, str]:
    headers = {"HTTP_HX_REQUEST": "true"}
    if current_url is not None:
        headers["HTTP_HX_CURRENT_URL"] = current_url
    return headers


def test_plain_request_keeps_the_302_to_sign_in():
    response = Client().get(f"{BRANDS}?q=nord")

    assert response.status_code == 302
    assert next_of(response["Location"]) == f"{BRANDS}?q=nord"
    assert "HX-Redirect" not in response


def test_htmx_search_redirects_the_browser_back_to_the_page_it_is_on():
    brand = BrandFactory(slug="nordwind")
    page = f"http://testserver{members_url(brand.slug)}?status=active"

    response = Client().get(f"{members_url(brand.slug)}?q=lena", **htmx(page))

    assert response.status_code == 200  # htmx acts on HX-Redirect, never swaps this body
    assert response.content == b""
    assert next_of(response["HX-Redirect"]) == f"{members_url(brand.slug)}?status=active"


def test_a_foreign_current_url_is_ignored():
    response = Client().get(f"{BRANDS}?q=x", **htmx("https://evil.example/phish?x=1"))

    # Falls back to the URL of the GET itself, never the other host.
    assert next_of(response["HX-Redirect"]) == f"{BRANDS}?q=x"


@pytest.mark.parametrize(
    "current_url", ["//evil.example/x", "javascript:alert(1)", "http://testserver.evil.example/"]
)
def test_a_hostile_current_url_never_becomes_next(current_url):
    response = Client().get(BRANDS, **htmx(current_url))

    assert next_of(response["HX-Redirect"]) == BRANDS


def test_htmx_write_comes_back_to_the_page_and_says_the_change_was_lost():
    brand = BrandFactory(slug="nordwind")
    client = Client()
    page = f"http://testserver{members_url(brand.slug)}"

    response = client.post(reverse("members:invite", args=[brand.slug]), {}, **htmx(page))

    assert next_of(response["HX-Redirect"]) == members_url(brand.slug)
    login_page = client.get(response["HX-Redirect"])
    assert LOST_CHANGE_MESSAGE in login_page.content.decode()


def test_htmx_write_without_current_url_goes_to_plain_sign_in():
    brand = BrandFactory(slug="nordwind")

    response = Client().post(reverse("members:invite", args=[brand.slug]), {}, **htmx())

    # The URL of a POST is no page to come back to.
    assert response["HX-Redirect"] == reverse("login")


def test_sign_in_returns_to_next():
    UserFactory(email="back@example.com")
    client = Client()
    target = client.get(BRANDS, **htmx(f"http://testserver{BRANDS}?q=nord"))["HX-Redirect"]

    response = client.post(target, {"username": "back@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == f"{BRANDS}?q=nord"


def test_the_absolute_timeout_sends_htmx_back_to_the_current_page(admin_user):
    client = Client()
    client.force_login(admin_user)
    session = client.session
    session[SIGNED_IN_AT] = int(time.time() - settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() - 1)
    session.save()

    response = client.get(f"{BRANDS}?q=a", **htmx(f"http://testserver{BRANDS}?status=all"))

    assert next_of(response["HX-Redirect"]) == f"{BRANDS}?status=all"
    assert "_auth_user_id" not in client.session
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "Your session has expired. Please sign in again."
    ]
