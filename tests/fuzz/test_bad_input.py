"""Inputs that once answered 500 (issue #6, section 8) answer 2xx or a 4xx naming the
field, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from koastops.api.schemas import MAX_ID

pytestmark = pytest.mark.django_db

ACTIVITY_API = "/brands/own-brand/activity"
HUGE = "1" * 25  # past bigint: PostgreSQL and SQLite refuse it as an integer


def error_locs(response) -> list[list]:
    assert response["Content-Type"].startswith("application/json"), response.content
    return [error["loc"] for error in response.json()["detail"]]


# --- the activity page, its export and the API: the last representable day ---------------


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-31"},
        {"to": "9999-12-31"},  # the page's old names, still read
        {"from": "9999-12-31"},
    ],
)
def test_activity_page_takes_the_last_representable_day(web, seeded, params):
    response = web.get(reverse("activity:list", args=[seeded.slug]), params)
    assert response.status_code == 200


def test_activity_page_to_the_last_day_lists_everything(web, seeded):
    url = reverse("activity:list", args=[seeded.slug])
    everything = web.get(url).context["page"].paginator.count
    assert everything > 0
    assert web.get(url, {"date_to": "9999-12-31"}).context["page"].paginator.count == everything


@pytest.mark.parametrize("chosen", ["csv", "json"])
def test_activity_export_takes_the_last_representable_day(web, seeded, chosen):
    response = web.get(
        reverse("activity:export", args=[seeded.slug]),
        {"format": chosen, "date_from": "0001-01-01", "date_to": "9999-12-31"},
    )
    assert response.status_code == 200
    assert b"brand.updated" in b"".join(response.streaming_content)


def test_api_activity_takes_the_last_representable_day(api):
    response = api.get(ACTIVITY_API, {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 2


@pytest.mark.parametrize("actor", ["1" * 23, "0", str(MAX_ID + 1), "x\x00"])
def test_activity_page_actor_out_of_range_names_the_field(web, seeded, actor):
    response = web.get(reverse("activity:list", args=[seeded.slug]), {"actor": actor})
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["actor"]


def test_activity_page_actor_with_a_superscript_digit_is_a_label_not_an_id(web, seeded):
    response = web.get(reverse("activity:list", args=[seeded.slug]), {"actor": "²"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


# --- API parameters and bodies -------------------------------------------------------------


def test_api_actor_with_a_superscript_digit_is_a_label_not_an_id(api):
    response = api.get(ACTIVITY_API, {"actor": "²"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


@pytest.mark.parametrize("actor", ["1" * 23, "0", str(MAX_ID + 1)])
def test_api_actor_id_out_of_range_names_the_field(api, actor):
    response = api.get(ACTIVITY_API, {"actor": actor})
    assert response.status_code == 422
    assert error_locs(response) == [["query", "actor"]]


def test_api_actor_id_at_the_top_of_the_range_finds_nobody(api):
    response = api.get(ACTIVITY_API, {"actor": str(MAX_ID)})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"verb": "not.a.verb"}, "verb"),
        ({"target_type": "a\x00b"}, "target_type"),
        ({"actor": "x\x00"}, "actor"),
        ({"date_to": "10000-01-01"}, "date_to"),
        ({"page": "-1"}, "page"),
        ({"page": HUGE + "x"}, "page"),
    ],
)
def test_api_activity_filters_that_cannot_be_right_name_the_field(api, params, field):
    response = api.get(ACTIVITY_API, params)
    assert response.status_code == 422
    assert error_locs(response) == [["query", field]]


@pytest.mark.parametrize(
    "path",
    [
        "/brands",
        "/brands/own-brand/ad-accounts",
        "/brands/own-brand/pixels",
        "/brands/own-brand/members",
    ],
)
def test_api_search_with_a_nul_names_the_field(api, path):
    response = api.get(path, {"q": "shop\x00"})
    assert response.status_code == 422
    assert error_locs(response) == [["query", "q"]]


def test_api_huge_page_number_is_an_empty_page(api):
    response = api.get("/brands", {"page": HUGE})
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("slug", ["own\x00brand", "x" * 500, "ünïcode"])
def test_api_slug_that_no_brand_can_have_is_not_found(api, slug):
    response = api.get(f"/brands/{slug}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("ad_account_id", [int(HUGE), 0, -1, MAX_ID + 1])
def test_api_member_grant_with_an_ad_account_id_out_of_range_names_it(api, ad_account_id):
    response = api.post(
        "/brands/own-brand/members",
        {"email": "ops-lead@example.com", "role": "media_buyer", "ad_account_ids": [ad_account_id]},
    )
    assert response.status_code == 422
    assert error_locs(response) == [["body", "ad_account_ids", 0]]


@pytest.mark.parametrize("email", ["a\x00@example.com", "x" * 300])
def test_api_member_grant_with_an_impossible_email_names_it(api, email):
    response = api.post("/brands/own-brand/members", {"email": email, "role": "analyst"})
    assert response.status_code == 422
    assert error_locs(response) == [["body", "email"]]


@pytest.mark.parametrize("user_id", [HUGE, "0", str(MAX_ID + 1)])
def test_api_member_revoke_with_a_path_id_out_of_range_names_it(api, user_id):
    response = api.delete(f"/brands/own-brand/members/{user_id}")
    assert response.status_code == 422
    assert error_locs(response) == [["path", "user_id"]]


@pytest.mark.parametrize("body", ["{not json", '{"email": "\\ud800@x.org", "role": "analyst"}'])
def test_api_unparsable_or_unencodable_body_is_a_4xx_in_json(api, body):
    response = api.client.post(
        "/api/v1/brands/own-brand/members",
        body,
        content_type="application/json",
        **api._headers(),
    )
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")


def test_api_unexpected_error_answers_json_500_and_is_logged(api, monkeypatch, caplog):
    from koastops.api.routers import brands

    def explode(**kwargs):
        raise RuntimeError("boom (simulated)")

    monkeypatch.setattr(brands.selectors, "brand_list", explode)
    with caplog.at_level(logging.ERROR, logger="koastops.api.api"):
        response = api.get("/brands")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Internal server error; it has been logged."}
    assert "boom" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name == "koastops.api.api"]
    assert record.exc_info and "boom (simulated)" in str(record.exc_info[1])


# --- HTML forms --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, "²", "-1", "0"])
def test_member_role_form_with_an_impossible_ad_account_names_the_field(
    web, seeded, ops_lead, value
):
    response = web.post(
        reverse("members:role", args=[seeded.slug, ops_lead.pk]),
        {"role": "media_buyer", "ad_accounts": [value]},
    )
    assert response.status_code == 422
    assert "ad_accounts" in response.context["rows"][0].errors or any(
        "ad_accounts" in (row.errors or {}) for row in response.context["rows"]
    )


@pytest.mark.parametrize("method", ["get", "delete"])
def test_api_unknown_path_is_a_json_404(api, method):
    response = getattr(api.client, method)("/api/v1/brands/own-brand/members/a/b", **api._headers())
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("catalog:ad_account_edit", "get"),
        ("catalog:ad_account_archive", "post"),
        ("catalog:pixel_detail", "get"),
        ("catalog:pixel_edit", "get"),
        ("members:role", "post"),
        ("members:revoke", "post"),
    ],
)
def test_page_path_id_past_bigint_is_not_found(web, seeded, name, method):
    response = getattr(web, method)(reverse(name, args=[seeded.slug, int(HUGE)]))
    assert response.status_code == 404


def test_system_ping_past_bigint_is_not_found(admin_client):
    response = admin_client.get(reverse("system:ping_status", args=[int(HUGE)]))
    assert response.status_code == 404


def test_token_revoke_past_bigint_is_not_found(web):
    response = web.post(reverse("profile:token_revoke", args=[int(HUGE)]))
    assert response.status_code == 404


@pytest.mark.parametrize("value", [HUGE, "²", "-1"])
def test_pixel_form_with_an_impossible_ad_account_names_the_field(web, seeded, value):
    response = web.post(
        reverse("catalog:pixel_create", args=[seeded.slug]),
        {"name": "x", "platform": "meta", "external_id": "123456", "ad_accounts": [value]},
    )
    assert response.status_code == 422
    assert "ad_accounts" in response.context["form"].errors
