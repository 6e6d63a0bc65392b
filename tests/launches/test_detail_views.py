"""A launch's page, its polled checklist, submit, re-run and mark launched, through the
pages as each principal: admin, ops lead, media buyer (the launch's drafter), a media
buyer narrowed to another ad account, legal reviewer, analyst and an outsider."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.launches import runner, services
from koastops.launches.models import Ad, AdSet, CheckResult, CheckRun, Launch
from tests.factories import (
    AdAccountFactory,
    AdminFactory,
    CheckOverrideFactory,
    CheckResultFactory,
    CheckRunFactory,
    LaunchFactory,
    RegressionFactory,
    ReviewFactory,
    UserFactory,
    market,
)

pytestmark = pytest.mark.django_db

PRINCIPALS = ["admin", "ops_lead", "media_buyer", "legal_reviewer", "analyst"]


class People(dict):
    def client(self, name: str) -> Client:
        client = Client()
        client.force_login(self[name])
        return client


@pytest.fixture
def launch():
    return LaunchFactory(campaign_name="DE_conv_202612_MarkerCampaign")


@pytest.fixture
def people(launch) -> People:
    brand = launch.brand
    found = People(
        admin=AdminFactory(),
        media_buyer=launch.created_by,
        ops_lead=UserFactory(),
        other_lead=UserFactory(),
        narrowed=UserFactory(),
        legal_reviewer=UserFactory(),
        analyst=UserFactory(),
        outsider=UserFactory(),
    )
    policies.grant_role(found["media_buyer"], brand, Role.MEDIA_BUYER)
    policies.grant_role(found["ops_lead"], brand, Role.OPS_LEAD)
    policies.grant_role(found["other_lead"], brand, Role.OPS_LEAD)
    policies.grant_role(found["narrowed"], brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(
        found["narrowed"], brand, [AdAccountFactory(brand=brand, name="Other account")]
    )
    policies.grant_role(found["legal_reviewer"], brand, Role.LEGAL_REVIEWER)
    policies.grant_role(found["analyst"], brand, Role.ANALYST)
    return found


def _sibling(launch: Launch, **fields) -> Launch:
    """Another launch of the same brand (the brand's event: its names are unique)."""
    fields.setdefault("ad_account", launch.ad_account)
    return LaunchFactory(
        brand=launch.brand,
        optimization_event=launch.optimization_event,
        pixel=launch.pixel,
        **fields,
    )


def _url(name: str, launch: Launch, **extra) -> str:
    return reverse(name, kwargs={"slug": launch.brand.slug, "pk": launch.pk, **extra})


def _buttons(html: str, launch: Launch) -> set[str]:
    """Which actions the page offers, by the links and forms it carries."""
    names = {
        "edit": "launches:edit",
        "duplicate": "launches:duplicate",
        "cancel": "launches:cancel",
        "submit": "launches:submit",
        "rerun": "launches:rerun",
        "review": "launches:review",
        "export_csv": "launches:export_csv",
        "export_json": "launches:export_json",
        "mark_launched": "launches:mark_launched",
    }
    return {key for key, name in names.items() if f'"{_url(name, launch)}"' in html}


def _set_state(launch: Launch, state: str, **fields) -> Launch:
    Launch.objects.filter(pk=launch.pk).update(state=state, **fields)
    launch.refresh_from_db()
    return launch


ALL_BUYER = {"edit", "duplicate", "cancel"}
EXPECTED = {
    # state -> principal -> the buttons shown
    "draft": {
        "admin": ALL_BUYER | {"submit", "rerun"},
        "ops_lead": ALL_BUYER | {"submit", "rerun"},
        "media_buyer": ALL_BUYER | {"submit", "rerun"},
        "legal_reviewer": set(),
        "analyst": set(),
    },
    "checking": {
        "admin": {"duplicate", "cancel"},
        "ops_lead": {"duplicate", "cancel"},
        "media_buyer": {"duplicate", "cancel"},
        "legal_reviewer": set(),
        "analyst": set(),
    },
    "in_review": {
        "admin": ALL_BUYER | {"rerun", "review"},
        "ops_lead": ALL_BUYER | {"rerun", "review"},
        "media_buyer": ALL_BUYER | {"rerun"},
        "legal_reviewer": set(),
        "analyst": set(),
    },
    "approved": {
        "admin": ALL_BUYER | {"export_csv", "export_json", "mark_launched"},
        "ops_lead": ALL_BUYER | {"export_csv", "export_json", "mark_launched"},
        "media_buyer": ALL_BUYER | {"export_csv", "export_json", "mark_launched"},
        "legal_reviewer": set(),
        "analyst": set(),
    },
    "launched": {
        "admin": {"duplicate", "export_csv", "export_json"},
        "ops_lead": {"duplicate", "export_csv", "export_json"},
        "media_buyer": {"duplicate", "export_csv", "export_json"},
        "legal_reviewer": set(),
        "analyst": set(),
    },
    "cancelled": {
        "admin": {"duplicate"},
        "ops_lead": {"duplicate"},
        "media_buyer": {"duplicate"},
        "legal_reviewer": set(),
        "analyst": set(),
    },
}


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_buttons_follow_capability_and_state(launch, people, state):
    _set_state(launch, state, submitted_by=people["media_buyer"])
    for principal in PRINCIPALS:
        response = people.client(principal).get(_url("launches:detail", launch))
        assert response.status_code == 200, principal
        html = response.content.decode()
        assert launch.campaign_name in html
        assert _buttons(html, launch) == EXPECTED[state][principal], (state, principal)
        # The state is a badge with its name, not colour alone.
        assert re.search(
            r'id="launch-state"><span class="badge[^"]*">.*?'
            + re.escape(launch.get_state_display()),
            html,
            re.S,
        ), principal


def test_rejected_launch_says_to_duplicate_it(launch, people):
    _set_state(launch, "rejected")
    html = people.client("media_buyer").get(_url("launches:detail", launch)).content.decode()
    assert "The launch was rejected; duplicate it to start again." in html
    assert _buttons(html, launch) == {"duplicate", "cancel"}  # cancellable until launched


def test_media_buyer_cannot_act_on_another_buyers_draft(launch, people):
    other = UserFactory()
    policies.grant_role(other, launch.brand, Role.MEDIA_BUYER)
    client = Client()
    client.force_login(other)
    html = client.get(_url("launches:detail", launch)).content.decode()
    assert _buttons(html, launch) == {"duplicate"}  # edit, submit, cancel: own launches only


def test_ops_lead_who_submitted_is_told_another_must_review(launch, people):
    _set_state(launch, "in_review", submitted_by=people["ops_lead"])
    html = people.client("ops_lead").get(_url("launches:detail", launch)).content.decode()
    assert "review" not in _buttons(html, launch)
    assert "Another ops lead must review it" in html
    other = people.client("other_lead").get(_url("launches:detail", launch)).content.decode()
    assert "review" in _buttons(other, launch)
    assert "Another ops lead must review it" not in other


def test_narrowed_buyer_and_outsider_get_404_and_never_the_name(launch, people):
    for principal in ("narrowed", "outsider"):
        client = people.client(principal)
        for url in (
            _url("launches:detail", launch),
            _url("launches:mark_launched", launch),
        ):
            response = client.get(url)
            assert response.status_code == 404, (principal, url)
            assert launch.campaign_name not in response.content.decode()
    # ...but the narrowed buyer sees a launch on the account they may use.
    chosen = policies.ad_accounts_for(people["narrowed"], launch.brand).get()
    own = _sibling(launch, ad_account=chosen, campaign_name="Narrowed own")
    assert people.client("narrowed").get(_url("launches:detail", own)).status_code == 200


def test_launch_of_another_brand_is_404(launch, people):
    foreign = LaunchFactory(campaign_name="ForeignMarker")
    url = reverse("launches:detail", kwargs={"slug": launch.brand.slug, "pk": foreign.pk})
    response = people.client("admin").get(url)
    assert response.status_code == 404
    assert "ForeignMarker" not in response.content.decode()


def test_page_shows_facts_structure_reviews_regressions_and_activity(launch, people):
    launch.ad_account.time_zone = "America/New_York"
    launch.ad_account.currency = "USD"
    launch.ad_account.save()
    services.launch_submit(user=people["media_buyer"], launch=launch, expected_version=1)
    launch.refresh_from_db()
    run = launch.current_run
    runner.run_inline(run.pk)
    launch.refresh_from_db()
    ReviewFactory(
        launch=launch,
        decision="changes_requested",
        reviewer=people["ops_lead"],
        comment="Fix the <b>landing</b> URL.",
    )
    CheckOverrideFactory(
        launch=launch,
        check_key="schedule.valid",
        reason="OverrideReasonMarker",
        overridden_by=people["ops_lead"],
    )
    RegressionFactory(launch=launch, title="RegressionMarker")
    html = people.client("analyst").get(_url("launches:detail", launch)).content.decode()
    assert "USD" in html and "250.00" in html
    assert "America/New_York" in html
    start = launch.start_at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert start.strftime("%H:%M") in html
    assert "Ad set DE" in html and "https://shop.example/landing" in html
    assert "utm_source=facebook" in html
    assert "Fix the &lt;b&gt;landing&lt;/b&gt; URL." in html  # escaped
    assert "OverrideReasonMarker" in html and "RegressionMarker" in html
    assert "submitted a launch for approval" in html  # the activity row
    assert f"{run.total} of {run.total} checks done" in html
    assert 'data-check="schedule.valid" data-status="pass"' in html


def test_activity_is_only_this_launchs_rows_the_user_may_see(launch, people):
    other = _sibling(launch, created_by=people["media_buyer"])
    services.launch_cancel(user=people["media_buyer"], launch=other, expected_version=1)
    services.launch_submit(user=people["media_buyer"], launch=launch, expected_version=1)
    html = people.client("media_buyer").get(_url("launches:detail", launch)).content.decode()
    assert "submitted a launch for approval" in html
    assert "cancelled a launch" not in html
    assert ActivityEntry.objects.filter(verb="launch.cancelled").exists()


# --- the polled checklist --------------------------------------------------------------------


def _active_run(launch, people):
    run = services.launch_submit(user=people["media_buyer"], launch=launch, expected_version=1)
    return run


def test_fragment_polls_while_running_and_answers_286_when_done(launch, people, htmx_headers):
    run = _active_run(launch, people)
    client = people.client("media_buyer")
    url = _url("launches:run_status", launch, run_pk=run.pk)
    page = client.get(_url("launches:detail", launch)).content.decode()
    assert f'hx-get="{url}" hx-trigger="every 1s"' in page
    first = CheckResult.objects.filter(run=run).order_by("position").first()
    CheckResult.objects.filter(pk=first.pk).update(status="pass", message="Fine.")
    response = client.get(url, **htmx_headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f"1 of {run.total} checks done" in html
    # The count goes to the page's live region (kept in place: innerHTML, out of band).
    assert 'id="run-progress" class="run-progress" aria-live="polite"' in page
    assert '<div id="run-progress" hx-swap-oob="innerHTML">' in html
    assert 'id="launch-state"' not in html and 'id="launch-actions"' not in html  # not yet
    runner.run_inline(run.pk)
    response = client.get(url, **htmx_headers)
    assert response.status_code == 286
    html = response.content.decode()
    assert "hx-trigger" not in html.split('id="launch-state"')[0]
    # The run's end put the launch in review: the badge and the action bar swap out of band.
    assert '<span id="launch-state" hx-swap-oob="true">' in html and "In review" in html
    assert 'id="launch-actions" class="page-actions" hx-swap-oob="true"' in html
    assert _url("launches:submit", launch) not in html  # no longer submittable
    assert _url("launches:rerun", launch) in html


def test_fragment_without_htmx_redirects_and_other_launchs_run_is_404(launch, people):
    run = _active_run(launch, people)
    client = people.client("analyst")
    response = client.get(_url("launches:run_status", launch, run_pk=run.pk))
    assert response.status_code == 302
    assert response["Location"] == _url("launches:detail", launch) + "#checklist"
    other = CheckRunFactory(launch=_sibling(launch))
    response = client.get(
        _url("launches:run_status", launch, run_pk=other.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    response = people.client("narrowed").get(
        _url("launches:run_status", launch, run_pk=run.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404


# --- submit and re-run -----------------------------------------------------------------------


def test_submit_through_the_page(launch, people):
    client = people.client("media_buyer")
    response = client.post(_url("launches:submit", launch), {"version": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == _url("launches:detail", launch) + "#checklist"
    assert "Checks started." in response.content.decode()
    launch.refresh_from_db()
    assert launch.state == "checking" and launch.current_run is not None


def test_submit_with_htmx_redirects_on_the_client(launch, people, htmx_headers):
    response = people.client("media_buyer").post(
        _url("launches:submit", launch), {"version": "1"}, **htmx_headers
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(_url("launches:detail", launch))
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Checks started."


def test_submit_stale_version_and_wrong_state_are_messages(launch, people):
    client = people.client("media_buyer")
    response = client.post(_url("launches:submit", launch), {"version": "7"}, follow=True)
    assert "The launch changed since you opened it" in response.content.decode()
    assert Launch.objects.get(pk=launch.pk).state == "draft"
    for bad in ("", "x", "1" * 30, "²"):
        response = client.post(_url("launches:submit", launch), {"version": bad}, follow=True)
        assert response.status_code == 200
        assert "reload the page" in response.content.decode()
    _set_state(launch, "approved")
    response = client.post(
        _url("launches:submit", launch), {"version": str(launch.version)}, follow=True
    )
    assert "You cannot submit this launch now: it is approved." in response.content.decode()
    assert CheckRun.objects.filter(launch=launch).count() == 0


def test_submit_is_refused_to_those_without_the_capability(launch, people):
    for principal in ("legal_reviewer", "analyst"):
        response = people.client(principal).post(_url("launches:submit", launch), {"version": "1"})
        assert response.status_code == 403
    response = people.client("narrowed").post(_url("launches:submit", launch), {"version": "1"})
    assert response.status_code == 404
    assert people.client("media_buyer").get(_url("launches:submit", launch)).status_code == 405
    assert Launch.objects.get(pk=launch.pk).state == "draft"


def test_rerun_by_an_ops_lead_in_review_and_refused_to_an_analyst(launch, people):
    run = _active_run(launch, people)
    runner.run_inline(run.pk)
    launch.refresh_from_db()
    assert launch.state == "in_review"
    response = people.client("analyst").post(
        _url("launches:rerun", launch), {"version": str(launch.version)}
    )
    assert response.status_code == 403
    response = people.client("ops_lead").post(
        _url("launches:rerun", launch), {"version": str(launch.version)}, follow=True
    )
    assert "Checks started." in response.content.decode()
    launch.refresh_from_db()
    assert launch.state == "checking" and launch.review_requested
    # Checking: a second re-run is refused with the reason.
    response = people.client("ops_lead").post(
        _url("launches:rerun", launch), {"version": str(launch.version)}, follow=True
    )
    assert "The checks are running" in response.content.decode()


# --- mark launched ---------------------------------------------------------------------------


def _approved(launch, people) -> Launch:
    run = _active_run(launch, people)
    runner.run_inline(run.pk)
    launch.refresh_from_db()
    # A bare factory launch fails the real checks (no stats, no consent): the ops lead
    # overrides each, as the review page lets them.
    blocking = {r.key: "Checked by hand." for r in run.results.all() if r.blocks}
    services.launch_approve(
        user=people["ops_lead"],
        launch=launch,
        expected_version=launch.version,
        overrides=blocking,
    )
    launch.refresh_from_db()
    return launch


def test_mark_launched_form_errors_by_the_field(launch, people, htmx_headers):
    launch = _approved(launch, people)
    client = people.client("media_buyer")
    url = _url("launches:mark_launched", launch)
    page = client.get(url)
    assert page.status_code == 200
    assert f'name="version" value="{launch.version}"' in page.content.decode()
    for bad in ("", "abc", "12", "x" * 5000, "١٢٣٤٥٦"):
        response = client.post(url, {"platform_campaign_id": bad, "version": launch.version})
        assert response.status_code == 200, bad
        html = response.content.decode()
        assert 'id="id_platform_campaign_id_error"' in html, bad
        assert 'aria-invalid="true"' in html
    response = client.post(
        url, {"platform_campaign_id": "abc", "version": launch.version}, **htmx_headers
    )
    assert response.status_code == 422
    assert 'id="mark-launched"' in response.content.decode()
    assert "<html" not in response.content.decode()  # the fragment only
    assert Launch.objects.get(pk=launch.pk).state == "approved"


def test_mark_launched_stale_then_done(launch, people):
    launch = _approved(launch, people)
    client = people.client("media_buyer")
    url = _url("launches:mark_launched", launch)
    response = client.post(url, {"platform_campaign_id": "120210000000000001", "version": "1"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "The launch changed since you opened it" in html
    assert f'name="version" value="{launch.version}"' in html  # the current version to retry
    response = client.post(
        url, {"platform_campaign_id": " 120210000000000001 ", "version": launch.version}
    )
    assert response.status_code == 302 and response["Location"] == _url("launches:detail", launch)
    launch.refresh_from_db()
    assert launch.state == "launched" and launch.platform_campaign_id == "120210000000000001"
    page = client.get(_url("launches:detail", launch)).content.decode()
    assert "120210000000000001" in page and "Marked launched" in page
    # Launched now: the form is gone and a second post is refused by the state.
    assert "Only an approved launch can be marked launched" in client.get(url).content.decode()
    response = client.post(
        url, {"platform_campaign_id": "120210000000000002", "version": launch.version}
    )
    assert response.status_code == 409
    assert "You cannot mark launched this launch now" in response.content.decode()


def test_mark_launched_is_for_launchers_only(launch, people):
    launch = _approved(launch, people)
    url = _url("launches:mark_launched", launch)
    for principal in ("legal_reviewer", "analyst"):
        assert people.client(principal).get(url).status_code == 403
    assert people.client("ops_lead").get(url).status_code == 200


# --- constant queries ------------------------------------------------------------------------


def _grow(launch: Launch, ads: int, reviews: int, people) -> None:
    ad_set = AdSet.objects.get(launch=launch)
    second = AdSet.objects.create(launch=launch, position=1, name="Ad set AT", market=market("DE"))
    Ad.objects.bulk_create(
        [
            Ad(
                ad_set=ad_set if i % 2 else second,
                launch=launch,
                position=i + 1,
                name=f"Ad {i}",
                landing_url=f"https://shop.example.com/{i}",
                utm_source="facebook",
            )
            for i in range(ads)
        ]
    )
    run = CheckRunFactory(launch=launch, state="done")
    for i in range(ads):
        CheckResultFactory(run=run, position=i, details={"names": [f"n{i}"], "ok": True})
        CheckOverrideFactory(
            launch=launch, check_key=f"test.check_{i}", overridden_by=people["ops_lead"]
        )
    for _ in range(reviews):
        ReviewFactory(launch=launch, reviewer=UserFactory(), comment="Looks fine.")


@pytest.mark.parametrize("principal", ["media_buyer", "ops_lead", "admin"])
def test_page_queries_do_not_grow_with_ads_results_and_reviews(
    principal, people, django_assert_max_num_queries
):
    small = LaunchFactory(created_by=people["media_buyer"], campaign_name="Small")
    big = _sibling(small, created_by=people["media_buyer"], campaign_name="Big")
    for launch in (small, big):
        policies.grant_role(people["media_buyer"], launch.brand, Role.MEDIA_BUYER)
        policies.grant_role(people["ops_lead"], launch.brand, Role.OPS_LEAD)
    _grow(small, 1, 1, people)
    _grow(big, 50, 20, people)
    client = people.client(principal)
    counts = {}
    for launch in (small, big):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(_url("launches:detail", launch))
        assert response.status_code == 200
        counts[launch.campaign_name] = len(captured)
    assert counts["Small"] == counts["Big"], counts
    with django_assert_max_num_queries(counts["Big"]):
        client.get(_url("launches:detail", big))
    # The polled fragment too (the ended run: with the state badge and the action bar).
    fragment = {}
    for launch in (small, big):
        url = _url("launches:run_status", launch, run_pk=launch.check_runs.get().pk)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, HTTP_HX_REQUEST="true").status_code == 286
        fragment[launch.campaign_name] = len(captured)
    assert fragment["Small"] == fragment["Big"], fragment


# --- bad input never answers 5xx (the shared fuzz suite's PAGES take a slug only) --------


NASTY = ["", " ", "\x00", "a\x00b", "0", "-1", "²", "١٢٣", "1" * 25, "9" * 40, "1e309", "NaN"]
nasty_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60))
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    query=st.dictionaries(st.sampled_from(["page", "extra"]), nasty_text, max_size=2),
    body=st.fixed_dictionaries(
        {}, optional={"version": nasty_text, "platform_campaign_id": nasty_text}
    ),
    htmx=st.booleans(),
)
def test_fuzzed_queries_and_bodies_never_answer_5xx(launch, people, query, body, htmx):
    _set_state(launch, "approved")
    client = people.client("media_buyer")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with transaction.atomic():
        responses = [
            client.get(_url("launches:detail", launch), query, **headers),
            client.post(_url("launches:mark_launched", launch), body, **headers),
            client.post(_url("launches:submit", launch), body, **headers),
            client.post(_url("launches:rerun", launch), body, **headers),
        ]
        transaction.set_rollback(True)
    for response in responses:
        assert response.status_code < 500, (query, body)


# --- the checklist component and the activity pages ------------------------------------------


def test_checks_component_needs_only_run_and_results(launch):
    """The review page includes ``_checks.html`` with ``run`` and ``results`` only."""
    from django.template.loader import render_to_string

    run = CheckRunFactory(launch=launch, state="error", message="The worker died.")
    failed = CheckResultFactory(
        run=run,
        position=0,
        status="fail",
        message="DE has no valid sign-off: ask a legal reviewer.",
        details={"missing_markets": ["DE", "AT"], "checked": True, "note": "<script>x</script>"},
    )
    CheckResultFactory(run=run, position=1, status="error", severity="advisory", details={})
    html = render_to_string(
        "launches/_checks.html", {"run": run, "results": list(run.results.all())}
    )
    assert f'data-check="{failed.key}" data-status="fail"' in html
    assert "Failed" in html and "Error" in html and "Advisory" in html and "Blocking" in html
    assert "<dt>Missing markets</dt><dd>DE, AT</dd>" in html and "<dd>yes</dd>" in html
    assert "&lt;script&gt;" in html and "<script>x" not in html
    assert html.count("<details") == 1  # a result without details has none
    assert "Overridden by" not in html
    assert "have not run yet" in render_to_string("launches/_checks.html", {"run": None})


def test_activity_is_paginated_with_htmx(launch, people, htmx_headers):
    from koastops.activity.services import activity_record

    for i in range(25):
        activity_record(
            verb="launch.updated",
            actor=people["media_buyer"],
            target=launch,
            brand=launch.brand,
            target_label=launch.label,
            after={"n": i},
        )
    client = people.client("ops_lead")
    page = client.get(_url("launches:detail", launch)).content.decode()
    assert page.count("edited a launch") == 20
    assert "Page 1 of 2 (25 in all)" in page
    response = client.get(
        _url("launches:detail", launch),
        {"page": "2"},
        HTTP_HX_TARGET="launch-activity",
        **htmx_headers,
    )
    html = response.content.decode()
    assert html.strip().startswith('<div id="launch-activity">')
    assert html.count("edited a launch") == 5
    assert launch.campaign_name not in html  # the fragment only
