"""The permission matrix: every URL pattern (pages, htmx fragments, API endpoints) x every
principal (admin, each role, outsider, anonymous, deactivated user; sessions for pages and
API tokens for the API) x own brand / foreign brand.

Expected outcomes are generated from the capability table in docs/permissions.md (the page
users read), not from the code under test. A URL without an entry in ``MATRIX`` fails.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.accounts.services import user_deactivate
from koastops.accounts.tokens import api_token_create
from tests.accounts.permissions_doc import capability_table, roles_allowed
from tests.factories import (
    AdAccountFactory,
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    EventDefinitionFactory,
    NamingRuleFactory,
    NotificationFactory,
    PixelFactory,
    UserFactory,
    WorkerPingFactory,
)

# How access is decided for a URL.
PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed-in"  # any active user; content is scoped to them
OWN_OBJECT = "own-object"  # any active user, on their own objects only (foreign: 404)


@dataclass(frozen=True)
class Entry:
    method: str  # GET, POST, PATCH, PUT or DELETE
    access: str  # PUBLIC, SIGNED_IN, OWN_OBJECT or a capability from docs/permissions.md
    brand_scoped: bool = False
    api: bool = False
    kwargs: Callable[[World, str], dict[str, Any]] = field(default=lambda world, scope: {})
    data: Callable[[World, str], dict[str, Any]] = field(default=lambda world, scope: {})
    query: str = ""
    success: str = "allow"  # what an allowed request looks like (logout: back to login)


def _slug(world: World, scope: str) -> dict[str, Any]:
    return {"slug": world.brands[scope].slug}


def _ad_account(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "pk": world.ad_accounts[scope].pk}


def _pixel(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "pk": world.pixels[scope].pk}


def _event(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "pk": world.events[scope].pk}


def _event_name(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "name": world.events[scope].name}


def _market(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "market": world.consent[scope].market.code.lower()}


def _decision_data(world: World, scope: str) -> dict[str, Any]:
    config = world.consent[scope]
    return {
        "decision": "rejected",
        "reasons": ["defaults"],
        "comment": "Matrix rejection",
        "content_hash": config.content_hash,
        "last_signoff": 0,
    }


def _level(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "level": "campaign"}


def _member(world: World, scope: str) -> dict[str, Any]:
    return {**_slug(world, scope), "user_id": world.members[scope].pk}


def _api_member(world: World, scope: str) -> dict[str, Any]:
    return {"slug": world.brands[scope].slug, "user_id": world.members[scope].pk}


def _role_data(world: World, scope: str) -> dict[str, Any]:
    return {"role": Role.ANALYST.value}


def _grant_data(world: World, scope: str) -> dict[str, Any]:
    return {"email": world.members[scope].email, "role": Role.ANALYST.value}


def _brand_data(world: World, scope: str) -> dict[str, Any]:
    return {"name": "Matrix brand"}


def _name_data(world: World, scope: str) -> dict[str, Any]:
    return {"name": "Matrix name"}


def _ad_account_data(world: World, scope: str) -> dict[str, Any]:
    return {
        "platform": "meta",
        "external_id": "act_424242",
        "name": "Matrix account",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
    }


def _pixel_data(world: World, scope: str) -> dict[str, Any]:
    return {"platform": "meta", "external_id": "424242424242", "name": "Matrix pixel"}


def _token_data(world: World, scope: str) -> dict[str, Any]:
    return {"access_token": "matrix-token"}


def _event_status_data(world: World, scope: str) -> dict[str, Any]:
    return {"status": "deprecated", "version": world.events[scope].version}


def _rule_form_data(world: World, scope: str) -> dict[str, Any]:
    """The rule editor's form (a one-token rule) with a name to try."""
    return {
        "template": "x_{seq}",
        "case": "lower",
        "max_length": 20,
        "tok-seq-kind": "number",
        "tok-seq-min_digits": 1,
        "tok-seq-max_digits": 3,
        "try_name": "x_12",
    }


def _event_data(world: World, scope: str) -> dict[str, Any]:
    return {"name": "MatrixNewEvent"}


def _status_data(world: World, scope: str) -> dict[str, Any]:
    return {"status": "deprecated"}


def _pull_run(world: World, scope: str) -> dict[str, Any]:
    """quality: pulls — a finished pull run of the scope's pixel."""
    from tests.factories import PullRunFactory

    run = PullRunFactory(pixel=world.pixels[scope])
    return {**_pixel(world, scope), "run_pk": run.pk}


