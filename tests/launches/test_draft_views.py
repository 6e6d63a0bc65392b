"""The draft pages: the list, the form (new / edit) with errors by field, the structure
rows, the live name check, duplicate and cancel — through the pages, on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import inputs
from koastops.launches.models import Launch
from tests.factories import (
    AdAccountFactory,
    LaunchFactory,
    NamingRuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _people(launch):
    buyer, lead = launch.created_by, UserFactory(email="lead@example.com")
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    policies.grant_role(lead, launch.brand, Role.OPS_LEAD)
    return buyer, lead


def _post_data(data: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    """``inputs.as_data`` as the form posts it (row indices deliberately not contiguous)."""
    post: dict[str, Any] = {
        key: ("" if data.get(key) is None else str(data[key]))
        for key in (
            "ad_account",
            "pixel",
            "objective",
            "optimization_event",
            "budget_type",
            "budget_amount",
            "campaign_name",
        )
    }
    post["start_at"] = (data.get("start_at") or "")[:16]
    post["end_at"] = (data.get("end_at") or "")[:16]
    post["markets"] = data["markets"]
    for i, ad_set in enumerate(data["ad_sets"]):
        prefix = f"ad_sets-{i * 3 + 1}"
        for field in ("name", "market", "audience_note"):
            post[f"{prefix}-{field}"] = ad_set[field]
        for j, ad in enumerate(ad_set["ads"]):
            for field, value in ad.items():
                post[f"{prefix}-ads-{j * 2 + 5}-{field}"] = value
    if version is not None:
        post["version"] = str(version)
    return post


def _data(launch, **changes):
    data = inputs.as_data(Launch.objects.get(pk=launch.pk))
    data.update(changes)
    return data


def _url(name: str, launch=None, **kwargs) -> str:
    if launch is not None:
        kwargs = {"slug": launch.brand.slug, "pk": launch.pk, **kwargs}
    return reverse(f"launches:{name}", kwargs=kwargs)


# --- create / edit ----------------------------------------------------------------------------


def test_create_through_the_form_redirects_to_the_new_launch(activity):
    source = LaunchFactory()
    buyer, _ = _people(source)
    client = _client(buyer)
    page = client.get(_url("new", slug=source.brand.slug))
    assert page.status_code == 200
    assert source.ad_account.name in page.text and 'name="ad_sets-0-name"' in page.text
    post = _post_data(_data(source, campaign_name="de_conv_202701_fresh"))
    response = client.post(_url("new", slug=source.brand.slug), post)
    created = Launch.objects.exclude(pk=source.pk).get()
    assert response.status_code == 302
    assert response["Location"] == _url("detail", created)
    assert created.campaign_name == "de_conv_202701_fresh" and created.state == "draft"
    assert created.created_by == buyer
    assert [s.name for s in created.ad_sets.all()] == ["Ad set DE"]
    assert created.ads.get().landing_url == "https://shop.example/landing"
    assert activity.new()[-1].verb == "launch.created"


def test_errors_show_by_field_top_level_and_nested_and_keep_the_input():
    source = LaunchFactory()
    buyer, _ = _people(source)
    data = _data(source, budget_amount="-3")
    data["ad_sets"][0]["ads"].append({"name": "Second ad", "landing_url": "not a url"})
    post = _post_data(data)
    post["campaign_name"] = "kept_campaign_name"
    response = _client(buyer).post(_url("new", slug=source.brand.slug), post)
    assert response.status_code == 422
    assert Launch.objects.count() == 1
    text = response.text
    # top level: next to the input, aria-invalid, in the summary
    assert re.search(r'name="budget_amount"[^>]*aria-invalid="true"', text)
    assert 'id="id_budget_amount_error"' in text and "Enter an amount above zero." in text
    # nested: the second ad's landing URL, renumbered 0.. as the service's path numbers it
    assert re.search(
        r'id="id_ad_sets-0-ads-1-landing_url" name="ad_sets-0-ads-1-landing_url" '
        r'value="not a url"[^>]*aria-invalid="true"',
        text,
    )
    assert 'id="id_ad_sets-0-ads-1-landing_url_error"' in text
    assert 'href="#id_ad_sets-0-ads-1-landing_url"' in text  # the summary links it
    assert 'value="kept_campaign_name"' in text and 'value="Second ad"' in text


def test_missing_structure_is_reported_on_the_ad_sets():
    source = LaunchFactory()
    buyer, _ = _people(source)
    data = _data(source, ad_sets=[])
    response = _client(buyer).post(_url("new", slug=source.brand.slug), _post_data(data))
    assert response.status_code == 422
    assert "Add at least one ad set." in response.text


def test_narrowed_buyer_sees_only_their_accounts_and_cannot_post_another():
    source = LaunchFactory()
    buyer, _ = _people(source)
    other = AdAccountFactory(brand=source.brand, name="Hidden Account XYZ")
    policies.set_ad_account_narrowing(buyer, source.brand, [source.ad_account])
    client = _client(buyer)
    page = client.get(_url("new", slug=source.brand.slug))
    assert source.ad_account.name in page.text and "Hidden Account XYZ" not in page.text
    post = _post_data(_data(source, ad_account=other.pk))
    response = client.post(_url("new", slug=source.brand.slug), post)
    assert response.status_code == 422
    assert re.search(r'name="ad_account"[^>]*aria-invalid="true"', response.text)
    assert "Choose one of the brand&#x27;s active ad accounts you may use." in response.text
    assert "Hidden Account XYZ" not in response.text
    assert Launch.objects.count() == 1


def test_buyer_cannot_edit_another_buyers_launch_but_an_ops_lead_can():
    launch = LaunchFactory()
    owner, lead = _people(launch)
    other = UserFactory()
    policies.grant_role(other, launch.brand, Role.MEDIA_BUYER)
    assert _client(other).get(_url("edit", launch)).status_code == 403
    post = _post_data(_data(launch, campaign_name="changed by other"), version=1)
    assert _client(other).post(_url("edit", launch), post).status_code == 403
    page = _client(lead).get(_url("edit", launch))
    assert page.status_code == 200 and 'name="version" value="1"' in page.text
    post = _post_data(_data(launch, campaign_name="changed by the lead"), version=1)
    response = _client(lead).post(_url("edit", launch), post)
    assert response.status_code == 302 and response["Location"] == _url("detail", launch)
    launch.refresh_from_db()
    assert launch.campaign_name == "changed by the lead" and launch.version == 2
    assert _client(owner).get(_url("edit", launch)).status_code == 200


def test_another_brands_launch_is_404():
    launch = LaunchFactory()
    _, lead = _people(launch)
    foreign = LaunchFactory()
    response = _client(lead).get(
        reverse("launches:edit", kwargs={"slug": launch.brand.slug, "pk": foreign.pk})
    )
    assert response.status_code == 404


def test_stale_version_keeps_the_input_and_says_so():
    launch = LaunchFactory()
    buyer, lead = _people(launch)
    _client(lead).post(
        _url("edit", launch), _post_data(_data(launch, campaign_name="lead was first"), version=1)
    )
    post = _post_data(_data(launch, campaign_name="my late change"), version=1)
    response = _client(buyer).post(_url("edit", launch), post)
    assert response.status_code == 200
    assert "someone else changed this launch" in response.text
    assert 'value="my late change"' in response.text
    assert 'name="version" value="2"' in response.text  # saving again replaces theirs
    launch.refresh_from_db()
    assert launch.campaign_name == "lead was first"
    htmx = _client(buyer).post(
        _url("edit", launch), post | {"version": "1"}, HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 409 and 'id="launch-form"' in htmx.text


def test_editing_an_approved_launch_returns_it_to_draft():
    launch = LaunchFactory(state="approved")
    Launch.objects.filter(pk=launch.pk).update(approved_hash=launch.content_hash)
    buyer, _ = _people(launch)
    page = _client(buyer).get(_url("edit", launch))
    assert "voids its approval" in page.text
    post = _post_data(_data(launch, budget_amount="300.00"), version=1)
    response = _client(buyer).post(_url("edit", launch), post)
    assert response.status_code == 302
    launch.refresh_from_db()
    assert launch.state == "draft" and launch.approved_hash == ""


def test_editing_while_checking_shows_why_not():
    launch = LaunchFactory(state="checking")
    buyer, _ = _people(launch)
    page = _client(buyer).get(_url("edit", launch))
    assert page.status_code == 200 and "The checks are running" in page.text
    post = _post_data(_data(launch, campaign_name="x"), version=1)
    response = _client(buyer).post(_url("edit", launch), post)
    assert response.status_code == 422 and "The checks are running" in response.text


def test_htmx_post_with_errors_answers_the_form_fragment():
    source = LaunchFactory()
    buyer, _ = _people(source)
    post = _post_data(_data(source, budget_amount="abc"))
    response = _client(buyer).post(
        _url("new", slug=source.brand.slug), post, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="launch-form"')


@pytest.mark.parametrize(
    "post",
    [
        {},
        {"ad_account": "99999999999999999999", "markets": ["ZZ"], "budget_amount": "1e999"},
        {"ad_sets-0-name": "x" * 5000, "ad_sets-99999-name": "y", "start_at": "not a date"},
        {"ad_sets-0-ads-0-landing_url": "http://[::1", "version": "abc"},
        {"campaign_name": "a\x00b", "markets": ["D\x00E"], "ad_sets-0-market": "\x00"},
    ],
)
def test_bad_input_never_500(post):
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    client = _client(buyer)
    assert client.post(_url("new", slug=launch.brand.slug), post).status_code == 422
    assert client.post(_url("edit", launch), post).status_code in (200, 422)


# --- structure rows and name check ------------------------------------------------------------


def test_structure_row_fragments():
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    client = _client(buyer)
    url = _url("structure_row", slug=launch.brand.slug)
    ad_set = client.get(url, {"kind": "ad_set", "set": "7"}, HTTP_HX_REQUEST="true")
    assert ad_set.status_code == 200
    assert 'name="ad_sets-7-name"' in ad_set.text and 'name="ad_sets-7-ads-0-name"' in ad_set.text
    assert "data-new-row" in ad_set.text and 'for="id_ad_sets-7-market"' in ad_set.text
    ad = client.get(url, {"kind": "ad", "set": "7", "ad": "3"})
    assert ad.status_code == 200 and 'name="ad_sets-7-ads-3-landing_url"' in ad.text
    assert 'for="id_ad_sets-7-ads-3-utm_term"' in ad.text
    for bad in ({"kind": "x"}, {"kind": "ad", "set": "1"}, {"kind": "ad_set", "set": "-1"}):
        assert client.get(url, bad).status_code == 400


def test_name_check_valid_invalid_and_no_rule():
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    NamingRuleFactory(brand=launch.brand, level="campaign")
    client = _client(buyer)
    url = _url("name_check", slug=launch.brand.slug)
    good = client.get(url, {"level": "campaign", "name": "de_conv_202701_spring"})
    assert good.status_code == 200 and "Matches the campaign naming rule." in good.text
    bad = client.get(url, {"level": "campaign", "name": "DE-conv-spring"})
    assert bad.status_code == 200 and "Does not match the campaign naming rule" in bad.text
    assert "<li>" in bad.text
    none = client.get(url, {"level": "ad", "name": "anything"})
    assert none.status_code == 200 and "No naming rule for this level" in none.text
    assert client.get(url, {"level": "event_name", "name": "x"}).status_code == 400
    assert client.get(url, {"level": "campaign", "name": "x" * 600}).status_code == 400
    assert client.get(url, {"level": "campaign", "name": ""}).status_code == 200


# --- duplicate / cancel -----------------------------------------------------------------------


def test_duplicate_makes_a_draft_and_opens_its_edit_page(activity):
    launch = LaunchFactory(state="rejected")
    buyer, _ = _people(launch)
    client = _client(buyer)
    assert client.get(_url("duplicate", launch)).status_code == 405
    response = client.post(_url("duplicate", launch))
    copy = Launch.objects.exclude(pk=launch.pk).get()
    assert response.status_code == 302 and response["Location"] == _url("edit", copy)
    assert copy.state == "draft" and copy.duplicated_from == launch
    assert activity.new()[-1].verb == "launch.duplicated"


def test_cancel_confirms_then_cancels_with_a_reason(activity):
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    client = _client(buyer)
    page = client.get(_url("cancel", launch))
    assert (
        page.status_code == 200 and "data-confirm=" in page.text and "cannot be undone" in page.text
    )
    response = client.post(_url("cancel", launch), {"version": "1", "reason": "Moved to March"})
    assert response.status_code == 302 and response["Location"] == _url("detail", launch)
    launch.refresh_from_db()
    assert launch.state == "cancelled"
    row = activity.new()[-1]
    assert row.verb == "launch.cancelled" and row.after["reason"] == "Moved to March"
    again = client.post(_url("cancel", launch), {"version": str(launch.version)})
    assert again.status_code == 422 and "cannot cancel" in again.text


def test_cancel_stale_and_other_buyer():
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    other = UserFactory()
    policies.grant_role(other, launch.brand, Role.MEDIA_BUYER)
    assert _client(other).get(_url("cancel", launch)).status_code == 403
    response = _client(buyer).post(_url("cancel", launch), {"version": "7"})
    assert response.status_code == 422 and "someone changed the launch" in response.text
    launch.refresh_from_db()
    assert launch.state == "draft"


# --- the list ---------------------------------------------------------------------------------


def test_list_filters_chips_and_narrowing():
    launch = LaunchFactory(campaign_name="Alpha MARKER one")
    buyer, lead = _people(launch)
    hidden_account = AdAccountFactory(brand=launch.brand, name="Hidden account Q")
    LaunchFactory(
        brand=launch.brand,
        ad_account=hidden_account,
        pixel=launch.pixel,
        optimization_event=launch.optimization_event,
        campaign_name="Beta HIDDEN two",
        state="approved",
        created_by=lead,
    )
    policies.set_ad_account_narrowing(buyer, launch.brand, [launch.ad_account])
    url = _url("list", slug=launch.brand.slug)
    text = _client(buyer).get(url).text
    assert "Alpha MARKER one" in text and "Beta HIDDEN two" not in text
    assert "Hidden account Q" not in text
    lead_client = _client(lead)
    text = lead_client.get(url).text
    assert "Alpha MARKER one" in text and "Beta HIDDEN two" in text
    assert re.search(r"Approved <span class=\"num\">1</span>", text)
    assert "Beta HIDDEN two" not in lead_client.get(url, {"q": "alpha"}).text
    only = lead_client.get(url, {"state": "approved"}).text
    assert "Beta HIDDEN two" in only and "Alpha MARKER one" not in only
    mine = lead_client.get(url, {"mine": "1"}).text
    assert "Beta HIDDEN two" in mine and "Alpha MARKER one" not in mine
    by_account = lead_client.get(url, {"ad_account": str(hidden_account.pk)}).text
    assert "Beta HIDDEN two" in by_account and "Alpha MARKER one" not in by_account
    fragment = lead_client.get(url, {"sort": "name", "page": "x"}, HTTP_HX_REQUEST="true")
    assert fragment.text.lstrip().startswith('<div id="launch-table">')
    odd = lead_client.get(url, {"state": "bogus", "sort": "bogus", "ad_account": "1e9"})
    assert odd.status_code == 200 and "Alpha MARKER one" in odd.text


def test_list_empty_state_offers_a_draft():
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    analyst = UserFactory()
    policies.grant_role(analyst, launch.brand, Role.ANALYST)
    Launch.objects.all().delete()
    url = _url("list", slug=launch.brand.slug)
    assert "Draft one" in _client(buyer).get(url).text
    text = _client(analyst).get(url).text
    assert "No launches yet" in text and "Draft one" not in text


def test_list_answers_in_constant_queries(django_assert_max_num_queries):
    launch = LaunchFactory()
    buyer, lead = _people(launch)
    policies.set_ad_account_narrowing(buyer, launch.brand, [launch.ad_account])
    url = _url("list", slug=launch.brand.slug)
    counts = {}
    for user in (buyer, lead):
        client = _client(user)
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as one:
            client.get(url)
        counts[user.pk] = len(one)
    for _ in range(29):
        LaunchFactory(
            brand=launch.brand,
            ad_account=launch.ad_account,
            pixel=launch.pixel,
            optimization_event=launch.optimization_event,
            created_by=UserFactory(),
        )
    for user in (buyer, lead):
        client = _client(user)
        client.get(url)
        with django_assert_max_num_queries(counts[user.pk]):
            response = client.get(url)
        assert response.text.count('class="row-menu"') == 25  # a full page of 30 rows


def test_duplicate_of_a_launch_whose_account_was_archived_says_why():
    launch = LaunchFactory()
    buyer, _ = _people(launch)
    type(launch.ad_account).objects.filter(pk=launch.ad_account_id).update(status="archived")
    response = _client(buyer).post(_url("duplicate", launch), follow=True)
    assert response.redirect_chain[-1][0] == _url("list", slug=launch.brand.slug)
    assert "Not duplicated: Choose one of the brand" in response.text
    assert Launch.objects.count() == 1


def test_edit_page_queries_do_not_grow_with_the_structure(django_assert_max_num_queries):
    from tests.factories import AdFactory, AdSetFactory

    launch = LaunchFactory()
    buyer, _ = _people(launch)
    client = _client(buyer)
    client.get(_url("edit", launch))
    with CaptureQueriesContext(connection) as one:
        client.get(_url("edit", launch))
    for i in range(10):
        ad_set = AdSetFactory(launch=launch, position=i + 1, name=f"Extra set {i}")
        for j in range(3):
            AdFactory(ad_set=ad_set, position=j, name=f"Extra ad {i}.{j}")
    with django_assert_max_num_queries(len(one)):
        response = client.get(_url("edit", launch))
    assert 'name="ad_sets-10-ads-2-name"' in response.text


def test_a_rejected_launch_offers_duplicate_instead_of_the_form():
    launch = LaunchFactory(state="rejected")
    buyer, _ = _people(launch)
    page = _client(buyer).get(_url("edit", launch))
    assert page.status_code == 200 and "duplicate it to start again" in page.text
    assert 'name="campaign_name"' not in page.text
    assert f'action="{_url("duplicate", launch)}"' in page.text
