"""factory-boy factories for every model. Catalog objects are built directly (fast);
tests of the services call the services themselves."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.db import transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import (
    AdAccountUserObjectPermission,
    ApiToken,
    BrandUserObjectPermission,
    Membership,
    Role,
    User,
)
from koastops.accounts.tokens import api_token_create
from koastops.activity.models import ActivityEntry
from koastops.activity.services import activity_record
from koastops.catalog.models import AdAccount, Brand, Market, Pixel, Platform
from koastops.consent import content as consent_content
from koastops.consent.models import ConsentConfig, ConsentPolicy, ConsentReminder, ConsentSignOff
from koastops.core import crypto
from koastops.notifications.models import Notification
from koastops.quality.models import (
    Alert,
    AlertRule,
    Conversion,
    ConversionImport,
    DailyStat,
    EventQuality,
    HourlyStat,
    PixelConnection,
    PullRun,
    QualitySettings,
)
from koastops.system.models import Heartbeat, SentEmail, TaskDelivery, WorkerPing
from koastops.taxonomy.content import parse_event
from koastops.taxonomy.models import (
    EventDefinition,
    EventMapping,
    EventRevision,
    NamingRule,
    TrackingPlan,
)

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


def market(code: str) -> Market:
    """Markets are reference data shipped by a migration: look them up, never create."""
    return Market.objects.get(code=code)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n:03d}")
    slug = factory.Sequence(lambda n: f"brand-{n:03d}")
    description = "A brand made by a test."


class AdAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdAccount

    brand = factory.SubFactory(BrandFactory)
    platform = Platform.META
    external_id = factory.Sequence(lambda n: f"act_{1000000 + n}")
    name = factory.Sequence(lambda n: f"Ad account {n:03d}")
    currency = "EUR"
    time_zone = "Europe/Berlin"


class PixelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pixel
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    platform = Platform.META
    external_id = factory.Sequence(lambda n: f"{111222333000 + n}")
    name = factory.Sequence(lambda n: f"Pixel {n:03d}")
    capi_enabled = False

    class Params:
        with_token = factory.Trait(
            access_token_encrypted=factory.LazyFunction(lambda: crypto.encrypt("EAAB-test-token")),
            access_token_changed_at=factory.LazyFunction(timezone.now),
        )


class WorkerPingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkerPing

    requested_by = factory.SubFactory(AdminFactory)


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    name = "beat"
    last_seen_at = factory.LazyFunction(timezone.now)


class TaskDeliveryFactory(factory.django.DjangoModelFactory):
    """A run counted at start whose worker died (a returned run deletes its row)."""

    class Meta:
        model = TaskDelivery

    key = factory.Sequence(lambda n: f"task-{n}:0")
    task_name = "koastops.system.worker_ping"
    deliveries = 1
    first_delivered_at = factory.LazyFunction(timezone.now)
    last_delivered_at = factory.LazyFunction(timezone.now)


class SentEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SentEmail

    key = factory.Sequence(lambda n: f"email-task-{n}")
    task_name = "koastops.accounts.send_invitation"
    sent_at = factory.LazyFunction(timezone.now)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row; ``raw`` (the plaintext shown once) is set on the returned object."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "test token"
    expires_in_days = 30

    @classmethod
    def _create(cls, model_class, *args, user, name, expires_in_days, **kwargs):
        with transaction.atomic():
            token, raw = api_token_create(user=user, name=name, expires_in_days=expires_in_days)
        token.raw = raw
        return token


class ActivityEntryFactory(factory.django.DjangoModelFactory):
    """Entries go through the recorder, so the hash chain stays valid."""

    class Meta:
        model = ActivityEntry

    actor = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    verb = "brand.updated"
    before = factory.LazyFunction(dict)
    after = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *args, actor, brand, verb, before, after, target=None):
        with transaction.atomic():
            return activity_record(
                verb=verb,
                actor=actor,
                target=target or brand,
                brand=brand,
                before=before,
                after=after,
            )


class RoleGrantFactory(factory.django.DjangoModelFactory):
    """A role on a brand (a guardian object permission row), granted through the policy."""

    class Meta:
        model = BrandUserObjectPermission

    user = factory.SubFactory(UserFactory)
    content_object = factory.SubFactory(BrandFactory)
    role = Role.ANALYST

    @classmethod
    def _create(cls, model_class, *args, user, content_object, role):
        policies.grant_role(user, content_object, role)
        return model_class.objects.get(
            user=user, content_object=content_object, permission__codename=Role(role).codename
        )


class MembershipFactory(factory.django.DjangoModelFactory):
    """A user's one role on a brand: the membership row and its guardian grant, written
    together by the policy."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.ANALYST

    @classmethod
    def _create(cls, model_class, *args, user, brand, role):
        policies.grant_role(user, brand, role)
        return model_class.objects.get(user=user, brand=brand)