def _brand_page(access: str, method: str = "GET", **extra: Any) -> Entry:
    extra.setdefault("kwargs", _slug)
    return Entry(method, access, brand_scoped=True, **extra)


def _api(access: str, method: str = "GET", **extra: Any) -> Entry:
    extra.setdefault("kwargs", _slug)
    return Entry(method, access, brand_scoped=access not in (PUBLIC, SIGNED_IN), api=True, **extra)


def _crm_import(world: World, scope: str) -> dict[str, Any]:
    # quality: crm — one import per brand, made on first use (the World has none)
    from koastops.quality.models import ConversionImport

    brand = world.brands[scope]
    record, _ = ConversionImport.objects.get_or_create(brand=brand, filename="matrix.csv")
    return {**_slug(world, scope), "pk": record.pk}


def _launch(world: World, scope: str, state: str = "draft") -> dict[str, Any]:
    """launches — one launch per brand and state, made on first use: on the World's ad
    account, pixel and event, drafted by the matrix's media buyer on the own brand (so the
    media buyer may edit, submit and cancel it, and every ops lead may review it)."""
    from koastops.launches.models import Launch
    from tests.factories import LaunchFactory

    brand = world.brands[scope]
    launch = Launch.objects.filter(brand=brand, state=state).first()
    if launch is None:
        creator = world.users["media_buyer"] if scope == "own" else world.members[scope]
        launch = LaunchFactory(
            brand=brand,
            ad_account=world.ad_accounts[scope],
            pixel=world.pixels[scope],
            optimization_event=world.events[scope],
            created_by=creator,
            state=state,
        )
    return {**_slug(world, scope), "pk": launch.pk}


def _comment_data(world: World, scope: str) -> dict[str, Any]:
    return {"comment": "Matrix comment"}


def _reason_data(world: World, scope: str) -> dict[str, Any]:
    return {"reason": "Matrix reason"}


def _campaign_id_data(world: World, scope: str) -> dict[str, Any]:
    return {"platform_campaign_id": "120210000000000001"}


def _launch_in(state: str) -> Callable[[World, str], dict[str, Any]]:
    return lambda world, scope: _launch(world, scope, state)


def _launch_run(world: World, scope: str) -> dict[str, Any]:
    """launches: detail — a finished check run of the scope's draft launch."""
    from koastops.launches.models import Launch
    from tests.factories import CheckRunFactory

    kwargs = _launch(world, scope)
    run = CheckRunFactory(launch=Launch.objects.get(pk=kwargs["pk"]))
    return {**kwargs, "run_pk": run.pk}


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

