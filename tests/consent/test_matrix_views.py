"""The consent matrix (every market by status, chips, search, pages, queries), the brand's
sign-off validity setting and the sidebar link — by role, foreign brands never shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Market
from koastops.consent import content as consent_content
from koastops.consent.models import ConsentPolicy
from tests.factories import (
    BrandFactory,
    ConsentConfigFactory,
    ConsentPolicyFactory,
    ConsentSignOffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script> \"quoted\" '</script>'\nnext line"


def member(brand, role: Role, email: str | None = None):
    user = UserFactory(email=email or f"{role.value}-{brand.slug}@example.com")
    policies.grant_role(user, brand, role)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def matrix_url(brand, **query: str) -> str:
    url = reverse("consent:matrix", args=[brand.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def settings_url(brand) -> str:
    return reverse("consent:settings", args=[brand.slug])


def market(code: str) -> Market:
    return Market.objects.get(code=code)


@pytest.fixture
def lead(brand):
    return member(brand, Role.OPS_LEAD, "lead@example.com")


@pytest.fixture
def lead_client(lead) -> Client:
    return client_for(lead)


@pytest.fixture
def legal(brand):
    return member(brand, Role.LEGAL_REVIEWER, "legal@example.com")


@pytest.fixture
def legal_client(legal) -> Client:
    return client_for(legal)


def config_with_status(brand, code: str, status: str):
    """A config of ``brand`` for market ``code`` in ``status``."""
    config = ConsentConfigFactory(brand=brand, market=market(code))
    now = timezone.now()
    if status == "never_reviewed":
        return config
    if status == "signed":
        ConsentSignOffFactory(config=config, expires_at=now + timedelta(days=200))
    elif status == "expiring":
        ConsentSignOffFactory(config=config, expires_at=now + timedelta(days=10))
    elif status == "expired":
        ConsentSignOffFactory(config=config, expires_at=now - timedelta(days=1))
    elif status == "rejected":
        ConsentSignOffFactory(config=config, decision="rejected", expires_at=None)
    elif status == "changed":
        ConsentSignOffFactory(config=config, expires_at=now + timedelta(days=200))
        content = {**config.content, "wait_for_update": 900}
        config.content = content
        config.content_hash = consent_content.content_hash(config.market.code, content)
        config.version += 1
        config.save()
    config.refresh_from_db()
    return config


# --- statuses ---------------------------------------------------------------------------------


def test_matrix_shows_every_market_with_its_status(brand, lead_client):
    codes = {
        "DE": "signed",
        "AT": "expiring",
        "FR": "changed",
        "IT": "expired",
        "ES": "rejected",
        "NL": "never_reviewed",
        "BE": None,
    }
    brand.markets.add(*Market.objects.filter(code__in=list(codes)))
    for code, status in codes.items():
        if status:
            config_with_status(brand, code, status)

    html = lead_client.get(matrix_url(brand)).text

    for code in codes:
        assert market(code).name in html
    for label in consent_content.STATUSES.values():
        assert label in html
    assert "badge-ok" in html and "badge-warning" in html
    assert "badge-failing" in html and "badge-unknown" in html
    # a Review button only for legal reviewers; ops leads get Edit / Set up
    assert "Review Germany" not in html
    assert 'aria-label="Edit Germany"' in html
    assert 'aria-label="Set up Belgium"' in html


@pytest.mark.parametrize("status", list(consent_content.STATUSES))
def test_status_chip_filters_exactly(brand, lead_client, status):
    brand.markets.add(*Market.objects.filter(code__in=["IT", "ES", "NL", "BE"]))
    chosen = {"DE": "signed", "AT": "changed", "FR": "rejected", "IT": "never_reviewed"}
    for code, value in chosen.items():
        config_with_status(brand, code, value)
    extra = {"expiring": "ES", "expired": "NL"}
    if status in extra:
        config_with_status(brand, extra[status], status)

    html = lead_client.get(matrix_url(brand, status=status)).text
    table = html[html.index('id="consent-table"') :]
    every = Market.objects.filter(code__in=["DE", "AT", "FR", "IT", "ES", "NL", "BE"])
    shown = {m.code for m in every if f">{m.name}</a>" in table}
    expected = {code for code, value in chosen.items() if value == status}
    if status in extra:
        expected.add(extra[status])
    if status == "not_configured":
        expected = {"ES", "NL", "BE"}
    assert shown == expected
    # the chip in effect removes the filter
    assert "— remove this filter" in table


def test_counts_per_status_on_the_chips(brand, lead_client):
    config_with_status(brand, "DE", "signed")
    config_with_status(brand, "AT", "signed")
    html = lead_client.get(matrix_url(brand)).text
    assert "Signed <strong>2</strong>" in html
    assert "Not configured <strong>1</strong>" in html
    assert "Rejected <strong>0</strong>" in html


def test_legal_reviewer_sees_review_only_where_review_is_needed(brand, legal_client):
    config_with_status(brand, "DE", "signed")
    config_with_status(brand, "AT", "changed")
    html = legal_client.get(matrix_url(brand)).text
    assert 'aria-label="Review Austria"' in html
    assert 'aria-label="Review Germany"' not in html
    assert 'aria-label="Edit Austria"' not in html  # legal reviewers do not edit


def test_market_with_config_no_longer_in_brand_is_marked(brand, lead_client):
    config_with_status(brand, "DE", "signed")
    brand.markets.remove(market("DE"))
    html = lead_client.get(matrix_url(brand)).text
    assert "Germany" in html
    assert "No longer a market of the brand" in html
    assert 'aria-label="Edit Germany"' not in html


# --- search, pages, queries --------------------------------------------------------------------


def test_search_by_name_or_code(brand, lead_client):
    html = lead_client.get(matrix_url(brand, q="germ")).text
    table = html[html.index('id="consent-table"') :]
    assert ">Germany</a>" in table and ">Austria</a>" not in table
    table = lead_client.get(matrix_url(brand, q="at")).text
    table = table[table.index('id="consent-table"') :]
    assert ">Austria</a>" in table and ">France</a>" not in table
    html = lead_client.get(matrix_url(brand, q="zzz")).text
    assert "No markets match" in html and "“zzz”" in html


def test_htmx_answers_the_table_only(brand, lead_client):
    response = lead_client.get(matrix_url(brand, q="fr"), HTTP_HX_REQUEST="true")
    html = response.text
    assert html.lstrip().startswith('<div id="consent-table">')
    assert ">France</a>" in html
    assert "HX-Request" in response["Vary"]


def test_pagination(brand, lead_client, settings):
    settings.KOASTOPS_PAGE_SIZE = 2
    html = lead_client.get(matrix_url(brand)).text
    assert "Page 1 of 2" in html
    assert ">Austria</a>" in html and ">France</a>" in html and ">Germany</a>" not in html
    html = lead_client.get(matrix_url(brand, page="2")).text
    assert ">Germany</a>" in html and ">Austria</a>" not in html
    # a bad page number gives a page, never an error
    assert lead_client.get(matrix_url(brand, page="x")).status_code == 200
    assert lead_client.get(matrix_url(brand, page="999")).status_code == 200


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_markets(lead, settings, django_assert_max_num_queries):
    settings.KOASTOPS_PAGE_SIZE = 50
    brand = BrandFactory(name="Counted", slug="counted")
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    client = client_for(lead)
    brand.markets.set(Market.objects.filter(code__in=["DE", "AT"]))
    config_with_status(brand, "DE", "signed")
    few = _queries(client, matrix_url(brand))

    thirty = list(Market.objects.order_by("code")[:30])
    brand.markets.set(thirty)
    for index, item in enumerate(thirty[:20]):
        if not brand.consent_configs.filter(market=item).exists():
            config_with_status(brand, item.code, ["signed", "changed", "rejected"][index % 3])

    with django_assert_max_num_queries(few):
        html = client.get(matrix_url(brand)).text
    # the 30 markets, plus Germany: a config but no longer a market of the brand
    assert html.count('<th scope="row">') == 31
    assert html.count("No longer a market of the brand") == 1


# --- visibility ----------------------------------------------------------------------------------


def test_foreign_brand_markets_never_shown(brand, foreign_brand, lead_client):
    foreign_brand.markets.set(Market.objects.filter(code__in=["JP"]))
    foreign = ConsentConfigFactory(
        brand=foreign_brand,
        market=market("JP"),
        content=consent_content.parse_content(
            {
                **consent_content.defaults_for("none", "JP"),
                "platform": "custom",
                "platform_name": "ZqForeignPlatform",
            }
        ),
    )
    assert foreign.pk
    html = lead_client.get(matrix_url(brand)).text
    assert "Japan" not in html and "ZqForeignPlatform" not in html
    assert lead_client.get(matrix_url(foreign_brand)).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_matrix(brand, role):
    client = client_for(member(brand, role))
    html = client.get(matrix_url(brand)).text
    assert ">Germany</a>" in html
    can_manage = role == Role.OPS_LEAD
    assert ('name="signoff_validity_months"' in html) == can_manage
    assert ("Evidence export" in html) == (role in (Role.OPS_LEAD, Role.LEGAL_REVIEWER))
    if not can_manage:
        assert "Sign-offs stay valid for <strong>12 months</strong>" in html


def test_hostile_platform_name_is_escaped(brand, lead_client):
    content = consent_content.parse_content(
        {
            **consent_content.defaults_for("gdpr", "DE"),
            "platform": "custom",
            "platform_name": HOSTILE,
        }
    )
    ConsentConfigFactory(brand=brand, market=market("DE"), content=content)
    html = lead_client.get(matrix_url(brand)).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_sidebar_links_consent(brand, lead_client):
    html = lead_client.get(matrix_url(brand)).text
    assert f'href="{matrix_url(brand)}" aria-current="page">Consent</a>' in html


# --- empty states --------------------------------------------------------------------------------


def test_brand_without_markets_says_set_them_first(lead_client, lead, admin_client):
    bare = BrandFactory(name="Bare", slug="bare")
    policies.grant_role(lead, bare, Role.OPS_LEAD)
    html = lead_client.get(matrix_url(bare)).text
    assert "Set the brand's markets first" in html
    assert "An admin sets the brand's markets" in html
    assert reverse("catalog:brand_edit", args=[bare.slug]) not in html
    html = admin_client.get(matrix_url(bare)).text
    assert reverse("catalog:brand_edit", args=[bare.slug]) in html


# --- the validity setting -------------------------------------------------------------------------


def test_lead_sets_the_validity(brand, lead_client):
    response = lead_client.post(
        settings_url(brand), {"signoff_validity_months": "6", "version": "1"}
    )
    assert response.status_code == 302
    assert ConsentPolicy.objects.get(brand=brand).signoff_validity_months == 6
    html = lead_client.get(response["Location"]).text
    assert "Sign-offs of Own Brand now stay valid for 6 months." in html
    assert ActivityEntry.objects.filter(verb="consent_policy.updated").count() == 1


def test_validity_out_of_range_is_shown_by_the_field(brand, lead_client):
    for value in ("0", "37", "abc", ""):
        response = lead_client.post(
            settings_url(brand), {"signoff_validity_months": value, "version": "1"}
        )
        assert response.status_code == 200
        html = response.text
        assert "Nothing was saved" in html
        assert 'id="id_signoff_validity_months_error"' in html
    assert not ConsentPolicy.objects.filter(brand=brand).exists()


def test_stale_validity_says_so(brand, lead_client):
    ConsentPolicyFactory(brand=brand, signoff_validity_months=9, version=2)
    response = lead_client.post(
        settings_url(brand), {"signoff_validity_months": "6", "version": "1"}, follow=True
    )
    html = response.text
    assert "changed the sign-off validity meanwhile" in html
    assert "it is now 9 months" in html
    assert ConsentPolicy.objects.get(brand=brand).signoff_validity_months == 9


def test_validity_settings_refused_for_legal(brand, legal_client):
    response = legal_client.post(
        settings_url(brand), {"signoff_validity_months": "6", "version": "1"}
    )
    assert response.status_code == 403
    assert legal_client.get(settings_url(brand)).status_code == 405


def test_invalid_validity_with_htmx_swaps_the_settings_only(brand, lead_client):
    response = lead_client.post(
        settings_url(brand),
        {"signoff_validity_months": "40", "version": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.text
    assert html.lstrip().startswith(
        '<section class="card" aria-labelledby="consent-settings-title"'
    )
    assert "Ensure this value is less than or equal to 36." in html


def test_validity_saved_with_htmx_navigates(brand, lead_client):
    response = lead_client.post(
        settings_url(brand),
        {"signoff_validity_months": "1", "version": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert matrix_url(brand) in response["HX-Location"]
    assert "now stay valid for 1 month." in response["HX-Trigger"]


def test_invalid_validity_page_links_back_to_the_matrix(brand, lead_client, settings):
    settings.KOASTOPS_PAGE_SIZE = 2
    html = lead_client.post(
        settings_url(brand), {"signoff_validity_months": "0", "version": "1"}
    ).text
    assert f'href="{matrix_url(brand)}?page=2"' in html
    assert f'href="{settings_url(brand)}?' not in html