class AdAccountNarrowingFactory(factory.django.DjangoModelFactory):
    """A media buyer narrowed to one ad account of their brand, through the policy."""

    class Meta:
        model = AdAccountUserObjectPermission

    user = factory.SubFactory(UserFactory)
    content_object = factory.SubFactory(AdAccountFactory)

    @classmethod
    def _create(cls, model_class, *args, user, content_object):
        brand = content_object.brand
        policies.grant_role(user, brand, Role.MEDIA_BUYER)
        policies.set_ad_account_narrowing(user, brand, [content_object])
        return model_class.objects.get(user=user, content_object=content_object)


class EventDefinitionFactory(factory.django.DjangoModelFactory):
    """An event definition built directly (no service, no activity row), with its mapping
    rows and its first revision. Pass ``content={...}`` overrides (merged into a default
    content that ``parse_event`` accepts)."""

    class Meta:
        model = EventDefinition
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Event{n:03d}")
    status = "active"
    sources = "browser"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        overrides = kwargs.pop("content", None) or {}
        data = {"name": kwargs["name"], "status": kwargs["status"], "sources": kwargs["sources"]}
        data |= overrides
        content = parse_event(data)
        kwargs |= {
            "name": content.name,
            "display_name": content.display_name,
            "owner": content.owner,
            "status": content.status,
            "sources": content.sources,
            "content": content.to_dict(),
        }
        event = super()._create(model_class, *args, **kwargs)
        EventMapping.objects.bulk_create(
            EventMapping(
                event=event,
                brand=event.brand,
                platform=m.platform,
                target=m.target,
                custom=m.custom,
            )
            for m in content.mappings
        )
        EventRevision.objects.create(
            event=event, version=event.version, content=event.content, note="factory"
        )
        return event


class NamingRuleFactory(factory.django.DjangoModelFactory):
    """A brand's naming rule (``brand=None`` for an install default), spec unchecked."""

    class Meta:
        model = NamingRule

    brand = factory.SubFactory(BrandFactory)
    level = "campaign"
    spec = factory.LazyFunction(
        lambda: {
            "template": "{market}_{objective}_{yyyymm}_{free}",
            "case": "lower",
            "max_length": 120,
            "tokens": {
                "market": {"kind": "vocabulary", "values": [{"value": "de"}, {"value": "fr"}]},
                "objective": {
                    "kind": "vocabulary",
                    "values": [
                        {"value": "lead", "label": "Lead generation", "aliases": ["leads"]},
                        {"value": "conv", "label": "Conversions"},
                        {"value": "traffic", "label": "Traffic"},
                    ],
                },
                "yyyymm": {"kind": "date", "format": "YYYYMM"},
                "free": {
                    "kind": "free",
                    "min_length": 1,
                    "max_length": 30,
                    "charset": "alnum_dash",
                },
            },
        }
    )


class TrackingPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingPlan
        django_get_or_create = ("brand",)

    brand = factory.SubFactory(BrandFactory)