MATRIX: dict[str, Entry] = {
    # public and sign-in pages
    "home": Entry("GET", SIGNED_IN),
    "healthz": Entry("GET", PUBLIC),
    "readyz": Entry("GET", PUBLIC),
    "login": Entry("GET", PUBLIC),
    "logout": Entry("POST", PUBLIC, success="login"),
    "password_reset": Entry("GET", PUBLIC),
    "password_reset_done": Entry("GET", PUBLIC),
    "password_reset_confirm": Entry(
        "GET", PUBLIC, kwargs=lambda world, scope: {"uidb64": "MQ", "token": "bad-token"}
    ),
    "password_reset_complete": Entry("GET", PUBLIC),
    "password_change": Entry("GET", SIGNED_IN),
    "password_change_done": Entry("GET", SIGNED_IN),
    # own account
    "profile:detail": Entry("GET", SIGNED_IN),
    "profile:token_create": Entry(
        "POST", SIGNED_IN, data=lambda world, scope: {"name": "matrix", "expires_in_days": 30}
    ),
    "profile:token_revoke": Entry(
        "POST", OWN_OBJECT, kwargs=lambda world, scope: {"pk": world.token_ids[scope]}
    ),
    # install-wide
    "system:system": Entry("GET", "system.view"),
    "system:ping_create": Entry("POST", "system.view"),
    "system:ping_status": Entry(
        "GET", "system.view", kwargs=lambda world, scope: {"ping_id": world.ping.pk}
    ),
    # catalog pages
    "catalog:brand_list": Entry("GET", SIGNED_IN),
    "catalog:brand_create": Entry("GET", "brand.create"),
    "catalog:brand_detail": _brand_page("brand.view"),
    "catalog:brand_edit": _brand_page("brand.edit"),
    "catalog:brand_archive": _brand_page("brand.edit", "POST"),
    "catalog:brand_restore": _brand_page("brand.edit", "POST"),
    "catalog:ad_account_list": _brand_page("catalog.view"),
    "catalog:ad_account_create": _brand_page("catalog.manage"),
    "catalog:ad_account_edit": _brand_page("catalog.manage", kwargs=_ad_account),
    "catalog:ad_account_archive": _brand_page("catalog.manage", "POST", kwargs=_ad_account),
    "catalog:ad_account_restore": _brand_page("catalog.manage", "POST", kwargs=_ad_account),
    "catalog:pixel_list": _brand_page("catalog.view"),
    "catalog:pixel_create": _brand_page("catalog.manage"),
    "catalog:pixel_detail": _brand_page("catalog.view", kwargs=_pixel),
    "catalog:pixel_edit": _brand_page("catalog.manage", kwargs=_pixel),
    "catalog:pixel_token": _brand_page("catalog.manage", kwargs=_pixel),
    "catalog:pixel_archive": _brand_page("catalog.manage", "POST", kwargs=_pixel),
    "catalog:pixel_restore": _brand_page("catalog.manage", "POST", kwargs=_pixel),
    # members and activity pages
    "members:list": _brand_page("members.view"),
    "members:invite": _brand_page(
        "members.manage",
        "POST",
        data=lambda world, scope: {"email": "new.person@example.com", "role": "analyst"},
    ),
    # The invite form, fetched on demand: the same capability as the invitation itself.
    "members:invite_form": _brand_page("members.manage"),
    "members:role": _brand_page("members.manage", "POST", kwargs=_member, data=_role_data),
    # The change-role editor, fetched on demand: the same capability as the change itself.
    "members:role_edit": _brand_page("members.manage", kwargs=_member),
    "members:revoke": _brand_page("members.manage", "POST", kwargs=_member),
    "members:deactivate": _brand_page("members.manage", "POST", kwargs=_member),
    "activity:list": _brand_page("activity.view"),
    "activity:export": _brand_page("activity.export", query="format=csv"),
    # taxonomy: plan
    "taxonomy:plan": _brand_page("taxonomy.view"),
    "taxonomy:plan_apply_template": _brand_page("taxonomy.manage", "POST"),
    "taxonomy:event_create": _brand_page("taxonomy.manage"),
    "taxonomy:event_detail": _brand_page("taxonomy.view", kwargs=_event),
    "taxonomy:event_diff": _brand_page("taxonomy.view", kwargs=_event),
    "taxonomy:event_edit": _brand_page("taxonomy.manage", kwargs=_event),
    "taxonomy:event_status": _brand_page(
        "taxonomy.manage", "POST", kwargs=_event, data=_event_status_data
    ),
    # API v1
    # ninja's bare prefix: no operation lives there, so it is 404 for everyone.
    "api-v1:api-root": Entry("GET", PUBLIC, api=True, success="not-found"),
    "api-v1:openapi-json": Entry("GET", PUBLIC, api=True),
    "api-v1:not-found": Entry(
        "GET", PUBLIC, api=True, kwargs=lambda world, scope: {"path": "nope"}, success="not-found"
    ),
    "api-v1:openapi-view": Entry("GET", PUBLIC, api=True),
    "api-v1:brand_list": Entry("GET", SIGNED_IN, api=True),
    "api-v1:brand_detail": _api("brand.view"),
    "api-v1:ad_account_list": _api("catalog.view"),
    "api-v1:pixel_list": _api("catalog.view"),
    "api-v1:member_list": _api("members.view"),
    "api-v1:member_grant": _api("members.manage", "POST", data=_grant_data),
    "api-v1:member_revoke": _api("members.manage", "DELETE", kwargs=_api_member),
    "api-v1:activity_list": _api("activity.view"),
    # API v1 catalog writes (no If-Match sent: an allowed caller gets 428, past the policy)
    "api-v1:brand_create": Entry("POST", "brand.create", api=True, data=_brand_data),
    "api-v1:brand_update": _api("brand.edit", "PATCH", data=_name_data),
    "api-v1:brand_archive": _api("brand.edit", "POST"),
    "api-v1:brand_restore": _api("brand.edit", "POST"),
    "api-v1:ad_account_create": _api("catalog.manage", "POST", data=_ad_account_data),
    "api-v1:ad_account_detail": _api("catalog.view", kwargs=_ad_account),
    "api-v1:ad_account_update": _api(
        "catalog.manage", "PATCH", kwargs=_ad_account, data=_name_data
    ),
    "api-v1:ad_account_archive": _api("catalog.manage", "POST", kwargs=_ad_account),
    "api-v1:ad_account_restore": _api("catalog.manage", "POST", kwargs=_ad_account),
    "api-v1:pixel_create": _api("catalog.manage", "POST", data=_pixel_data),
    "api-v1:pixel_detail": _api("catalog.view", kwargs=_pixel),
    "api-v1:pixel_update": _api("catalog.manage", "PATCH", kwargs=_pixel, data=_name_data),
    "api-v1:pixel_archive": _api("catalog.manage", "POST", kwargs=_pixel),
    "api-v1:pixel_restore": _api("catalog.manage", "POST", kwargs=_pixel),
    "api-v1:pixel_token_set": _api("catalog.manage", "PUT", kwargs=_pixel, data=_token_data),
    "api-v1:pixel_token_remove": _api("catalog.manage", "DELETE", kwargs=_pixel),
    # taxonomy: naming
    "taxonomy:naming": _brand_page("naming.view"),
    "taxonomy:naming_test": _brand_page(
        "naming.view", query="level=campaign&name=de_leads_202605_x"
    ),
    "taxonomy:naming_build": _brand_page("naming.view"),
    "taxonomy:naming_bulk": _brand_page("naming.view"),
    "taxonomy:naming_edit": _brand_page("naming.manage", kwargs=_level),
    # The editor's live tester: the same capability as the editor (it reads no other data).
    "taxonomy:naming_edit_test": _brand_page(
        "naming.manage", "POST", kwargs=_level, data=_rule_form_data
    ),
    "taxonomy:naming_reset": _brand_page(
        "naming.manage", "POST", kwargs=_level, data=lambda world, scope: {"version": 1}
    ),
    "taxonomy_defaults:list": Entry("GET", "naming.defaults"),
    "taxonomy_defaults:edit": Entry(
        "GET", "naming.defaults", kwargs=lambda world, scope: {"level": "campaign"}
    ),
    "taxonomy_defaults:test": Entry(
        "POST",
        "naming.defaults",
        kwargs=lambda world, scope: {"level": "campaign"},
        data=_rule_form_data,
    ),
    "api-v1:naming_rule_list": _api("naming.view"),
    "api-v1:naming_validate": _api(
        "naming.view",
        "POST",
        data=lambda world, scope: {"level": "campaign", "names": ["de_lead_202605_x"]},
    ),
    # No If-Match sent: an allowed caller gets 428, past the policy.
    "api-v1:naming_rule_put": _api(
        "naming.manage", "PUT", kwargs=_level, data=lambda world, scope: {"spec": {}}
    ),
    # taxonomy: transfer (the events API; writes without If-Match get 428, past the policy)
    "taxonomy:plan_export": _brand_page("taxonomy.view"),
    "taxonomy:plan_import": _brand_page("taxonomy.manage"),
    "api-v1:event_list": _api("taxonomy.view"),
    "api-v1:event_detail": _api("taxonomy.view", kwargs=_event_name),
    "api-v1:event_create": _api("taxonomy.manage", "POST", data=_event_data),
    "api-v1:event_update": _api("taxonomy.manage", "PUT", kwargs=_event_name, data=_event_data),
    "api-v1:event_set_status": _api(
        "taxonomy.manage", "POST", kwargs=_event_name, data=_status_data
    ),
    "api-v1:plan_export": _api("taxonomy.view"),
    # taxonomy: drift
    "taxonomy:drift": _brand_page("taxonomy.view"),
    # consent (sign-off is role-bound: admin without the legal-reviewer role gets 403)
    "consent:matrix": _brand_page("consent.view"),
    "consent:settings": _brand_page(
        "consent.manage",
        "POST",
        data=lambda world, scope: {"signoff_validity_months": 6, "version": 1},
    ),
    "consent:evidence": _brand_page("consent.export", query="format=csv"),
    "consent:detail": _brand_page("consent.view", kwargs=_market),
    "consent:edit": _brand_page("consent.manage", kwargs=_market),
    "consent:review": _brand_page("consent.sign_off", kwargs=_market),
    "consent:review_decide": _brand_page(
        "consent.sign_off", "POST", kwargs=_market, data=_decision_data
    ),
    "consent:history": _brand_page("consent.view", kwargs=_market),
    "api-v1:consent_list": _api("consent.view"),
    "api-v1:consent_signoffs": _api("consent.view", kwargs=_market),
    # notifications: each user's own
    "notifications:list": Entry("GET", SIGNED_IN),
    "notifications:badge": Entry("GET", SIGNED_IN),
    "notifications:read": Entry("POST", SIGNED_IN),
    "notifications:open": Entry(
        "GET", OWN_OBJECT, kwargs=lambda world, scope: {"pk": world.notification_ids[scope]}
    ),
    # quality: crm (every role reads the imports and the reconciliation; analysts upload:
    # the POST of quality:conversions is tested in tests/quality/test_crm_views.py)
    "quality:conversions": _brand_page("quality.view"),
    "quality:conversions_template": _brand_page("quality.view"),
    "quality:import": _brand_page("quality.view", kwargs=_crm_import),
    "quality:reconciliation": _brand_page("quality.view"),
    "quality:reconciliation_export": _brand_page("quality.view"),
    "api-v1:conversions_ingest": _api(
        "conversions.upload", "POST", data=lambda world, scope: {"conversions": []}
    ),
    # quality: alerts
    "quality:alerts": _brand_page("quality.view", query="status=open&kind=silent&q=x"),
    "quality:alert_rules": _brand_page("quality.view"),
    "quality:alert_rule_new": _brand_page("quality.manage"),
    "quality:alert_rule_edit": _brand_page(
        "quality.manage", kwargs=lambda world, scope: _alert_rule_kwargs(world, scope)
    ),
    "quality:alert_rule_delete": _brand_page(
        "quality.manage",
        "POST",
        kwargs=lambda world, scope: _alert_rule_kwargs(world, scope),
        data=lambda world, scope: {"version": 1},
    ),
    "api-v1:alert_list": _api("quality.view", query="status=open"),
    # quality: pulls (refresh now and the polled status of a pull run)
    "quality:refresh": _brand_page("quality.refresh", "POST", kwargs=_pixel),
    "quality:pull_status": _brand_page("quality.view", kwargs=_pull_run),
    "quality:pull_status_latest": _brand_page("quality.view", kwargs=_pixel),
    # quality: pages
    "quality:pixels": _brand_page("quality.view", query="sort=-emq&show=problems"),
    "quality:pixel": _brand_page("quality.view", kwargs=_pixel, query="range=30d"),
    "quality:settings": _brand_page("quality.view"),
    "quality:connection": _brand_page(
        "quality.manage",
        "POST",
        kwargs=_pixel,
        data=lambda world, scope: {"provider": "demo", "version": 1},
    ),
    "quality_all:pixels": Entry("GET", SIGNED_IN, query="brand=own-brand"),
    "api-v1:quality_stats": _api(
        "quality.view", kwargs=_pixel, query="start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z"
    ),
    "api-v1:quality_detail": _api("quality.view", kwargs=_pixel),
    # launches: export and API
    "launches:export_csv": _brand_page("launch.export", kwargs=_launch_in("approved")),
    "launches:export_json": _brand_page("launch.export", kwargs=_launch_in("approved")),
    "api-v1:launch_list": _api("launch.view", query="state=draft"),
    "api-v1:launch_create": _api("launch.create", "POST", data=_name_data),
    "api-v1:launch_detail": _api("launch.view", kwargs=_launch),
    "api-v1:launch_update": _api("launch.edit", "PATCH", kwargs=_launch, data=_name_data),
    "api-v1:launch_checks": _api("launch.view", kwargs=_launch),
    "api-v1:launch_submit": _api("launch.submit", "POST", kwargs=_launch),
    "api-v1:launch_rerun": _api("launch.submit", "POST", kwargs=_launch),
    "api-v1:launch_approve": _api(
        "launch.approve", "POST", kwargs=_launch_in("in_review"), data=_comment_data
    ),
    "api-v1:launch_reject": _api(
        "launch.approve", "POST", kwargs=_launch_in("in_review"), data=_comment_data
    ),
    "api-v1:launch_request_changes": _api(
        "launch.approve", "POST", kwargs=_launch_in("in_review"), data=_comment_data
    ),
    "api-v1:launch_cancel": _api("launch.cancel", "POST", kwargs=_launch, data=_reason_data),
    "api-v1:launch_mark_launched": _api(
        "launch.export", "POST", kwargs=_launch_in("approved"), data=_campaign_id_data
    ),
    # launches: detail (re-run: the service refuses those without launch.submit, 403)
    "launches:detail": _brand_page("launch.view", kwargs=_launch),
    "launches:run_status": _brand_page("launch.view", kwargs=_launch_run),
    "launches:submit": _brand_page(
        "launch.submit", "POST", kwargs=_launch, data=lambda world, scope: {"version": 1}
    ),
    "launches:rerun": _brand_page(
        "launch.submit", "POST", kwargs=_launch, data=lambda world, scope: {"version": 1}
    ),
    "launches:mark_launched": _brand_page("launch.export", kwargs=_launch_in("approved")),
    # launches: review (the queue is every signed-in user's, scoped to the brands they approve on)
    "launches:review": _brand_page("launch.approve", kwargs=_launch_in("in_review")),
    "launches_global:queue": Entry("GET", SIGNED_IN, query="brand=own-brand&waiting=1h&q=x"),
    # launches: drafts (the matrix's launch is the media buyer's own, so edit / cancel pass)
    "launches:list": _brand_page("launch.view", query="q=x&state=draft&mine=1&sort=name"),
    "launches:new": _brand_page("launch.create"),
    "launches:edit": _brand_page("launch.edit", kwargs=_launch),
    "launches:structure_row": _brand_page("launch.edit", query="kind=ad_set&set=1"),
    "launches:name_check": _brand_page("naming.view", query="level=campaign&name=de_x"),
    "launches:duplicate": _brand_page("launch.create", "POST", kwargs=_launch),
    "launches:cancel": _brand_page("launch.cancel", kwargs=_launch),
    # launches: budget limits
    "launches:limits": _brand_page("launch.view"),
    "launches:limit_edit": _brand_page(
        "launch.limits",
        kwargs=lambda world, scope: {
            **_slug(world, scope),
            "account_pk": world.ad_accounts[scope].pk,
        },
    ),
}


