"""The launches API: the list (visible launches only, filters, pagination, constant
queries), create (201, 422 by field path), the detail (ETag, structure, latest run),
PATCH (If-Match: 428 / 412 / 409, partial merge, voiding an approval), the transitions
(submit, rerun, approve with overrides, reject, request changes, cancel, launched; four
eyes 403; wrong state 409; stale 412) and the checks of a run — through the same services
as the pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import inputs, services
from koastops.launches.models import CheckResult, CheckRun, Launch
from tests.api.conftest import API, ApiClient, token_for
from tests.factories import (
    AdAccountFactory,
    BrandFactory,
    LaunchFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


class Client(ApiClient):
    def send(self, method: str, path: str, body: Any = None, if_match: Any = None) -> Any:
        headers = self._headers()
        if if_match is not None:
            headers["HTTP_IF_MATCH"] = f'"{if_match}"'
        return self.client.generic(
            method,
            API + path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            **headers,
        )


def _client(user) -> Client:
    return Client(token_for(user))


@pytest.fixture
def launch():
    return LaunchFactory(campaign_name="Spring DE launch")


@pytest.fixture
def buyer(launch):
    policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
    return launch.created_by


@pytest.fixture
def lead(launch):
    user = UserFactory(email="lead@example.com")
    policies.grant_role(user, launch.brand, Role.OPS_LEAD)
    return user


def _sibling(launch: Launch, **kwargs: Any) -> Launch:
    """Another launch of the same brand (its event: the brand's plan has one Purchase)."""
    kwargs.setdefault("ad_account", launch.ad_account)
    kwargs.setdefault("pixel", launch.pixel)
    return LaunchFactory(brand=launch.brand, optimization_event=launch.optimization_event, **kwargs)


def _base(launch: Launch) -> str:
    return f"/brands/{launch.brand.slug}/launches"


def _one(launch: Launch) -> str:
    return f"{_base(launch)}/{launch.pk}"


def _fields(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    found: dict[str, list[str]] = {}
    for error in response.json()["detail"]:
        found.setdefault(str(error["loc"][-1]), []).append(error["msg"])
    return found


def _finish(run_id: int, status: str = "pass") -> None:
    CheckResult.objects.filter(run_id=run_id).update(status=status)
    services.run_finished(run_id=run_id)


def _in_review(launch: Launch, buyer) -> Launch:
    run = services.launch_submit(user=buyer, launch=launch, expected_version=launch.version)
    _finish(run.pk)
    launch.refresh_from_db()
    assert launch.state == "in_review"
    return launch


def test_urls_are_the_named_ones():
    assert reverse("api-v1:launch_list", args=["b"]) == "/api/v1/brands/b/launches"
    assert reverse("api-v1:launch_detail", args=["b", 3]) == "/api/v1/brands/b/launches/3"
    assert reverse("api-v1:launch_checks", args=["b", 3]) == "/api/v1/brands/b/launches/3/checks"
    assert (
        reverse("api-v1:launch_request_changes", args=["b", 3])
        == "/api/v1/brands/b/launches/3/request-changes"
    )


# --- the list -------------------------------------------------------------------------------


def test_list_shows_exactly_the_visible_launches_and_filters(launch, buyer):
    brand = launch.brand
    second_account = AdAccountFactory(brand=brand, name="Second account")
    other = _sibling(
        launch, ad_account=second_account, campaign_name="Autumn FR marker", state="ready"
    )
    LaunchFactory(campaign_name="Foreign marker")  # another brand
    lead = UserFactory()
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    body = _client(lead).get(_base(launch)).json()
    assert body["count"] == 2 and body["page"] == 1
    assert {item["campaign_name"] for item in body["items"]} == {
        "Spring DE launch",
        "Autumn FR marker",
    }
    item = next(i for i in body["items"] if i["id"] == other.pk)
    assert item["ad_account"]["name"] == "Second account" and item["state"] == "ready"
    client = _client(lead)
    assert [i["id"] for i in client.get(_base(launch), {"state": "ready"}).json()["items"]] == [
        other.pk
    ]
    by_account = client.get(_base(launch), {"ad_account": launch.ad_account_id}).json()
    assert [i["id"] for i in by_account["items"]] == [launch.pk]
    assert [i["id"] for i in client.get(_base(launch), {"q": "autumn"}).json()["items"]] == [
        other.pk
    ]
    # A narrowed media buyer sees only the launches on their accounts: no name of the other.
    policies.set_ad_account_narrowing(buyer, brand, [launch.ad_account])
    response = _client(buyer).get(_base(launch))
    assert [i["id"] for i in response.json()["items"]] == [launch.pk]
    assert "Autumn FR marker" not in response.content.decode()
    assert "Second account" not in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"state": "nope"}, {"ad_account": "x"}, {"ad_account": "0"}, {"q": "a\x00b"}, {"page": 0}],
)
def test_list_bad_filters_are_422_by_field(launch, lead, params):
    response = _client(lead).get(_base(launch), params)
    assert response.status_code == 422, response.content
    assert next(iter(params)) in json.dumps(response.json()["detail"])


