"""The review page and the approval queue: who sees what, four eyes (admins included),
overrides of blocking failures, comments for reject and request changes, stale forms,
the diff since the last review, the queue's filters and its constant query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.launches import inputs, services
from koastops.launches.models import CheckOverride, Launch, Review
from koastops.launches.views.review import PATH_SEPARATOR as SEP
from koastops.launches.views.review import path_label
from tests.factories import (
    AdAccountFactory,
    AdminFactory,
    BrandFactory,
    LaunchFactory,
    UserFactory,
)
from tests.fuzz.test_fuzz_inputs import FUZZ, huge_ints, text
from tests.launches.review_support import draft, finish, in_review

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lead(brand):
    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    return lead


def _url(launch) -> str:
    return reverse("launches:review", kwargs={"slug": launch.brand.slug, "pk": launch.pk})


def _detail(launch) -> str:
    return reverse("launches:detail", kwargs={"slug": launch.brand.slug, "pk": launch.pk})


QUEUE = "/launches/review/"


# --- the review page: who may see it --------------------------------------------------------


def test_ops_lead_sees_summary_checklist_first_review_and_the_form():
    launch = in_review(campaign_name="Marker-Alpha")
    response = _client(_lead(launch.brand)).get(_url(launch))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Marker-Alpha" in body
    assert 'data-check="schedule.valid"' in body
    assert "First review" in body
    assert "Record decision" in body and f'value="{launch.version}"' in body
    assert reverse("launches:rerun", kwargs={"slug": launch.brand.slug, "pk": launch.pk}) in body


def test_admin_without_a_role_reviews_too():
    launch = in_review()
    response = _client(AdminFactory()).get(_url(launch))
    assert response.status_code == 200 and b"Record decision" in response.content


@pytest.mark.parametrize("role", [Role.MEDIA_BUYER, Role.LEGAL_REVIEWER, Role.ANALYST])
def test_other_roles_of_the_brand_are_refused(role):
    launch = in_review()
    user = UserFactory()
    policies.grant_role(user, launch.brand, role)
    client = _client(user)
    assert client.get(_url(launch)).status_code == 403
    assert client.post(_url(launch), {"decision": "approve"}).status_code == 403
    assert Launch.objects.get(pk=launch.pk).state == "in_review"


def test_ops_lead_of_another_brand_gets_404_and_nothing_leaks():
    launch = in_review(campaign_name="Marker-Secret")
    response = _client(_lead(BrandFactory())).get(_url(launch))
    assert response.status_code == 404 and b"Marker-Secret" not in response.content


def test_launch_of_another_brand_under_this_brand_is_404():
    launch = in_review()
    other = in_review()
    lead = _lead(launch.brand)
    url = reverse("launches:review", kwargs={"slug": launch.brand.slug, "pk": other.pk})
    assert _client(lead).get(url).status_code == 404


def test_narrowed_media_buyer_cannot_review_nor_sees_the_queue():
    launch = in_review(campaign_name="Marker-Narrow")
    buyer = UserFactory()
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, launch.brand, [AdAccountFactory(brand=launch.brand)])
    client = _client(buyer)
    assert client.get(_url(launch)).status_code in (403, 404)
    page = client.get(QUEUE)
    assert page.status_code == 200 and b"Marker-Narrow" not in page.content
    assert b"You review no launches" in page.content


def test_wrong_method_is_405():
    launch = in_review()
    assert _client(_lead(launch.brand)).put(_url(launch)).status_code == 405


# --- four eyes -------------------------------------------------------------------------------


def test_own_launch_shows_no_form_even_for_an_admin():
    admin = AdminFactory()
    launch = in_review(created_by=admin)
    client = _client(admin)
    page = client.get(_url(launch))
    body = page.content.decode()
    assert page.status_code == 200 and "data-own-work" in body
    assert "Record decision" not in body
    response = client.post(
        _url(launch), {"decision": "approve", "version": launch.version, "comment": ""}
    )
    assert response.status_code == 403 and b"another ops lead" in response.content
    assert Launch.objects.get(pk=launch.pk).state == "in_review"
    assert not Review.objects.filter(launch=launch).exists()


def test_ops_lead_who_submitted_sees_no_form():
    launch = LaunchFactory()
    lead = _lead(launch.brand)
    finish(services.launch_submit(user=lead, launch=launch, expected_version=1))
    launch.refresh_from_db()
    body = _client(lead).get(_url(launch)).content.decode()
    assert "data-own-work" in body and "Record decision" not in body


# --- decisions -------------------------------------------------------------------------------


def test_approve_is_blocked_by_a_blocking_failure_until_an_override_reason_is_given():
    launch = in_review(fail=True)
    lead = _lead(launch.brand)
    client = _client(lead)
    page = client.get(_url(launch)).content.decode()
    failed = launch.current_run.results.get(status="fail")
    field = f"overrides.{failed.key}"
    assert f'name="{field}"' in page and "Blocking failures" in page
    response = client.post(_url(launch), {"decision": "approve", "version": launch.version})
    assert response.status_code == 422
    assert "blocks approval" in response.content.decode()
    assert Launch.objects.get(pk=launch.pk).state == "in_review"
    assert not CheckOverride.objects.exists()
    response = client.post(
        _url(launch),
        {"decision": "approve", "version": launch.version, field: "Signed on paper, see #12."},
    )
    assert response.status_code == 302 and response["Location"] == _detail(launch)
    launch.refresh_from_db()
    assert launch.state == "approved" and launch.approved_hash == launch.content_hash
    override = CheckOverride.objects.get(launch=launch)
    assert (override.check_key, override.reason, override.overridden_by) == (
        failed.key,
        "Signed on paper, see #12.",
        lead,
    )
    entry = ActivityEntry.objects.get(verb="launch.check_overridden")
    assert entry.actor == lead and entry.after["check"] == failed.key
    assert ActivityEntry.objects.filter(verb="launch.approved").count() == 1


def test_reject_needs_a_comment():
    launch = in_review()
    client = _client(_lead(launch.brand))
    response = client.post(_url(launch), {"decision": "reject", "version": launch.version})
    assert response.status_code == 422
    assert b"Write a comment" in response.content
    assert Launch.objects.get(pk=launch.pk).state == "in_review"
    response = client.post(
        _url(launch),
        {"decision": "reject", "version": launch.version, "comment": "Wrong market."},
    )
    assert response.status_code == 302 and response["Location"] == _detail(launch)
    launch.refresh_from_db()
    assert launch.state == "rejected"
    assert Review.objects.get(launch=launch).comment == "Wrong market."


def test_request_changes_sends_the_launch_back_with_the_comment():
    launch = in_review()
    client = _client(_lead(launch.brand))
    missing = client.post(
        _url(launch), {"decision": "request_changes", "version": launch.version, "comment": " "}
    )
    assert missing.status_code == 422
    response = client.post(
        _url(launch),
        {"decision": "request_changes", "version": launch.version, "comment": "Fix the URL."},
    )
    assert response.status_code == 302
    launch.refresh_from_db()
    assert launch.state == "needs_changes"
    assert Review.objects.get(launch=launch).decision == "changes_requested"


def test_htmx_decision_navigates_with_a_toast():
    launch = in_review()
    response = _client(_lead(launch.brand)).post(
        _url(launch),
        {"decision": "approve", "version": launch.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert _detail(launch) in response["HX-Location"] and "toast" in response["HX-Trigger"]


def test_stale_version_records_nothing_and_offers_a_reload():
    launch = in_review()
    client = _client(_lead(launch.brand))
    response = client.post(_url(launch), {"decision": "approve", "version": launch.version - 1})
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed since you opened it" in body and f'href="{_url(launch)}"' in body
    assert Launch.objects.get(pk=launch.pk).state == "in_review"
    assert not Review.objects.exists()


@pytest.mark.parametrize("version", ["", "abc", "9" * 40, "-1"])
def test_missing_or_tampered_version_is_not_a_500(version):
    launch = in_review()
    response = _client(_lead(launch.brand)).post(
        _url(launch), {"decision": "approve", "version": version}
    )
    assert response.status_code == 409 and not Review.objects.exists()


def test_unknown_decision_is_shown_by_the_field():
    launch = in_review()
    response = _client(_lead(launch.brand)).post(
        _url(launch), {"decision": "ship-it", "version": launch.version}
    )
    assert response.status_code == 422 and b"id_decision_error" in response.content


def test_decided_launch_shows_wrong_state_and_no_form():
    launch = in_review()
    lead, other = _lead(launch.brand), _lead(launch.brand)
    version = launch.version
    services.launch_approve(user=other, launch=launch, expected_version=version)
    client = _client(lead)
    response = client.post(_url(launch), {"decision": "reject", "version": version, "comment": "x"})
    assert response.status_code == 409
    assert b"is approved" in response.content
    assert Review.objects.filter(launch=launch).count() == 1
    page = client.get(_url(launch)).content.decode()
    assert "not waiting for review" in page and "Record decision" not in page


def test_page_says_when_checks_are_not_final():
    launch = LaunchFactory()
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    services.launch_submit(user=launch.created_by, launch=launch, expected_version=1)
    body = _client(_lead(launch.brand)).get(_url(launch)).content.decode()
    assert "still running" in body and "Record decision" not in body


# --- the diff since the last review -----------------------------------------------------------


def test_diff_shows_a_changed_budget_and_an_added_ad_after_edit_and_resubmit():
    launch = in_review()
    buyer, lead = launch.created_by, _lead(launch.brand)
    services.launch_request_changes(
        user=lead, launch=launch, expected_version=launch.version, comment="More ads."
    )
    launch.refresh_from_db()
    data = inputs.as_data(Launch.objects.get(pk=launch.pk))
    data["budget_amount"] = "300.00"
    extra = dict(data["ad_sets"][0]["ads"][0], name="Ad 2 new")
    data["ad_sets"][0]["ads"].append(extra)
    edited = services.launch_update(
        user=buyer, launch=launch, data=data, expected_version=launch.version
    )
    finish(services.launch_submit(user=buyer, launch=edited, expected_version=edited.version))
    body = _client(lead).get(_url(launch)).content.decode()
    assert "First review" not in body
    assert 'data-path="budget_amount" data-kind="changed"' in body
    assert "250.00" in body and "300.00" in body
    assert 'data-path="ad_sets.0.ads.1" data-kind="added"' in body
    assert f"Ad set 1{SEP}Ad 2" in body and "Ad 2 new" in body
    assert "More ads." in body


def test_path_labels_read_as_people_say_them():
    assert path_label("ad_sets.0.ads.1.landing_url") == f"Ad set 1{SEP}Ad 2{SEP}Landing URL"
    assert path_label("ad_sets.2") == "Ad set 3"
    assert path_label("budget_amount") == "Budget"
    assert path_label("ad_sets.0.ads.0.utm_campaign") == f"Ad set 1{SEP}Ad 1{SEP}UTM campaign"


# --- the queue -------------------------------------------------------------------------------


def _age(launch, hours: float) -> None:
    Launch.objects.filter(pk=launch.pk).update(
        state_changed_at=timezone.now() - dt.timedelta(hours=hours)
    )


def test_queue_shows_exactly_the_launches_in_review_on_the_approvers_brands():
    brand = BrandFactory(name="Own brand")
    lead = _lead(brand)
    mine = in_review(brand=brand, campaign_name="Marker-Waiting")
    drafted = draft(brand=brand, campaign_name="Marker-Draft")
    in_review(campaign_name="Marker-Foreign")
    assert drafted.state == "draft"
    body = _client(lead).get(QUEUE).content.decode()
    assert "Marker-Waiting" in body and _url(mine) in body
    assert "Marker-Draft" not in body and "Marker-Foreign" not in body
    admin_body = _client(AdminFactory()).get(QUEUE).content.decode()
    assert "Marker-Waiting" in admin_body and "Marker-Foreign" in admin_body


def test_queue_is_oldest_first_with_waiting_time_and_blocking_count():
    brand = BrandFactory()
    lead = _lead(brand)
    young = in_review(brand=brand, campaign_name="Marker-Young")
    old = in_review(brand=brand, campaign_name="Marker-Old", fail=True)
    _age(old, 80)
    _age(young, 2)
    body = _client(lead).get(QUEUE).content.decode()
    assert body.index("Marker-Old") < body.index("Marker-Young")
    assert "3 days 8 h" in body and "2 h 0 min" in body
    row = body[body.index(f'data-launch="{old.pk}"') :]
    assert "badge-failing" in row[: row.index("</tr>")]


def test_queue_marks_the_users_own_launch_without_a_review_link():
    brand = BrandFactory()
    lead = _lead(brand)
    own = in_review(brand=brand, created_by=lead, campaign_name="Marker-Own")
    body = _client(lead).get(QUEUE).content.decode()
    assert "Marker-Own" in body and "data-yours" in body and _url(own) not in body


def test_queue_filters_by_brand_account_waiting_and_search():
    first, second = BrandFactory(slug="first"), BrandFactory(slug="second")
    lead = _lead(first)
    policies.grant_role(lead, second, Role.OPS_LEAD)
    a = in_review(brand=first, campaign_name="Marker-A spring")
    b = in_review(brand=second, campaign_name="Marker-B summer")
    c = in_review(brand=first, campaign_name="Marker-C summer")
    _age(a, 30)
    _age(b, 2)
    _age(c, 0.1)
    client = _client(lead)

    def shown(query: str) -> set[str]:
        body = client.get(f"{QUEUE}?{query}").content.decode()
        return {m for m in ("Marker-A", "Marker-B", "Marker-C") if m in body}

    assert shown("") == {"Marker-A", "Marker-B", "Marker-C"}
    assert shown("brand=first") == {"Marker-A", "Marker-C"}
    assert shown(f"account={b.ad_account_id}") == {"Marker-B"}
    assert shown("waiting=1h") == {"Marker-A", "Marker-B"}
    assert shown("waiting=24h") == {"Marker-A"}
    assert shown("waiting=3d") == set()
    assert shown("q=summer") == {"Marker-B", "Marker-C"}
    assert shown("q=summer&brand=first") == {"Marker-C"}
    # Nonsense is ignored, never a 500.
    for junk in ("account=x", "account=" + "9" * 30, "waiting=forever", "brand=%00", "q=%00"):
        assert client.get(f"{QUEUE}?{junk}").status_code == 200
    empty = client.get(f"{QUEUE}?q=nothing-like-this").content.decode()
    assert "No launch matches these filters" in empty


def test_queue_empty_state_for_an_approver():
    lead = _lead(BrandFactory())
    body = _client(lead).get(QUEUE).content.decode()
    assert "Nothing waits for your review" in body


def test_queue_htmx_answers_the_table_fragment():
    brand = BrandFactory()
    lead = _lead(brand)
    in_review(brand=brand, campaign_name="Marker-Frag")
    response = _client(lead).get(QUEUE, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-table")
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="queue-table"')
    assert "Marker-Frag" in body and "<html" not in body


def test_queue_requires_sign_in():
    response = Client().get(QUEUE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _bulk_in_review(brand, count: int, submitter) -> None:
    """Launches in review without going through the checks (the queue reads rows only)."""
    template = draft(brand=brand, created_by=submitter)
    rows = [
        Launch(
            brand=brand,
            ad_account=template.ad_account,
            pixel=template.pixel,
            objective=template.objective,
            optimization_event=template.optimization_event,
            budget_type=template.budget_type,
            budget_amount=template.budget_amount,
            start_at=template.start_at,
            end_at=template.end_at,
            campaign_name=f"Bulk {index:03d}",
            state="in_review",
            state_changed_at=timezone.now() - dt.timedelta(minutes=index),
            content_hash=template.content_hash,
            created_by=submitter,
            submitted_by=submitter,
        )
        for index in range(count)
    ]
    Launch.objects.bulk_create(rows)


@pytest.mark.parametrize("principal", ["ops_lead", "admin"])
def test_queue_answers_in_constant_queries(principal, django_assert_max_num_queries):
    brand = BrandFactory()
    lead = _lead(brand)
    user = lead if principal == "ops_lead" else AdminFactory()
    client = _client(user)
    in_review(brand=brand)
    client.get(QUEUE)  # warm the per-process caches
    with django_assert_max_num_queries(50) as one:
        assert client.get(QUEUE).status_code == 200
    _bulk_in_review(brand, 60, UserFactory())
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(QUEUE)
    assert response.content.decode().count("data-launch=") == 25  # one page


def test_review_page_answers_in_constant_queries(django_assert_max_num_queries):
    launch = in_review()
    client = _client(_lead(launch.brand))
    client.get(_url(launch))
    with django_assert_max_num_queries(60) as small:
        client.get(_url(launch))
    data = inputs.as_data(Launch.objects.get(pk=launch.pk))
    for n in range(2, 12):
        data["ad_sets"][0]["ads"].append(dict(data["ad_sets"][0]["ads"][0], name=f"Ad {n}"))
    big = draft(brand=launch.brand, created_by=launch.created_by)
    big = services.launch_update(
        user=launch.created_by,
        launch=big,
        data={**data, "campaign_name": big.campaign_name},
        expected_version=big.version,
    )
    finish(services.launch_submit(user=launch.created_by, launch=big, expected_version=big.version))
    url = _url(big)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_brand_sidebar_links_the_queue_filtered_by_the_brand_for_approvers_only():
    brand = BrandFactory(slug="sidebar-brand")
    link = 'href="/launches/review/?brand=sidebar-brand"'
    overview = reverse("catalog:brand_detail", kwargs={"slug": brand.slug})
    assert link in _client(_lead(brand)).get(overview).content.decode()
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    assert link not in _client(buyer).get(overview).content.decode()


# --- bad input never answers 500 --------------------------------------------------------------


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "decision": st.one_of(st.sampled_from(["approve", "reject", "request_changes"]), text),
            "comment": text,
            "version": st.one_of(huge_ints.map(str), text),
            "overrides.schedule.valid": text,
            "overrides.": text,
            "extra": text,
        },
    ),
    htmx=st.booleans(),
)
def test_review_post_bodies_never_answer_5xx(fuzz_launch, body, htmx):
    launch, client = fuzz_launch
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with transaction.atomic():
        response = client.post(_url(launch), body, **headers)
        assert response.status_code < 500, body
        if response.status_code not in (200, 302):
            assert not Review.objects.filter(launch=launch).exists()
        transaction.set_rollback(True)


@pytest.fixture
def fuzz_launch():
    launch = in_review(fail=True)
    return launch, _client(_lead(launch.brand))