class EventMappingFactory(factory.django.DjangoModelFactory):
    """A mapping row alone (the event's content is not updated: for drift and filter
    tests that need rows the services would not write)."""

    class Meta:
        model = EventMapping

    event = factory.SubFactory(EventDefinitionFactory)
    brand = factory.SelfAttribute("event.brand")
    platform = "meta"
    target = "Lead"


class EventRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventRevision

    event = factory.SubFactory(EventDefinitionFactory)
    version = factory.Sequence(lambda n: n + 2)
    content = factory.SelfAttribute("event.content")
    actor_label = "factory"


# --- consent ------------------------------------------------------------------------------


def _market(code: str = "DE", regime: str = "gdpr") -> Market:
    market, _ = Market.objects.get_or_create(
        code=code, defaults={"name": f"Market {code}", "privacy_regime": regime}
    )
    return market


class ConsentConfigFactory(factory.django.DjangoModelFactory):
    """A config with the market's regime defaults, never reviewed. The brand runs in the
    market (added to ``brand.markets``). Pass ``content=`` for other content: its hash is
    computed."""

    class Meta:
        model = ConsentConfig
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    market = factory.LazyFunction(_market)
    content = factory.LazyAttribute(
        lambda o: consent_content.defaults_for(o.market.privacy_regime, o.market.code)
    )
    content_hash = factory.LazyAttribute(
        lambda o: consent_content.content_hash(o.market.code, o.content)
    )
    content_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def runs_in_market(self, create, extracted, **kwargs):
        if create:
            self.brand.markets.add(self.market)


class ConsentSignOffFactory(factory.django.DjangoModelFactory):
    """A decision on the config's current content (approved, expiring in 12 months by
    default), copied onto the config as ``consent_decide`` does."""

    class Meta:
        model = ConsentSignOff
        skip_postgeneration_save = True

    config = factory.SubFactory(ConsentConfigFactory)
    brand = factory.SelfAttribute("config.brand")
    market = factory.SelfAttribute("config.market")
    sequence = factory.LazyAttribute(lambda o: o.config.signoffs.count() + 1)
    config_version = factory.SelfAttribute("config.version")
    content_hash = factory.SelfAttribute("config.content_hash")
    content = factory.SelfAttribute("config.content")
    decision = "approved"
    reasons = factory.LazyAttribute(lambda o: [] if o.decision == "approved" else ["defaults"])
    reviewer = factory.SubFactory(UserFactory)
    reviewer_label = factory.LazyAttribute(lambda o: o.reviewer.email if o.reviewer else "")
    decided_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(
        lambda o: o.decided_at + timezone.timedelta(days=365) if o.decision == "approved" else None
    )

    @factory.post_generation
    def latest(self, create, extracted, **kwargs):
        if create:
            ConsentConfig.objects.filter(pk=self.config_id).update(
                last_signoff=self,
                signed_hash=self.content_hash,
                decision=self.decision,
                expires_at=self.expires_at,
            )
            self.config.refresh_from_db()


class ConsentPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentPolicy
        django_get_or_create = ("brand",)

    brand = factory.SubFactory(BrandFactory)
    signoff_validity_months = 12


class ConsentReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentReminder

    config = factory.SubFactory(ConsentConfigFactory)
    key = factory.Sequence(lambda n: f"review:v{n + 1}")


class NotificationFactory(factory.django.DjangoModelFactory):
    """A notification about a brand its user works on: the user is given the analyst role
    on the brand unless they hold one (``member=False`` leaves them without)."""

    class Meta:
        model = Notification
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    kind = "consent.review"
    key = factory.Sequence(lambda n: f"test:{n}")
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something needs you."
    url = "/"

    @factory.post_generation
    def member(self, create, extracted, **kwargs):
        has_brand = create and extracted is not False and self.brand_id is not None
        if has_brand and policies.role_for(self.user, self.brand) is None:
            policies.grant_role(self.user, self.brand, Role.ANALYST)