def test_list_is_paginated_and_answers_in_constant_queries(launch, lead):
    client = _client(lead)
    client.get(_base(launch))  # the token's first use writes its last_used_at
    with CaptureQueriesContext(connection) as one:
        assert client.get(_base(launch)).status_code == 200
    for _ in range(49):
        _sibling(launch, structure=False)
    with CaptureQueriesContext(connection) as many:
        body = client.get(_base(launch), {"page_size": 100}).json()
    assert body["count"] == 50 and len(body["items"]) == 50
    assert len(many) == len(one)
    page = client.get(_base(launch), {"page": 2, "page_size": 20}).json()
    assert len(page["items"]) == 20 and page["count"] == 50


def test_foreign_brand_and_outsiders_get_404(launch, lead):
    outsider = UserFactory()
    policies.grant_role(outsider, BrandFactory(), Role.OPS_LEAD)
    client = _client(outsider)
    assert client.get(_base(launch)).status_code == 404
    assert client.get(_one(launch)).status_code == 404
    # An id of another brand's launch under the own brand is 404 too.
    foreign = LaunchFactory()
    assert _client(lead).get(f"{_base(launch)}/{foreign.pk}").status_code == 404
    assert _client(lead).get(f"{_base(launch)}/{foreign.pk}/checks").status_code == 404


# --- create ---------------------------------------------------------------------------------


def _body(launch: Launch, **changes: Any) -> dict[str, Any]:
    data = inputs.as_data(Launch.objects.get(pk=launch.pk))
    data.update(changes)
    return data


