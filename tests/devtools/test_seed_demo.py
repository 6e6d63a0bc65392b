"""The ``seed_demo`` management command: demo data for a first look, idempotent."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from koastops.accounts.models import User
from koastops.catalog.models import AdAccount, Brand, Pixel
from koastops.core import crypto

pytestmark = pytest.mark.django_db

ROLE_PREFIXES = ("ops", "buyer", "legal", "analyst")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Each run hashes 14 passwords; the production hasher would make this module slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """The demo data, seeded once per test process inside a transaction rolled back at the
    end; each test runs in a savepoint of it (``db``), so what a test changes (a second run,
    a deleted event) is gone before the next. Seeding per test was most of this module's
    time. Returns the command's output."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            # The demo launches' landing URLs on .example hosts, as in DEBUG (the checks
            # part answers them with a labelled demo page).
            LAUNCH_DEMO_LANDING_PAGES=True,
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield seed("--force")
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def seeded(_seeded_once, db) -> str:
    """The seeded demo data (and the first run's output)."""
    return _seeded_once


def sign_in(email: str, password: str) -> Client:
    """Through the real sign-in form, as a person would (and as the lockout sees it)."""
    client = Client()
    response = client.post(reverse("login"), {"username": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def counts() -> dict[str, int]:
    return {
        "brands": Brand.objects.count(),
        "ad_accounts": AdAccount.objects.count(),
        "pixels": Pixel.objects.count(),
        "users": User.objects.count(),
    }


def test_creates_three_brands_across_five_markets(seeded):

    brands = list(Brand.objects.prefetch_related("markets", "ad_accounts", "pixels"))
    assert len(brands) == 3
    markets = {market.code for brand in brands for market in brand.markets.all()}
    assert markets == {"DE", "FR", "GB", "US", "BR"}
    for brand in brands:
        assert 2 <= len(brand.ad_accounts.all()) <= 4, brand
        assert 2 <= len(brand.pixels.all()) <= 4, brand


def test_ad_accounts_and_pixels_are_valid_and_linked_to_their_brand(seeded):

    platforms = set(AdAccount.objects.values_list("platform", flat=True))
    assert platforms == {"meta", "google", "linkedin"}
    for account in AdAccount.objects.prefetch_related("markets"):
        account.full_clean()
        assert account.markets.exists(), account
    for pixel in Pixel.objects.prefetch_related("ad_accounts"):
        pixel.full_clean()
        linked = list(pixel.ad_accounts.all())
        assert linked, pixel
        assert {account.brand_id for account in linked} == {pixel.brand_id}
    assert Pixel.objects.filter(capi_enabled=True).exists()
    assert Pixel.objects.filter(capi_enabled=False).exists()


def test_demo_access_tokens_are_stored_encrypted(seeded):

    with_token = [pixel for pixel in Pixel.objects.all() if pixel.has_access_token]
    assert with_token
    for pixel in with_token:
        assert "DEMO" not in pixel.access_token_encrypted
        assert crypto.decrypt(pixel.access_token_encrypted).startswith("DEMO-")
        assert pixel.access_token_changed_at is not None


def test_creates_the_admin_the_role_users_and_the_outsider(seeded):

    admin = User.objects.get(email="admin@koastops.demo")
    assert admin.is_superuser
    assert admin.is_staff
    for short in ("nordwind", "lumen", "verde"):
        for prefix in ROLE_PREFIXES:
            user = User.objects.get(email=f"{prefix}.{short}@koastops.demo")
            assert not user.is_superuser
            assert not user.is_staff
            assert user.check_password("koastops-demo")
    outsider = User.objects.get(email="outsider@koastops.demo")
    assert not outsider.is_superuser
    assert User.objects.count() == 1 + 3 * len(ROLE_PREFIXES) + 1


def test_running_twice_changes_nothing(seeded):
    before = counts()
    admin_password_hash = User.objects.get(email="admin@koastops.demo").password
    pixel_tokens = dict(Pixel.objects.values_list("pk", "access_token_encrypted"))

    output = seed("--force")

    assert counts() == before
    assert User.objects.get(email="admin@koastops.demo").password == admin_password_hash
    assert dict(Pixel.objects.values_list("pk", "access_token_encrypted")) == pixel_tokens
    assert "0 created" in output


def test_prints_the_logins_and_the_admin_can_sign_in_with_them(seeded):
    output = seeded

    assert "Demo logins (demo-only passwords):" in output
    assert "outsider@koastops.demo" in output
    assert "narrowed to one ad account" in output
    match = re.search(r"admin@koastops\.demo\s+(\S+)", output)
    assert match, output
    client = sign_in("admin@koastops.demo", match.group(1))
    response = client.get("/system/")
    assert response.status_code == 200


def test_every_role_user_holds_their_role_on_their_brand_only(seeded):
    from koastops.accounts import policies
    from koastops.accounts.models import Role
    from koastops.catalog.models import Brand

    brands = {brand.slug.split("-")[0]: brand for brand in Brand.objects.all()}
    expected = {
        "ops": Role.OPS_LEAD,
        "buyer": Role.MEDIA_BUYER,
        "legal": Role.LEGAL_REVIEWER,
        "analyst": Role.ANALYST,
    }
    for short, brand in brands.items():
        for prefix, role in expected.items():
            user = User.objects.get(email=f"{prefix}.{short}@koastops.demo")
            assert policies.role_for(user, brand) == role
    lead = User.objects.get(email="ops.nordwind@koastops.demo")
    assert {b.slug for b in policies.brands_for(lead)} == {"nordwind-outdoor", "lumen-skincare"}
    buyer = User.objects.get(email="buyer.nordwind@koastops.demo")
    assert policies.ad_accounts_for(buyer, brands["nordwind"]).count() == 1
    assert brands["nordwind"].ad_accounts.count() > 1
    outsider = User.objects.get(email="outsider@koastops.demo")
    assert not policies.brands_for(outsider).exists()


def test_a_role_user_can_sign_in_with_the_printed_password(seeded):
    output = seeded

    match = re.search(r"buyer\.lumen@koastops\.demo\s+(\S+)", output)
    assert match, output
    client = sign_in("buyer.lumen@koastops.demo", match.group(1))
    assert client.get(reverse("catalog:brand_list")).wsgi_request.user.is_authenticated


# --- tracking plans and naming rules ----------------------------------------------------------


def test_every_brand_gets_a_realistic_plan_through_the_services(seeded):
    from koastops.activity.models import ActivityEntry
    from koastops.taxonomy.models import EventDefinition, EventRevision

    standard = {
        "PageView",
        "ViewContent",
        "AddToCart",
        "InitiateCheckout",
        "Purchase",
        "Lead",
        "CompleteRegistration",
    }
    for brand in Brand.objects.all():
        events = {e.name: e for e in EventDefinition.objects.filter(brand=brand)}
        assert standard <= set(events), brand
        custom = [e for e in events.values() if any(m["custom"] for m in e.content["mappings"])]
        assert len(custom) == 1, brand
        purchase = events["Purchase"].content
        assert {m["platform"] for m in purchase["mappings"]} == {"meta", "google"}
        assert {p["name"] for p in purchase["parameters"] if p["required"]} >= {"value", "currency"}
        assert {m["platform"] for m in events["Lead"].content["mappings"]} >= {"meta", "google"}
        for event in events.values():
            assert event.status == "active"
            assert event.owner and event.content["description"] and event.content["trigger"]
            assert event.updated_by.email == f"ops.{brand.slug.split('-')[0]}@koastops.demo"
    assert EventRevision.objects.count() == EventDefinition.objects.count()
    assert ActivityEntry.objects.filter(verb="event.created").count() == (
        EventDefinition.objects.count()
    )


def test_naming_rules_have_install_defaults_and_one_brand_override(seeded):
    from koastops.taxonomy.models import NamingRule
    from koastops.taxonomy.naming import compile_rule
    from koastops.taxonomy.selectors import effective_rule

    defaults = NamingRule.objects.filter(brand__isnull=True)
    assert set(defaults.values_list("level", flat=True)) == {
        "campaign",
        "adset",
        "ad",
        "utm_campaign",
        "event_name",
    }
    [override] = NamingRule.objects.filter(brand__isnull=False)
    assert (override.brand.slug, override.level) == ("lumen-skincare", "campaign")
    for rule in NamingRule.objects.all():
        compile_rule(rule.spec)
    lumen = Brand.objects.get(slug="lumen-skincare")
    nordwind = Brand.objects.get(slug="nordwind-outdoor")
    assert effective_rule(lumen, "campaign") == override
    campaign = compile_rule(effective_rule(nordwind, "campaign").spec)
    assert campaign.validate("nordwind_de_conv_202605_spring-sale").valid
    assert campaign.validate("nordwind_de_leads_202605_spring").corrected == (
        "nordwind_de_lead_202605_spring"
    )


def test_one_brand_carries_the_lead_formcomplete_clash_and_the_others_no_drift(seeded):
    from koastops.taxonomy.drift import drift_for

    nordwind = Brand.objects.get(slug="nordwind-outdoor")
    [item] = drift_for(nordwind)
    assert item.kind == "clash"
    assert sorted(e.name for e in item.events) == ["FormComplete", "Lead"]
    assert "Meta Lead" in item.title
    for brand in Brand.objects.exclude(pk=nordwind.pk):
        assert drift_for(brand) == [], brand


def test_running_twice_adds_no_event_rule_revision_or_activity(seeded):
    from koastops.activity.models import ActivityEntry
    from koastops.taxonomy.models import EventDefinition, EventRevision, NamingRule

    def taxonomy_counts():
        return (
            EventDefinition.objects.count(),
            EventRevision.objects.count(),
            NamingRule.objects.count(),
            ActivityEntry.objects.count(),
            dict(NamingRule.objects.values_list("pk", "version")),
            dict(EventDefinition.objects.values_list("pk", "version")),
        )

    before = taxonomy_counts()
    output = seed("--force")

    assert taxonomy_counts() == before
    assert "events: 0 created, 25 already there" in output
    assert "naming rules: 0 created, 6 already there" in output


def test_a_plan_event_deleted_by_hand_comes_back_and_nothing_else_changes(seeded):
    from koastops.taxonomy.models import EventDefinition

    nordwind = Brand.objects.get(slug="nordwind-outdoor")
    EventDefinition.objects.filter(brand=nordwind, name="PageView").delete()
    kept = dict(EventDefinition.objects.values_list("pk", "version"))

    output = seed("--force")

    assert "events: 1 created, 24 already there" in output
    assert EventDefinition.objects.filter(brand=nordwind, name="PageView").exists()
    assert {
        pk: v for pk, v in EventDefinition.objects.values_list("pk", "version") if pk in kept
    } == kept


# --- consent configs and sign-offs ------------------------------------------------------------


def _statuses() -> dict[tuple[str, str], str]:
    from koastops.consent.models import ConsentConfig
    from koastops.consent.selectors import with_status

    return {
        (config.brand.slug.split("-")[0], config.market.code): config.status
        for config in with_status(ConsentConfig.objects.select_related("brand", "market"))
    }


def test_every_demo_market_has_a_consent_config_in_every_status_of_the_matrix(seeded):
    from koastops.activity.models import ActivityEntry
    from koastops.consent.models import ConsentConfig, ConsentSignOff

    statuses = _statuses()
    pairs = {
        (brand.slug.split("-")[0], market.code)
        for brand in Brand.objects.prefetch_related("markets")
        for market in brand.markets.all()
    }
    assert set(statuses) == pairs  # every brand x each of its markets
    values = list(statuses.values())
    assert values.count("signed") >= 3
    assert values.count("changed") == 1
    assert values.count("expiring") == 1
    assert values.count("never_reviewed") == 1
    assert values.count("rejected") == 1
    assert statuses[("nordwind", "FR")] == "changed"
    [rejected] = ConsentSignOff.objects.filter(decision="rejected")
    assert rejected.reasons == ["defaults", "gating"]
    assert rejected.comment
    for config in ConsentConfig.objects.select_related("brand", "updated_by"):
        short = config.brand.slug.split("-")[0]
        assert config.updated_by.email == f"ops.{short}@koastops.demo"
        pixel_ids = set(
            config.brand.pixels.filter(platform="meta").values_list("external_id", flat=True)
        )
        assert {p["id"] for p in config.content["pixels"]} == pixel_ids
        assert all(p["category"] == "marketing" for p in config.content["pixels"])
        assert config.content["events"]
    for signoff in ConsentSignOff.objects.select_related("brand"):
        assert signoff.reviewer_label == f"legal.{signoff.brand.slug.split('-')[0]}@koastops.demo"
    assert ActivityEntry.objects.filter(verb="consent.approved").count() == values.count(
        "signed"
    ) + values.count("changed") + values.count("expiring")


def test_running_twice_adds_no_consent_config_signoff_or_activity(seeded):
    from koastops.activity.models import ActivityEntry
    from koastops.consent.models import ConsentConfig, ConsentSignOff

    def consent_state():
        return (
            dict(ConsentConfig.objects.values_list("pk", "version")),
            ConsentSignOff.objects.count(),
            ActivityEntry.objects.count(),
            _statuses(),
        )

    before = consent_state()
    output = seed("--force")

    assert consent_state() == before
    assert "consent configs: 0 created, 9 already there" in output


# --- launches -----------------------------------------------------------------------------

LAUNCH_STATES = {
    "draft": 1,
    "ready": 1,
    "needs_changes": 1,
    "in_review": 3,
    "approved": 1,
    "rejected": 1,
    "launched": 1,
    "cancelled": 1,
}
# The verbs of each walk, in order (the run's end is "checked", by no one).
WALKS = {
    "draft": ["launch.created"],
    "cancelled": ["launch.created", "launch.cancelled"],
    "ready": ["launch.created", "launch.checks_requested", "launch.checked"],
    "in_review": ["launch.created", "launch.submitted", "launch.checked"],
    "needs_changes": [
        "launch.created",
        "launch.submitted",
        "launch.checked",
        "launch.changes_requested",
    ],
    "rejected": ["launch.created", "launch.submitted", "launch.checked", "launch.rejected"],
    "approved": ["launch.created", "launch.submitted", "launch.checked", "launch.approved"],
    "launched": [
        "launch.created",
        "launch.submitted",
        "launch.checked",
        "launch.approved",
        "launch.launched",
    ],
}


def _launches():
    from koastops.launches import selectors
    from koastops.launches.models import Launch

    return list(selectors.with_structure(Launch.objects.order_by("pk")))


def test_demo_launches_are_in_every_state_but_the_transient_checking(seeded):
    from collections import Counter

    assert Counter(launch.state for launch in _launches()) == LAUNCH_STATES
    assert "launches: 10 created, 0 already there" in seeded


def test_demo_launches_were_walked_through_the_services(seeded):
    from koastops.activity.models import ActivityEntry
    from koastops.launches import content
    from koastops.launches.models import CheckRun

    for launch in _launches():
        verbs = list(
            ActivityEntry.objects.filter(target_type="launches.launch", target_id=str(launch.pk))
            .order_by("pk")
            .values_list("verb", flat=True)
        )
        # Overrides (a check registered after the demo was written failing) may come
        # before the approval; nothing else.
        assert [v for v in verbs if v != "launch.check_overridden"] == WALKS[launch.state], (
            launch.campaign_name
        )
        assert launch.content_hash == content.content_hash(content.snapshot(launch))
        assert launch.version == len(WALKS[launch.state])  # one per change after the first
        assert launch.created_by.email.startswith("buyer.")
        runs = list(CheckRun.objects.filter(launch=launch))
        if launch.state in ("draft", "cancelled"):
            assert runs == []
            continue
        [run] = runs
        assert run.state == "done" and run.content_hash == launch.content_hash
        assert run.completed == run.total > 0
        assert launch.current_run_id == run.pk
        for ad in launch.ads.all():
            assert ad.landing_url.startswith(f"https://{launch.brand.slug}.example/")


def test_demo_reviews_are_by_the_brands_ops_lead_never_the_submitter(seeded):
    from koastops.launches.models import Review

    reviews = list(Review.objects.select_related("launch__brand", "reviewer"))
    assert {review.decision for review in reviews} == {
        "approved",
        "rejected",
        "changes_requested",
    }
    for review in reviews:
        launch = review.launch
        assert review.reviewer.email.startswith("ops.")
        assert review.reviewer_id not in (launch.created_by_id, launch.submitted_by_id)
        assert review.content_hash == launch.content_hash
        if review.decision != "approved":
            assert review.comment
    [launched] = [launch for launch in _launches() if launch.state == "launched"]
    assert launched.platform_campaign_id == "120210000000000001"
    assert launched.approved_hash == launched.content_hash
    assert launched.monitor_until is not None


def test_demo_launch_names_pass_the_demo_naming_rules(seeded):
    from koastops.taxonomy import rules, selectors

    for launch in _launches():
        compiled = {
            level: rules.compiled(selectors.effective_rule(launch.brand, level))
            for level in ("campaign", "adset", "ad", "utm_campaign")
        }
        names = [("campaign", launch.campaign_name)]
        for ad_set in launch.ad_sets.all():
            names.append(("adset", ad_set.name))
            for ad in ad_set.ads.all():
                names += [("ad", ad.name), ("utm_campaign", ad.utm_campaign)]
        for level, name in names:
            result = compiled[level].validate(name)
            assert result.valid, (level, name, result.errors)


def test_two_launches_in_review_are_blocked_by_consent_and_by_low_emq(seeded):
    from koastops.devtools import demo_launches
    from koastops.launches.checks import registry
    from koastops.launches.models import CheckResult

    registered = {check.key for check in registry.all_checks()}
    blocked = [spec for spec in demo_launches.DEMO_LAUNCHES if spec.blocked_by]
    assert {spec.blocked_by for spec in blocked} == {"consent.signed_off", "quality.emq"}
    brands = {brand.slug.split("-")[0]: brand for brand in Brand.objects.all()}
    for spec in blocked:
        launch = demo_launches.find(brands[spec.brand], spec)
        assert launch is not None and launch.state == "in_review"
        results = {r.key: r for r in CheckResult.objects.filter(run_id=launch.current_run_id)}
        assert set(results) == registered
        if spec.blocked_by in registered:  # after the checks' parts are merged
            assert results[spec.blocked_by].blocks, (spec.campaign, results[spec.blocked_by])
    consent_blocked = next(s for s in blocked if s.blocked_by == "consent.signed_off")
    assert (consent_blocked.brand, consent_blocked.market) == ("lumen", "GB")  # rejected config
    assert _statuses()[("lumen", "GB")] == "rejected"


def test_running_twice_adds_no_launch_run_review_or_activity(seeded):
    from koastops.activity.models import ActivityEntry
    from koastops.launches.models import CheckRun, Launch, Review

    def launch_state():
        return (
            dict(Launch.objects.values_list("pk", "version")),
            CheckRun.objects.count(),
            Review.objects.count(),
            ActivityEntry.objects.filter(target_type="launches.launch").count(),
        )

    before = launch_state()
    output = seed("--force")
    assert launch_state() == before
    assert "launches: 0 created, 10 already there" in output


def test_the_demo_start_pages_show_what_needs_each_person(seeded):
    nordwind_lead = User.objects.get(email="ops.nordwind@koastops.demo")
    client = Client()
    client.force_login(nordwind_lead)
    needs = {line.key: line for line in client.get(reverse("home")).context["needs_me"]}
    # Nordwind's backpacks and Lumen's UK serum (they lead both brands).
    assert needs["launches.awaiting_review"].count == 2
    buyer = User.objects.get(email="buyer.nordwind@koastops.demo")
    client.force_login(buyer)
    needs = {line.key: line for line in client.get(reverse("home")).context["needs_me"]}
    assert needs["launches.needs_changes"].count == 1
    assert needs["launches.ready"].count == 1
    assert "launches.awaiting_review" not in needs