# --- event quality ------------------------------------------------------------------------


def _hour(offset: int = 1):
    """The start of the UTC hour ``offset`` hours ago."""
    return timezone.now().replace(minute=0, second=0, microsecond=0) - timezone.timedelta(
        hours=offset
    )


class PixelConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PixelConnection
        django_get_or_create = ("pixel",)

    pixel = factory.SubFactory(PixelFactory)
    provider = "meta"


class PullRunFactory(factory.django.DjangoModelFactory):
    """A finished counts pull (pass ``status="running"`` for an active one)."""

    class Meta:
        model = PullRun

    pixel = factory.SubFactory(PixelFactory)
    kind = "counts"
    status = "succeeded"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(
        lambda o: o.started_at if o.status not in ("queued", "running") else None
    )


class HourlyStatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HourlyStat

    pixel = factory.SubFactory(PixelFactory)
    event = "Purchase"
    source = "total"
    hour = factory.Sequence(lambda n: _hour(n + 1))
    count = 10
    pulled_at = factory.LazyFunction(timezone.now)


class DailyStatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyStat

    pixel = factory.SubFactory(PixelFactory)
    event = "Purchase"
    source = "total"
    day = factory.Sequence(lambda n: (timezone.now() - timezone.timedelta(days=n + 1)).date())
    count = 240


class EventQualityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventQuality

    pixel = factory.SubFactory(PixelFactory)
    event = "Purchase"
    pulled_at = factory.Sequence(lambda n: timezone.now() - timezone.timedelta(hours=6 * n))
    emq = Decimal("7.2")
    event_coverage = Decimal("80")
    event_coverage_goal = Decimal("75")
    dedup_coverage = Decimal("82")
    freshness = "real_time"
    acr = Decimal("12.5")
    match_keys = factory.LazyFunction(lambda: [{"identifier": "email", "coverage": 98.5}])


class QualitySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualitySettings
        django_get_or_create = ("brand",)

    brand = factory.SubFactory(BrandFactory)


class ConversionImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConversionImport

    brand = factory.SubFactory(BrandFactory)
    filename = "conversions.csv"
    status = "succeeded"


class ConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversion

    brand = factory.SubFactory(BrandFactory)
    external_id = factory.Sequence(lambda n: f"order-{n + 1:06d}")
    event = "Purchase"
    occurred_at = factory.Sequence(lambda n: _hour(n + 1))
    value = Decimal("49.90")
    currency = "EUR"


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    brand = factory.SubFactory(BrandFactory)
    kind = "silent"
    threshold = Decimal("24")


class AlertFactory(factory.django.DjangoModelFactory):
    """An open alert of a rule of the brand."""

    class Meta:
        model = Alert

    rule = factory.SubFactory(AlertRuleFactory)
    brand = factory.SelfAttribute("rule.brand")
    kind = factory.SelfAttribute("rule.kind")
    pixel = factory.SubFactory(PixelFactory, brand=factory.SelfAttribute("..brand"))
    subject_key = factory.LazyAttribute(lambda o: f"pixel:{o.pixel.pk}")
    message = "The pixel has not fired for 30 hours."
    opened_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


# --- launches -------------------------------------------------------------------------------


def _launch_brand():
    brand = BrandFactory()
    brand.markets.add(market("DE"))
    return brand