def test_create_answers_201_with_the_launch(launch, buyer):
    body = _body(launch, campaign_name="Created by API")
    body["start_at"] = "2030-03-01T09:00:00"  # naive: the account's zone (Europe/Berlin)
    body["end_at"] = None
    response = _client(buyer).post(_base(launch), body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["state"] == "draft" and created["version"] == 1
    assert response["ETag"] == '"1"'
    assert created["campaign_name"] == "Created by API"
    assert created["start_at"] == "2030-03-01T09:00:00+01:00"
    assert created["ad_sets"][0]["ads"][0]["landing_url"] == "https://shop.example/landing"
    stored = Launch.objects.get(pk=created["id"])
    assert stored.created_by == buyer and stored.content_hash == created["content_hash"]


def test_create_names_each_bad_field_by_its_path(launch, buyer):
    body = _body(launch)
    body["ad_sets"][0]["ads"].append({"name": "Second", "landing_url": "ftp://x"})
    body["budget_amount"] = "-3"
    body["pixel"] = 10**12
    errors = _fields(_client(buyer).post(_base(launch), body))
    assert set(errors) >= {"ad_sets.0.ads.1.landing_url", "budget_amount", "pixel"}
    assert not Launch.objects.exclude(pk=launch.pk).exists()


@pytest.mark.parametrize(
    "body", [{}, {"ad_sets": "x"}, {"markets": 3, "ad_sets": [{"ads": [{}]}]}, []]
)
def test_create_with_nonsense_is_422_not_500(launch, buyer, body):
    assert _client(buyer).post(_base(launch), body).status_code == 422


def test_create_needs_launch_create(launch):
    analyst = UserFactory()
    policies.grant_role(analyst, launch.brand, Role.ANALYST)
    assert _client(analyst).post(_base(launch), _body(launch)).status_code == 403


# --- detail ---------------------------------------------------------------------------------


def test_detail_has_structure_version_etag_hash_and_latest_run(launch, buyer):
    client = _client(buyer)
    response = client.get(_one(launch))
    body = response.json()
    assert response["ETag"] == '"1"' and body["version"] == 1
    assert body["content_hash"] == launch.content_hash and body["latest_run"] is None
    assert body["ad_sets"] == inputs.as_data(launch)["ad_sets"]
    assert body["ad_account"] == launch.ad_account_id and body["markets"] == ["DE"]
    services.launch_submit(user=buyer, launch=launch, expected_version=1)
    body = client.get(_one(launch)).json()
    assert body["state"] == "checking" and body["version"] == 2
    assert body["latest_run"]["state"] == "queued" and body["latest_run"]["current"] is True


def test_narrowed_media_buyer_gets_404_for_a_launch_on_another_account(launch, buyer):
    policies.set_ad_account_narrowing(buyer, launch.brand, [AdAccountFactory(brand=launch.brand)])
    client = _client(buyer)
    assert client.get(_one(launch)).status_code == 404
    assert client.get(f"{_one(launch)}/checks").status_code == 404
    assert client.send("POST", f"{_one(launch)}/submit", if_match=1).status_code == 404


# --- PATCH ----------------------------------------------------------------------------------


def test_patch_needs_if_match_and_refuses_a_stale_version(launch, buyer):
    client = _client(buyer)
    missing = client.send("PATCH", _one(launch), {"campaign_name": "New"})
    assert missing.status_code == 428 and missing.json()["field"] == "If-Match"
    stale = client.send("PATCH", _one(launch), {"campaign_name": "New"}, if_match=7)
    assert stale.status_code == 412
    assert stale.json() == {
        "detail": stale.json()["detail"],
        "field": "If-Match",
        "version": 1,
    }
    malformed = client.client.generic(
        "PATCH",
        API + _one(launch),
        "{}",
        content_type="application/json",
        HTTP_IF_MATCH="*",
        **client._headers(),
    )
    assert malformed.status_code == 422
    assert Launch.objects.get(pk=launch.pk).campaign_name == "Spring DE launch"


def test_patch_merges_a_partial_body_and_ad_sets_replace_the_structure(launch, buyer):
    client = _client(buyer)
    response = client.send("PATCH", _one(launch), {"campaign_name": "Renamed"}, if_match=1)
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    body = response.json()
    assert body["campaign_name"] == "Renamed" and len(body["ad_sets"]) == 1
    new_sets = [
        {
            "name": "Only set",
            "market": "DE",
            "ads": [
                {"name": "A", "landing_url": "https://a.example.com/"},
                {"name": "B", "landing_url": "https://b.example.com/", "utm_source": "fb"},
            ],
        }
    ]
    body = client.send("PATCH", _one(launch), {"ad_sets": new_sets}, if_match=2).json()
    assert [ad["name"] for ad in body["ad_sets"][0]["ads"]] == ["A", "B"]
    assert body["ad_sets"][0]["ads"][1]["utm_source"] == "fb"
    assert body["campaign_name"] == "Renamed" and body["version"] == 3


def test_patch_422_names_the_path_and_changes_nothing(launch, buyer):
    sets = inputs.as_data(launch)["ad_sets"]
    sets[0]["ads"].append({"name": "", "landing_url": "not a url"})
    errors = _fields(_client(buyer).send("PATCH", _one(launch), {"ad_sets": sets}, if_match=1))
    assert set(errors) == {"ad_sets.0.ads.1.name", "ad_sets.0.ads.1.landing_url"}
    assert Launch.objects.get(pk=launch.pk).version == 1


def test_patch_while_checking_is_409(launch, buyer):
    services.launch_submit(user=buyer, launch=launch, expected_version=1)
    response = _client(buyer).send("PATCH", _one(launch), {"campaign_name": "X"}, if_match=2)
    assert response.status_code == 409
    assert response.json()["field"] == "state" and "checks are running" in response.json()["detail"]


def test_patch_of_an_approved_launch_voids_the_approval(launch, buyer, lead):
    _in_review(launch, buyer)
    services.launch_approve(user=lead, launch=launch, expected_version=launch.version)
    launch.refresh_from_db()
    assert _client(buyer).get(_one(launch)).json()["approval"]["approved_by"] == lead.email
    response = _client(buyer).send(
        "PATCH", _one(launch), {"campaign_name": "Changed after approval"}, if_match=launch.version
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "draft" and response.json()["approval"] is None
    assert Launch.objects.get(pk=launch.pk).approved_hash == ""


def test_another_media_buyers_launch_cannot_be_edited(launch, buyer):
    other = UserFactory()
    policies.grant_role(other, launch.brand, Role.MEDIA_BUYER)
    response = _client(other).send("PATCH", _one(launch), {"campaign_name": "X"}, if_match=1)
    assert response.status_code == 403


# --- transitions ----------------------------------------------------------------------------


def test_submit_then_checks_then_approve_then_launched(launch, buyer, lead):
    client = _client(buyer)
    response = client.send("POST", f"{_one(launch)}/submit", if_match=1)
    assert response.status_code == 200, response.content
    run_id = response.json()["latest_run"]["id"]
    assert response.json()["state"] == "checking" and response["ETag"] == '"2"'
    checks = client.get(f"{_one(launch)}/checks").json()
    assert checks["run"]["id"] == run_id and checks["run"]["state"] == "queued"
    assert [r["status"] for r in checks["results"]] == ["pending"] * len(checks["results"])
    positions = list(
        CheckResult.objects.filter(run_id=run_id).order_by("position").values_list("key", flat=True)
    )
    assert [r["key"] for r in checks["results"]] == positions
    _finish(run_id)
    version = Launch.objects.get(pk=launch.pk).version
    approved = _client(lead).send(
        "POST", f"{_one(launch)}/approve", {"comment": "Fine"}, if_match=version
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved"
    assert approved.json()["approval"]["content_hash"] == launch.content_hash
    version = approved.json()["version"]
    bad = client.send(
        "POST", f"{_one(launch)}/launched", {"platform_campaign_id": "abc"}, if_match=version
    )
    assert set(_fields(bad)) == {"platform_campaign_id"}
    done = client.send(
        "POST",
        f"{_one(launch)}/launched",
        {"platform_campaign_id": "120210000000000001"},
        if_match=version,
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "launched"
    assert done.json()["platform_campaign_id"] == "120210000000000001"


def test_approve_own_launch_is_403_with_its_message(launch, lead):
    own = _sibling(launch, created_by=lead)
    _in_review(own, lead)
    response = _client(lead).send("POST", f"{_one(own)}/approve", {}, if_match=own.version)
    assert response.status_code == 403
    assert response.json()["detail"] == str(services.OwnWork().args[0])
    assert Launch.objects.get(pk=own.pk).state == "in_review"


def test_media_buyer_cannot_approve(launch, buyer):
    _in_review(launch, buyer)
    response = _client(buyer).send("POST", f"{_one(launch)}/approve", {}, if_match=launch.version)
    assert response.status_code == 403


def test_a_blocking_failure_needs_an_override_named_by_its_key(launch, buyer, lead):
    _in_review(launch, buyer)
    result = CheckResult.objects.filter(run=launch.current_run, severity="blocking").first()
    CheckResult.objects.filter(pk=result.pk).update(status="fail")
    client = _client(lead)
    refused = client.send("POST", f"{_one(launch)}/approve", {}, if_match=launch.version)
    assert set(_fields(refused)) == {f"overrides.{result.key}"}
    checks = client.get(f"{_one(launch)}/checks").json()
    failed = next(r for r in checks["results"] if r["key"] == result.key)
    assert failed["status"] == "fail" and failed["overridden"] is False
    approved = client.send(
        "POST",
        f"{_one(launch)}/approve",
        {"overrides": {result.key: "Signed on paper."}},
        if_match=launch.version,
    )
    assert approved.status_code == 200, approved.content
    checks = client.get(f"{_one(launch)}/checks").json()
    assert next(r for r in checks["results"] if r["key"] == result.key)["overridden"] is True


def test_reject_and_request_changes_need_a_comment(launch, buyer, lead):
    _in_review(launch, buyer)
    client = _client(lead)
    for action in ("reject", "request-changes"):
        response = client.send("POST", f"{_one(launch)}/{action}", {}, if_match=launch.version)
        assert set(_fields(response)) == {"comment"}
    response = client.send(
        "POST", f"{_one(launch)}/request-changes", {"comment": "Fix it"}, if_match=launch.version
    )
    assert response.status_code == 200 and response.json()["state"] == "needs_changes"
    # Not in review any more: rejecting now is the wrong state.
    response = client.send(
        "POST", f"{_one(launch)}/reject", {"comment": "No"}, if_match=response.json()["version"]
    )
    assert response.status_code == 409 and response.json()["field"] == "state"


def test_reject_is_final(launch, buyer, lead):
    _in_review(launch, buyer)
    response = _client(lead).send(
        "POST", f"{_one(launch)}/reject", {"comment": "Not this"}, if_match=launch.version
    )
    assert response.status_code == 200 and response.json()["state"] == "rejected"


def test_stale_transition_is_412_with_the_current_version(launch, buyer):
    response = _client(buyer).send("POST", f"{_one(launch)}/submit", if_match=5)
    assert response.status_code == 412 and response.json()["version"] == 1
    assert not CheckRun.objects.filter(launch=launch).exists()
    missing = _client(buyer).send("POST", f"{_one(launch)}/cancel")
    assert missing.status_code == 428


def test_rerun_and_cancel(launch, buyer):
    client = _client(buyer)
    rerun = client.send("POST", f"{_one(launch)}/rerun", if_match=1)
    assert rerun.status_code == 200 and rerun.json()["state"] == "checking"
    again = client.send("POST", f"{_one(launch)}/rerun", if_match=2)
    assert again.status_code == 409
    cancelled = client.send("POST", f"{_one(launch)}/cancel", {"reason": "Not now"}, if_match=2)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["latest_run"]["state"] == "cancelled"
    assert client.send("POST", f"{_one(launch)}/cancel", if_match=3).status_code == 409


def test_checks_of_an_older_run_and_of_another_launchs_run(launch, buyer):
    first = services.launch_rerun_checks(user=buyer, launch=launch, expected_version=1)
    _finish(first.pk, "warn")
    launch.refresh_from_db()
    second = services.launch_submit(user=buyer, launch=launch, expected_version=launch.version)
    client = _client(buyer)
    assert client.get(f"{_one(launch)}/checks").json()["run"]["id"] == second.pk
    older = client.get(f"{_one(launch)}/checks", {"run": first.pk}).json()
    assert older["run"]["id"] == first.pk and older["run"]["state"] == "done"
    assert {r["status"] for r in older["results"]} == {"warn"}
    other = _sibling(launch, created_by=buyer)
    foreign_run = services.launch_submit(user=buyer, launch=other, expected_version=1)
    assert client.get(f"{_one(launch)}/checks", {"run": foreign_run.pk}).status_code == 404
    never = _sibling(launch)
    assert client.get(f"{_one(never)}/checks").json() == {"run": None, "results": []}


def test_detail_and_checks_answer_in_constant_queries(launch, buyer):
    client = _client(buyer)
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    _finish(run.pk)
    client.get(_one(launch))  # the token's first use writes its last_used_at
    small = (client.count_queries(_one(launch)), client.count_queries(f"{_one(launch)}/checks"))
    big = _sibling(launch, created_by=buyer)
    sets = [
        {
            "name": f"Set {i}",
            "market": "DE",
            "ads": [
                {"name": f"Ad {i}.{j}", "landing_url": "https://x.example.com/"} for j in range(5)
            ],
        }
        for i in range(8)
    ]
    services.launch_update(
        user=buyer, launch=big, data=_body(big, ad_sets=sets), expected_version=1
    )
    run = services.launch_submit(user=buyer, launch=big, expected_version=2)
    _finish(run.pk)
    large = (client.count_queries(_one(big)), client.count_queries(f"{_one(big)}/checks"))
    assert small == large


def test_pixel_of_another_platform_is_422(launch, buyer):
    pixel = PixelFactory(brand=launch.brand, platform="google")
    errors = _fields(_client(buyer).post(_base(launch), _body(launch, pixel=pixel.pk)))
    assert "pixel" in errors


# --- fuzzed bodies against a real launch --------------------------------------------------

_NASTY = ["", " ", "\x00", "a\x00b", "-1", "1e309", "NaN", "DE", "de", "https://x.example/"]
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(_NASTY),
)
_value = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
_ad = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("name", "landing_url", "utm_source", "utm_term"), _value)
)
_ad_set = st.fixed_dictionaries(
    {},
    optional={"name": _value, "market": _value, "ads": st.one_of(_value, st.lists(_ad))},
)
_launch_body = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(
            (
                "ad_account",
                "pixel",
                "objective",
                "optimization_event",
                "markets",
                "budget_type",
                "budget_amount",
                "start_at",
                "end_at",
                "campaign_name",
            ),
            _value,
        ),
        "ad_sets": st.one_of(_value, st.lists(_ad_set, max_size=3)),
    },
)
_BODIES = {
    "": _launch_body,
    "/approve": st.fixed_dictionaries({}, optional={"comment": _value, "overrides": _value}),
    "/reject": st.fixed_dictionaries({}, optional={"comment": _value}),
    "/cancel": st.fixed_dictionaries({}, optional={"reason": _value}),
    "/launched": st.fixed_dictionaries({}, optional={"platform_campaign_id": _value}),
}


