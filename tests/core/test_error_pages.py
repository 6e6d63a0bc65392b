"""The app's own 404 / 403 / 500 pages and the CSRF failure answer, with DEBUG on (the
quickstart) as in production: useful to a user, no URL patterns, tracebacks or reason
codes; htmx requests get a toast in HX-Trigger instead of a page."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from koastops.core import errors
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db

BOOM = override_settings(ROOT_URLCONF="tests.core.urls_boom")


def toast(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


@pytest.fixture
def outsider_client(plain_user) -> Client:
    client = Client()
    client.force_login(plain_user)
    return client


@pytest.mark.parametrize("debug", [True, False])
def test_a_brand_the_user_cannot_see_answers_the_app_404_page(outsider_client, debug):
    brand = BrandFactory(slug="lumen")

    with override_settings(DEBUG=debug):
        response = outsider_client.get(reverse("catalog:brand_detail", args=[brand.slug]))

    assert response.status_code == 404
    body = response.content.decode()
    assert "There is nothing at this address" in body
    assert reverse("catalog:brand_list") in body
    assert "URLconf" not in body and "No such brand" not in body


@override_settings(DEBUG=True)
def test_an_unknown_address_answers_the_app_404_page_with_debug(outsider_client):
    response = outsider_client.get("/no/such/page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "There is nothing at this address" in body
    assert "URLconf" not in body and "admin/" not in body


@override_settings(DEBUG=True, DEBUG_ERROR_PAGES=True)
def test_a_developer_can_ask_for_djangos_technical_pages(outsider_client):
    brand = BrandFactory(slug="lumen")

    response = outsider_client.get(reverse("catalog:brand_detail", args=[brand.slug]))

    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


@override_settings(DEBUG=True)
def test_a_404_on_htmx_is_a_toast(outsider_client):
    brand = BrandFactory(slug="lumen")

    response = outsider_client.get(
        reverse("catalog:brand_detail", args=[brand.slug]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 404
    assert toast(response) == {"message": errors.NOT_FOUND_TOAST, "level": "error"}


@pytest.mark.parametrize("debug", [True, False])
def test_a_refused_action_answers_the_app_403_page_with_its_reason(outsider_client, debug):
    with override_settings(DEBUG=debug):
        response = outsider_client.get(reverse("catalog:brand_create"))
        htmx = outsider_client.post(reverse("catalog:brand_create"), HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    body = response.content.decode()
    assert "Not allowed" in body and "Only admins can create brands." in body
    assert htmx.status_code == 403
    assert toast(htmx) == {"message": "Only admins can create brands.", "level": "error"}


@BOOM
@pytest.mark.parametrize("debug", [True, False])
def test_an_exception_answers_the_app_500_page_and_logs_the_traceback(debug, caplog):
    client = Client(raise_request_exception=False)

    with override_settings(DEBUG=debug), caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/boom/", HTTP_X_REQUEST_ID="req-boom-42")

    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "req-boom-42" in body  # the request id, to match a report to the log
    assert "RuntimeError" not in body and "secret detail" not in body
    assert "Traceback" not in body and "SECRET_KEY" not in body
    # Logged once, with the traceback.
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "secret detail 1234" in str(records[0].exc_info[1])


@BOOM
@override_settings(DEBUG=True)
def test_an_exception_on_htmx_is_a_500_with_a_toast():
    client = Client(raise_request_exception=False)

    response = client.get("/boom/", HTTP_HX_REQUEST="true", HTTP_X_REQUEST_ID="req-7")

    assert response.status_code == 500
    assert toast(response)["level"] == "error"
    assert "req-7" in toast(response)["message"]


@BOOM
@override_settings(DEBUG=True, DEBUG_ERROR_PAGES=True)
def test_the_technical_500_page_is_there_for_developers_who_ask():
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    assert "secret detail 1234" in response.content.decode()


@BOOM
@pytest.mark.parametrize("debug", [True, False])
def test_bad_input_is_a_400_not_a_500(debug):
    with override_settings(DEBUG=debug):
        response = Client(raise_request_exception=False).get("/bad/")

    assert response.status_code == 400
    assert "a tampered value" not in response.content.decode()


def test_the_500_page_renders_without_a_request_context(rf):
    request = rf.get("/")
    request.request_id = "abc123"

    response = errors.server_error(request)  # no user, no session, no middleware ran

    assert response.status_code == 500
    assert "abc123" in response.content.decode()


# --- CSRF ---------------------------------------------------------------------------


@pytest.fixture
def csrf_client(admin_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def test_a_csrf_failure_answers_a_friendly_page(csrf_client):
    response = csrf_client.post(reverse("catalog:brand_create"), {"name": "X"})

    assert response.status_code == 403
    body = response.content.decode()
    assert "This form expired" in body
    assert "Go back, reload the page and try again." in body
    assert "CSRF" not in body and "cookie" not in body.lower()
    assert "HX-Trigger" not in response


def test_a_csrf_failure_on_htmx_is_a_toast(csrf_client):
    response = csrf_client.post(
        reverse("catalog:brand_create"), {"name": "X"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 403
    assert toast(response) == {
        "message": "Your session changed — reload the page to continue.",
        "level": "error",
    }
    assert response.content == b""


def test_a_valid_token_still_passes(csrf_client):
    csrf_client.get(reverse("catalog:brand_create"))  # sets the CSRF cookie
    token = csrf_client.cookies["csrftoken"].value

    response = csrf_client.post(
        reverse("catalog:brand_create"), {"name": ""}, HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 422  # the form again, with its errors: not refused
