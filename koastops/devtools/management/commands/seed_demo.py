"""Demo data for a first look: an admin, three brands with ad accounts and pixels, one
user per role per brand, and an outsider; each brand's tracking plan and the naming rules
(``koastops.devtools.demo_plan``); a consent config per brand and market, signed off,
rejected or waiting as the consent matrix shows them (``koastops.devtools.demo_consent``);
event-quality stats, CRM conversions and alerts; and launches in every state, walked there
through the launch services (``koastops.devtools.demo_launches``).

Idempotent: objects are looked up by their natural keys (brand slug, platform and
external id, email) and only missing ones are created, through the catalog services so
the same validation runs as in the app (events by brand and name, naming rules by brand
and level, through the taxonomy services). Existing rows are left exactly as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from koastops.accounts import policies
from koastops.accounts import services as access_services
from koastops.accounts.models import Role, User
from koastops.catalog import services as catalog_services
from koastops.catalog.models import AdAccount, Brand, Market, Pixel, Platform
from koastops.devtools import (
    demo_alerts,
    demo_consent,
    demo_crm,
    demo_launches,
    demo_plan,
    demo_quality,
)

ADMIN_EMAIL = "admin@koastops.demo"
ADMIN_PASSWORD = "koastops-demo-admin"  # noqa: S105 -- demo only, printed to the operator
USER_PASSWORD = "koastops-demo"  # noqa: S105 -- demo only, printed to the operator
OUTSIDER_EMAIL = "outsider@koastops.demo"

# One user per role per brand: <prefix>.<brand short>@koastops.demo.
ROLES: tuple[tuple[str, str, Role], ...] = (
    ("ops", "Ops lead", Role.OPS_LEAD),
    ("buyer", "Media buyer", Role.MEDIA_BUYER),
    ("legal", "Legal reviewer", Role.LEGAL_REVIEWER),
    ("analyst", "Analyst", Role.ANALYST),
)
# The first brand's ops lead also leads the second brand; the first brand's media
# buyer is narrowed to that brand's first ad account.
MULTI_BRAND_OPS_LEAD = "ops.nordwind@koastops.demo"


@dataclass(frozen=True)
class DemoAdAccount:
    key: str
    platform: str
    external_id: str
    name: str
    currency: str
    time_zone: str
    markets: tuple[str, ...]


@dataclass(frozen=True)
class DemoPixel:
    platform: str
    external_id: str
    name: str
    capi_enabled: bool
    ad_accounts: tuple[str, ...]  # keys of the brand's DemoAdAccount entries
    demo_credential: str = ""  # stored as the pixel access token, encrypted


@dataclass(frozen=True)
class DemoBrand:
    short: str
    name: str
    slug: str
    description: str
    markets: tuple[str, ...]
    ad_accounts: tuple[DemoAdAccount, ...]
    pixels: tuple[DemoPixel, ...]


DEMO_BRANDS: tuple[DemoBrand, ...] = (
    DemoBrand(
        short="nordwind",
        name="Nordwind Outdoor",
        slug="nordwind-outdoor",
        description="Outdoor clothing and gear; strongest in Germany, growing in France and the UK.",
        markets=("DE", "FR", "GB"),
        ad_accounts=(
            DemoAdAccount(
                "meta-de",
                Platform.META,
                "act_4100000001",
                "Nordwind DE",
                "EUR",
                "Europe/Berlin",
                ("DE",),
            ),
            DemoAdAccount(
                "google-fr",
                Platform.GOOGLE,
                "410-000-0002",
                "Nordwind FR Search",
                "EUR",
                "Europe/Paris",
                ("FR",),
            ),
            DemoAdAccount(
                "meta-gb",
                Platform.META,
                "act_4100000003",
                "Nordwind UK",
                "GBP",
                "Europe/London",
                ("GB",),
            ),
        ),
        pixels=(
            DemoPixel(
                Platform.META,
                "410000000000101",
                "Nordwind web pixel",
                capi_enabled=True,
                ad_accounts=("meta-de", "meta-gb"),
                demo_credential="DEMO-nordwind-capi-token-not-real",
            ),
            DemoPixel(
                Platform.GOOGLE,
                "AW-410000102",
                "Nordwind Google tag",
                capi_enabled=False,
                ad_accounts=("google-fr",),
            ),
        ),
    ),
    DemoBrand(
        short="lumen",
        name="Lumen Skincare",
        slug="lumen-skincare",
        description="Skincare sold online in France, the UK and the US.",
        markets=("FR", "GB", "US"),
        ad_accounts=(
            DemoAdAccount(
                "meta-fr",
                Platform.META,
                "act_4200000001",
                "Lumen FR",
                "EUR",
                "Europe/Paris",
                ("FR",),
            ),
            DemoAdAccount(
                "meta-gb",
                Platform.META,
                "act_4200000002",
                "Lumen UK",
                "GBP",
                "Europe/London",
                ("GB",),
            ),
            DemoAdAccount(
                "google-us",
                Platform.GOOGLE,
                "420-000-0003",
                "Lumen US Search",
                "USD",
                "America/New_York",
                ("US",),
            ),
            DemoAdAccount(
                "linkedin-us",
                Platform.LINKEDIN,
                "420000004",
                "Lumen US B2B",
                "USD",
                "America/Los_Angeles",
                ("US",),
            ),
        ),
        pixels=(
            DemoPixel(
                Platform.META,
                "420000000000101",
                "Lumen shop pixel",
                capi_enabled=True,
                ad_accounts=("meta-fr", "meta-gb"),
                demo_credential="DEMO-lumen-capi-token-not-real",
            ),
            DemoPixel(
                Platform.GOOGLE,
                "AW-420000102",
                "Lumen Google tag",
                capi_enabled=False,
                ad_accounts=("google-us",),
            ),
            DemoPixel(
                Platform.LINKEDIN,
                "4200103",
                "Lumen Insight Tag",
                capi_enabled=False,
                ad_accounts=("linkedin-us",),
            ),
        ),
    ),
    DemoBrand(
        short="verde",
        name="Verde Café",
        slug="verde-cafe",
        description="Specialty coffee roaster selling in Brazil, the US and Germany.",
        markets=("BR", "US", "DE"),
        ad_accounts=(
            DemoAdAccount(
                "meta-br",
                Platform.META,
                "act_4300000001",
                "Verde BR",
                "BRL",
                "America/Sao_Paulo",
                ("BR",),
            ),
            DemoAdAccount(
                "meta-us",
                Platform.META,
                "act_4300000002",
                "Verde US",
                "USD",
                "America/Chicago",
                ("US",),
            ),
            DemoAdAccount(
                "google-de",
                Platform.GOOGLE,
                "430-000-0003",
                "Verde DE Search",
                "EUR",
                "Europe/Berlin",
                ("DE",),
            ),
        ),
        pixels=(
            DemoPixel(
                Platform.META,
                "430000000000101",
                "Verde web pixel",
                capi_enabled=True,
                ad_accounts=("meta-br", "meta-us"),
                demo_credential="DEMO-verde-capi-token-not-real",
            ),
            DemoPixel(
                Platform.META,
                "430000000000102",
                "Verde app events",
                capi_enabled=False,
                ad_accounts=("meta-us",),
                demo_credential="DEMO-verde-app-token-not-real",
            ),
            DemoPixel(
                Platform.GOOGLE,
                "AW-430000103",
                "Verde Google tag",
                capi_enabled=False,
                ad_accounts=("google-de",),
            ),
        ),
    ),
)


@dataclass
class Tally:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, *, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[kind] = bucket.get(kind, 0) + 1


class Command(BaseCommand):
    help = (
        "Create demo data (admin, three brands with ad accounts, pixels, tracking plans, "
        "naming rules, consent configs with sign-offs, quality stats, alerts, launches in every "
        "state, demo users). "
        "Idempotent. Refuses to run with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (the demo users have well-known passwords).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: this looks like a production install, and the demo users have "
                "well-known passwords. Re-run with --force if you really want demo data here."
            )
        tally = Tally()
        try:
            with transaction.atomic():
                admin = self._admin(tally)
                brands = [self._brand(demo, admin=admin, tally=tally) for demo in DEMO_BRANDS]
                for demo, brand in zip(DEMO_BRANDS, brands, strict=True):
                    for prefix, label, role in ROLES:
                        user = self._user(
                            f"{prefix}.{demo.short}@koastops.demo",
                            full_name=f"{demo.name} {label}",
                            tally=tally,
                        )
                        self._grant(admin, brand, user, role)
                lead = User.objects.get(email=MULTI_BRAND_OPS_LEAD)
                self._grant(admin, brands[1], lead, Role.OPS_LEAD)
                buyer = User.objects.get(email=f"buyer.{DEMO_BRANDS[0].short}@koastops.demo")
                first_account = brands[0].ad_accounts.order_by("name").first()
                if first_account is not None and not policies.narrowed_ad_account_ids(
                    brands[0], [buyer]
                ):
                    access_services.member_narrow_ad_accounts(
                        actor=admin, brand=brands[0], user=buyer, ad_accounts=[first_account]
                    )
                self._user(OUTSIDER_EMAIL, full_name="Olive Outsider", tally=tally)
                self._taxonomy(admin, brands, tally)
                self._consent(brands, tally)
                # Event quality: the demo provider's stats first; the CRM conversions are
                # derived from them and the alert rules evaluate them.
                demo_quality.seed_demo_stats(brands=brands)
                demo_crm.seed_all(brands=brands, shorts=[d.short for d in DEMO_BRANDS], tally=tally)
                demo_alerts.seed_all(brands=brands)
                # Launches last: their checks read the plan, consent and quality above.
                created, existing = demo_launches.seed_launches(
                    brands={
                        demo.short: brand for demo, brand in zip(DEMO_BRANDS, brands, strict=True)
                    }
                )
                tally.created["launches"], tally.existing["launches"] = created, existing
        except ValidationError as exc:
            raise CommandError(f"Demo data did not validate; nothing was written: {exc}") from exc
        self._report(tally)

    # --- objects ------------------------------------------------------------------------
    def _admin(self, tally: Tally) -> User:
        admin = User.objects.filter(email=ADMIN_EMAIL).first()
        if admin is None:
            admin = User.objects.create_superuser(
                ADMIN_EMAIL, ADMIN_PASSWORD, full_name="Demo Admin"
            )
            tally.add("users", created=True)
        else:
            tally.add("users", created=False)
        if not (admin.is_active and admin.is_superuser):
            raise CommandError(
                f"{ADMIN_EMAIL} exists but is not an active admin; fix or remove that user first."
            )
        return admin

    def _user(self, email: str, *, full_name: str, tally: Tally) -> User:
        user = User.objects.filter(email=email).first()
        tally.add("users", created=user is None)
        if user is None:
            user = User.objects.create_user(email, USER_PASSWORD, full_name=full_name)
        return user

    def _grant(self, admin: User, brand: Brand, user: User, role: Role) -> None:
        if policies.role_for(user, brand) is None:
            access_services.member_grant_role(actor=admin, brand=brand, user=user, role=role)

    def _brand(self, demo: DemoBrand, *, admin: User, tally: Tally) -> Brand:
        brand = Brand.objects.filter(slug=demo.slug).first()
        tally.add("brands", created=brand is None)
        if brand is None:
            brand = catalog_services.brand_create(
                user=admin,
                name=demo.name,
                slug=demo.slug,
                description=demo.description,
                markets=_markets(demo.markets),
            )
        accounts: dict[str, AdAccount] = {}
        for spec in demo.ad_accounts:
            account = AdAccount.objects.filter(
                platform=spec.platform, external_id=spec.external_id
            ).first()
            tally.add("ad accounts", created=account is None)
            if account is None:
                account = catalog_services.ad_account_create(
                    user=admin,
                    brand=brand,
                    platform=spec.platform,
                    external_id=spec.external_id,
                    name=spec.name,
                    currency=spec.currency,
                    time_zone=spec.time_zone,
                    markets=_markets(spec.markets),
                )
            accounts[spec.key] = account
        for pixel_spec in demo.pixels:
            exists = Pixel.objects.filter(
                platform=pixel_spec.platform, external_id=pixel_spec.external_id
            ).exists()
            tally.add("pixels", created=not exists)
            if not exists:
                catalog_services.pixel_create(
                    user=admin,
                    brand=brand,
                    platform=pixel_spec.platform,
                    external_id=pixel_spec.external_id,
                    name=pixel_spec.name,
                    capi_enabled=pixel_spec.capi_enabled,
                    ad_accounts=[accounts[key] for key in pixel_spec.ad_accounts],
                    access_token=pixel_spec.demo_credential,
                )
        return brand

    def _taxonomy(self, admin: User, brands: list[Brand], tally: Tally) -> None:
        created, existing = demo_plan.seed_naming_rules(admin=admin, brands=brands)
        tally.created["naming rules"] = created
        tally.existing["naming rules"] = existing
        for demo, brand in zip(DEMO_BRANDS, brands, strict=True):
            # The brand's own ops lead writes its plan, as in real life.
            lead = User.objects.get(email=f"ops.{demo.short}@koastops.demo")
            created, existing = demo_plan.seed_plan(user=lead, brand=brand, short=demo.short)
            tally.created["events"] = tally.created.get("events", 0) + created
            tally.existing["events"] = tally.existing.get("events", 0) + existing

    def _consent(self, brands: list[Brand], tally: Tally) -> None:
        for demo, brand in zip(DEMO_BRANDS, brands, strict=True):
            # The brand's ops lead writes its configs, its legal reviewer decides.
            created, existing = demo_consent.seed_consent(
                brand=brand,
                short=demo.short,
                ops=User.objects.get(email=f"ops.{demo.short}@koastops.demo"),
                legal=User.objects.get(email=f"legal.{demo.short}@koastops.demo"),
            )
            tally.created["consent configs"] = tally.created.get("consent configs", 0) + created
            tally.existing["consent configs"] = tally.existing.get("consent configs", 0) + existing

    # --- output -------------------------------------------------------------------------
    def _report(self, tally: Tally) -> None:
        kinds = (
            "brands",
            "ad accounts",
            "pixels",
            "users",
            "events",
            "naming rules",
            "consent configs",
            "launches",
        )
        summary = ", ".join(
            f"{kind}: {tally.created.get(kind, 0)} created, {tally.existing.get(kind, 0)} already there"
            for kind in kinds
        )
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({summary})."))

        rows = [("admin", ADMIN_EMAIL, ADMIN_PASSWORD, "Admin: every brand")]
        for index, demo in enumerate(DEMO_BRANDS):
            for prefix, label, _role in ROLES:
                email = f"{prefix}.{demo.short}@koastops.demo"
                scope = f"{label}, {demo.name}"
                if email == MULTI_BRAND_OPS_LEAD:
                    scope += f" and {DEMO_BRANDS[1].name}"
                if prefix == "buyer" and index == 0:
                    scope += " (narrowed to one ad account)"
                rows.append((prefix, email, USER_PASSWORD, scope))
        rows.append(("outsider", OUTSIDER_EMAIL, USER_PASSWORD, "No role on any brand"))

        headers = ("Role", "Email", "Password", "Intended scope")
        widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
        line = "  ".join("{:<%d}" % width for width in widths)  # noqa: UP031 -- builds a format spec
        self.stdout.write("")
        self.stdout.write("Demo logins (demo-only passwords):")
        self.stdout.write(line.format(*headers).rstrip())
        self.stdout.write(line.format(*("-" * width for width in widths)).rstrip())
        for row in rows:
            self.stdout.write(line.format(*row).rstrip())


def _markets(codes: tuple[str, ...]) -> list[Market]:
    markets = list(Market.objects.filter(code__in=codes))
    missing = set(codes) - {m.code for m in markets}
    if missing:
        raise CommandError(f"Markets missing from the reference data: {', '.join(sorted(missing))}")
    return markets