@pytest.mark.parametrize("action", ["create", "patch", *list(_BODIES)[1:]])
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_bodies_never_answer_5xx(launch, buyer, lead, action, data):
    body = data.draw(st.one_of(_BODIES["" if action in ("create", "patch") else action], _value))
    if action in ("create", "patch") and data.draw(st.booleans()):
        # A valid launch with one field (or one ad's field) replaced by something odd.
        body = _body(launch)
        key = data.draw(st.sampled_from([*body, "ad", "ad_set"]))
        if key == "ad":
            body["ad_sets"][0]["ads"][0][data.draw(st.sampled_from(["name", "landing_url"]))] = (
                data.draw(_value)
            )
        elif key == "ad_set":
            body["ad_sets"][0][data.draw(st.sampled_from(["name", "market", "ads"]))] = data.draw(
                _value
            )
        else:
            body[key] = data.draw(_value)
    user = lead if action in ("/approve", "/reject") else buyer
    if action == "create":
        method, path, if_match = "POST", _base(launch), None
    elif action == "patch":
        method, path, if_match = "PATCH", _one(launch), 1
    else:
        method, path, if_match = "POST", _one(launch) + action, data.draw(st.integers(0, 3))
    client = _client(user)
    with transaction.atomic():
        response = client.send(method, path, body, if_match=if_match)
        transaction.set_rollback(True)
    assert response.status_code < 500, (action, body, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


def test_submitted_launch_runs_the_real_checks_and_the_api_reports_them(launch, buyer, lead):
    """The registry's own checks (executed in process by ``runner.run_inline``; the
    Celery path is the runner's): a start in the past fails ``schedule.valid``, which the
    checks endpoint reports with its message, and approving needs its override."""
    from koastops.launches import runner
    from koastops.launches.checks import registry

    Launch.objects.filter(pk=launch.pk).update(start_at=timezone.now() - dt.timedelta(hours=1))
    client = _client(buyer)
    submitted = client.send("POST", f"{_one(launch)}/submit", if_match=1).json()
    runner.run_inline(submitted["latest_run"]["id"])
    checks = client.get(f"{_one(launch)}/checks").json()
    assert checks["run"]["state"] == "done"
    assert checks["run"]["completed"] == checks["run"]["total"] == len(registry.all_checks())
    assert [r["key"] for r in checks["results"]] == [c.key for c in registry.all_checks()]
    schedule = next(r for r in checks["results"] if r["key"] == "schedule.valid")
    assert schedule["status"] == "fail" and "start time has passed" in schedule["message"]
    detail = client.get(_one(launch)).json()
    assert detail["state"] == "in_review" and detail["latest_run"]["blocking_failed"] >= 1
    refused = _client(lead).send("POST", f"{_one(launch)}/approve", {}, if_match=detail["version"])
    assert "overrides.schedule.valid" in _fields(refused)


def test_a_gets_body_posts_back_as_the_same_content(launch, buyer):
    client = _client(buyer)
    body = client.get(_one(launch)).json()
    created = client.post(_base(launch), body)
    assert created.status_code == 201, created.content
    assert created.json()["content_hash"] == launch.content_hash
    assert created.json()["id"] != launch.pk