class LaunchFactory(factory.django.DjangoModelFactory):
    """A draft launch built directly (no service, no activity row): an ad account, a pixel
    linked to it, an active event of the brand's plan, market DE, and one ad set with one
    ad. ``structure=False`` leaves out the ad set; the content hash is set from what was
    written. Pass ``state=...`` for other states (no run, no review is made)."""

    class Meta:
        model = "launches.Launch"
        skip_postgeneration_save = True

    brand = factory.LazyFunction(_launch_brand)
    ad_account = factory.SubFactory(AdAccountFactory, brand=factory.SelfAttribute("..brand"))
    pixel = factory.SubFactory(PixelFactory, brand=factory.SelfAttribute("..brand"))
    objective = "OUTCOME_SALES"
    optimization_event = factory.SubFactory(
        EventDefinitionFactory, brand=factory.SelfAttribute("..brand"), name="Purchase"
    )
    budget_type = "daily"
    budget_amount = Decimal("250.00")
    start_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))
    end_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=37))
    campaign_name = factory.Sequence(lambda n: f"Test campaign {n:03d}")
    state = "draft"
    state_changed_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(UserFactory)
    content_hash = ""

    @factory.post_generation
    def structure(obj, create, extracted, **kwargs):
        if not create:
            return
        from koastops.launches import content, selectors
        from koastops.launches.models import Ad, AdSet

        obj.pixel.ad_accounts.add(obj.ad_account)
        de = market("DE")
        obj.brand.markets.add(de)
        obj.markets.add(de)
        if extracted is not False:
            ad_set = AdSet.objects.create(launch=obj, position=0, name="Ad set DE", market=de)
            Ad.objects.create(
                ad_set=ad_set,
                launch=obj,
                position=0,
                name="Ad 1",
                landing_url="https://shop.example/landing",
                utm_source="facebook",
                utm_medium="paid_social",
                utm_campaign=obj.campaign_name,
            )
        fresh = selectors.with_structure(type(obj).objects.filter(pk=obj.pk)).get()
        obj.content_hash = content.content_hash(content.snapshot(fresh))
        type(obj).objects.filter(pk=obj.pk).update(content_hash=obj.content_hash)


class AdSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.AdSet"

    launch = factory.SubFactory(LaunchFactory, structure=False)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Ad set {n:03d}")
    market = factory.LazyFunction(lambda: market("DE"))


class AdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.Ad"

    ad_set = factory.SubFactory(AdSetFactory)
    launch = factory.SelfAttribute("ad_set.launch")
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Ad {n:03d}")
    landing_url = "https://shop.example/landing"


class BudgetLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.BudgetLimit"

    ad_account = factory.SubFactory(AdAccountFactory)
    brand = factory.SelfAttribute("ad_account.brand")
    daily_min = Decimal("10.00")
    daily_max = Decimal("5000.00")
    lifetime_max = Decimal("100000.00")


class CheckRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.CheckRun"

    launch = factory.SubFactory(LaunchFactory)
    content_hash = factory.SelfAttribute("launch.content_hash")
    trigger = "submit"
    state = "done"
    run_as = factory.SelfAttribute("launch.created_by")


class CheckResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.CheckResult"

    run = factory.SubFactory(CheckRunFactory)
    key = factory.Sequence(lambda n: f"test.check_{n}")
    title = "A test check"
    severity = "blocking"
    status = "pass"
    message = "Fine."


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.Review"

    launch = factory.SubFactory(LaunchFactory, state="approved")
    decision = "approved"
    reviewer = factory.SubFactory(UserFactory)
    content_hash = factory.SelfAttribute("launch.content_hash")
    snapshot = factory.LazyAttribute(lambda o: {"campaign_name": o.launch.campaign_name})


class CheckOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.CheckOverride"

    launch = factory.SubFactory(LaunchFactory, state="approved")
    check_key = "consent.signed_off"
    content_hash = factory.SelfAttribute("launch.content_hash")
    reason = "Signed off on paper; the config follows tomorrow."
    overridden_by = factory.SubFactory(UserFactory)


class RegressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "launches.Regression"

    launch = factory.SubFactory(LaunchFactory, state="launched")
    brand = factory.SelfAttribute("launch.brand")
    check_key = "pixel.healthy"
    title = "The pixel is healthy"
    message = "The pixel has not fired for 30 hours."
    opened_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