def _alert_rule_kwargs(world: World, scope: str) -> dict[str, Any]:
    """quality: alerts. A fresh rule of the brand per case (the case's savepoint drops it)."""
    from tests.factories import AlertRuleFactory

    return {**_slug(world, scope), "pk": AlertRuleFactory(brand=world.brands[scope]).pk}


ROLE_PRINCIPALS = {
    "ops_lead": Role.OPS_LEAD,
    "media_buyer": Role.MEDIA_BUYER,
    "legal_reviewer": Role.LEGAL_REVIEWER,
    "analyst": Role.ANALYST,
}
PRINCIPALS = ["admin", *ROLE_PRINCIPALS, "outsider", "anonymous", "deactivated"]


def _url_names() -> set[str]:
    def walk(patterns, namespace: str | None) -> set[str]:
        names: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                ns = f"{namespace}:{inner}" if namespace and inner else inner or namespace
                names |= walk(pattern.url_patterns, ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        return names

    return walk(get_resolver().url_patterns, None)


def test_every_url_has_a_matrix_entry():
    """The Django admin guards its own URLs (staff only, tested below); everything else
    must be listed here, so a new URL cannot ship without its permission row."""
    names = {name for name in _url_names() if not name.startswith("admin:")}
    assert names - set(MATRIX) == set(), "URLs without a permission-matrix entry"
    assert set(MATRIX) - names == set(), "matrix entries for URLs that no longer exist"


def test_every_capability_used_here_is_in_the_docs():
    used = {entry.access for entry in MATRIX.values()} - {PUBLIC, SIGNED_IN, OWN_OBJECT}
    assert used <= set(capability_table())


# --- the world every matrix case runs in ---------------------------------------------------


@dataclass
class World:
    brands: dict[str, Any]
    ad_accounts: dict[str, Any]
    pixels: dict[str, Any]
    events: dict[str, Any]  # one active event definition per brand (tracking plan)
    rules: dict[str, Any]  # the brand's own campaign naming rule
    consent: dict[str, Any]  # the brand's consent config for Germany, never reviewed
    members: dict[str, Any]
    users: dict[str, Any]
    token_ids: dict[str, int]
    ping: Any
    notification_ids: dict[str, int]  # "own": the principal's, made by _client_for


@pytest.fixture
def world(db) -> World:
    """A fresh world for one test (the layout test borrows it, with a live server)."""
    return build_world()


@pytest.fixture(scope="module")
def _shared_world(django_db_setup, django_db_blocker):
    """One world for the whole matrix, built once per test process inside a transaction
    that is rolled back at the end; each case runs in a savepoint of it (``db``), so what
    a case writes is gone before the next. Building it per case was most of the time."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def matrix_world(_shared_world, db) -> World:
    """The shared world, with its users read again (a case may have changed one in
    memory, say deactivated it) and its mutable token ids copied."""
    users = User.objects.in_bulk([user.pk for user in _shared_world.users.values()])
    return dataclasses.replace(
        _shared_world,
        users={name: users[user.pk] for name, user in _shared_world.users.items()},
        token_ids=dict(_shared_world.token_ids),
        notification_ids=dict(_shared_world.notification_ids),
    )


def build_world() -> World:
    own, foreign = BrandFactory(slug="own-brand"), BrandFactory(slug="foreign-brand")
    brands = {"own": own, "foreign": foreign}
    ad_accounts = {scope: AdAccountFactory(brand=brand) for scope, brand in brands.items()}
    pixels = {scope: PixelFactory(brand=brand) for scope, brand in brands.items()}
    events = {
        scope: EventDefinitionFactory(brand=brand, name=f"Matrix{scope.title()}Event")
        for scope, brand in brands.items()
    }
    rules = {scope: NamingRuleFactory(brand=brand) for scope, brand in brands.items()}
    consent = {scope: ConsentConfigFactory(brand=brand) for scope, brand in brands.items()}
    users: dict[str, Any] = {"admin": AdminFactory(), "outsider": UserFactory()}
    for name, role in ROLE_PRINCIPALS.items():
        users[name] = UserFactory(email=f"{name}@example.com")
        policies.grant_role(users[name], own, role)
    # A member of each brand for the member endpoints to act on (only a role on that brand,
    # so an ops lead of it may deactivate them).
    members = {}
    for scope, brand in brands.items():
        members[scope] = UserFactory(email=f"member.{scope}@example.com")
        policies.grant_role(members[scope], brand, Role.ANALYST)
    users["deactivated"] = UserFactory(email="deactivated@example.com")
    policies.grant_role(users["deactivated"], own, Role.OPS_LEAD)
    other = UserFactory(email="someone.else@example.com")
    return World(
        brands=brands,
        ad_accounts=ad_accounts,
        pixels=pixels,
        events=events,
        rules=rules,
        consent=consent,
        members=members,
        users=users,
        token_ids={"foreign": api_token_create(user=other, name="not yours")[0].pk},
        ping=WorkerPingFactory(requested_by=users["admin"]),
        notification_ids={"foreign": NotificationFactory(user=other, brand=None, url="/").pk},
    )


def _client_for(world: World, principal: str, *, api: bool) -> tuple[Client, dict[str, str]]:
    client = Client()
    headers: dict[str, str] = {}
    user = world.users.get(principal)
    if user is None:  # anonymous: aims at somebody's token, and must be sent to sign in
        world.token_ids["own"] = world.token_ids["foreign"]
        world.notification_ids["own"] = world.notification_ids["foreign"]
        return client, headers
    token, raw = api_token_create(user=user, name="matrix")
    world.token_ids["own"] = token.pk
    world.notification_ids["own"] = NotificationFactory(user=user, brand=None, url="/").pk
    if api:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    else:
        client.force_login(user)
    if principal == "deactivated":
        user_deactivate(actor=world.users["admin"], user=user)
    return client, headers


def expected(entry: Entry, principal: str, scope: str) -> str:
    signed_out = principal in ("anonymous", "deactivated")
    if entry.access == PUBLIC:
        return entry.success
    if signed_out:
        return "unauthorized" if entry.api else "login"
    if entry.access == SIGNED_IN:
        return entry.success
    if entry.access == OWN_OBJECT:
        return entry.success if scope == "own" else "not-found"
    if principal == "admin":
        # Admin passes every capability but the role-bound ones (segregation of duties);
        # the matrix's admin holds no role, so it sees the brand but may not act.
        if capability_table()[entry.access]["admin"]:
            return entry.success
        return "forbidden"
    if entry.brand_scoped:
        if principal == "outsider" or scope == "foreign":
            return "not-found"
        allowed = ROLE_PRINCIPALS[principal] in roles_allowed(entry.access)
        return entry.success if allowed else "forbidden"
    return "forbidden"  # install-wide capability: admin only


def outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}"
    if status == 404:
        return "not-found"
    if status == 403:
        return "forbidden"
    if status == 401:
        return "unauthorized"
    if status in (301, 302) and "/accounts/login/" in response.get("Location", ""):
        return "login"
    if status == 200 and response.get("HX-Redirect", "").startswith("/accounts/login/"):
        return "login"  # htmx: the browser goes to the sign-in page (koastops.core.login)
    if status == 405:
        return "wrong-method"
    return "allow"


CASES = [
    pytest.param(name, principal, id=f"{name}-{principal}")
    for name in sorted(MATRIX)
    for principal in PRINCIPALS
]


@pytest.mark.parametrize(("name", "principal"), CASES)
def test_permission_matrix(matrix_world, name, principal):
    world = matrix_world
    entry = MATRIX[name]
    scopes = ["own", "foreign"] if entry.brand_scoped or entry.access == OWN_OBJECT else ["own"]
    client, headers = _client_for(world, principal, api=entry.api)
    results = {}
    for scope in scopes:
        url = reverse(name, kwargs=entry.kwargs(world, scope) or None)
        if entry.query:
            url = f"{url}?{entry.query}"
        data = entry.data(world, scope)
        variants = [{}]
        if entry.method == "GET" and not entry.api:
            variants.append({"HTTP_HX_REQUEST": "true"})  # the htmx fragment of the page
        for extra in variants:
            if entry.method == "GET":
                response = client.get(url, **headers, **extra)
            elif entry.api:
                response = client.generic(
                    entry.method,
                    url,
                    data=json.dumps(data) if data else "",
                    content_type="application/json",
                    **headers,
                )
            else:
                response = client.post(url, data, **headers, **extra)
            results[(scope, bool(extra))] = (outcome(response), expected(entry, principal, scope))
    unexpected = {key: got for key, (got, want) in results.items() if got != want}
    assert not unexpected, {key: results[key] for key in unexpected}


# --- lists return exactly the rows the principal may see ------------------------------------


@pytest.mark.parametrize("principal", ["admin", *ROLE_PRINCIPALS, "outsider"])
def test_brand_lists_show_exactly_the_brands_with_a_role(matrix_world, principal):
    world = matrix_world
    user = world.users[principal]
    expected_slugs = {"own-brand", "foreign-brand"} if principal == "admin" else set()
    if principal in ROLE_PRINCIPALS:
        expected_slugs = {"own-brand"}
    client = Client()
    client.force_login(user)
    page = client.get(reverse("catalog:brand_list"), {"status": "all"})
    shown = {slug for slug in ("own-brand", "foreign-brand") if f"/brands/{slug}/" in page.text}
    assert shown == expected_slugs
    _, raw = api_token_create(user=user, name="list")
    body = client.get(
        reverse("api-v1:brand_list"), {"status": "all"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    ).json()
    assert {item["slug"] for item in body["items"]} == expected_slugs


def test_narrowed_media_buyer_lists_only_chosen_ad_accounts(matrix_world):
    world = matrix_world
    buyer, own = world.users["media_buyer"], world.brands["own"]
    hidden = AdAccountFactory(brand=own, name="Hidden account")
    policies.set_ad_account_narrowing(buyer, own, [world.ad_accounts["own"]])
    client = Client()
    client.force_login(buyer)
    page = client.get(reverse("catalog:ad_account_list", kwargs={"slug": own.slug}))
    assert world.ad_accounts["own"].name in page.text
    assert hidden.name not in page.text
    _, raw = api_token_create(user=buyer, name="list")
    body = client.get(
        reverse("api-v1:ad_account_list", kwargs={"slug": own.slug}),
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    ).json()
    assert [item["external_id"] for item in body["items"]] == [world.ad_accounts["own"].external_id]


@pytest.mark.parametrize("principal", ["admin", *ROLE_PRINCIPALS, "outsider"])
def test_admin_site_is_for_staff_only(matrix_world, principal):
    world = matrix_world
    client = Client()
    client.force_login(world.users[principal])
    response = client.get("/admin/")
    if principal == "admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
