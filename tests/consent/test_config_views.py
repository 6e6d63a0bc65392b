"""A market's consent page (tables, status, sign-off, warnings, diff, snippet) and the
editor (prefill from the regime's defaults, errors and warnings by the field, stale
edits, voiding a sign-off) — by role, foreign brands never shown, hostile text inert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from koastops.consent import services
from koastops.consent.models import ConsentConfig
from koastops.consent.selectors import with_status
from tests.factories import (
    ConsentConfigFactory,
    ConsentSignOffFactory,
    EventDefinitionFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script> \"q\" '</script>'"
HOSTILE_NOTES = '<script>alert(1)</script>\n"quoted" </script> & more'


def member(brand, role: Role, email: str | None = None):
    user = UserFactory(email=email or f"{role.value}-{brand.slug}@example.com")
    policies.grant_role(user, brand, role)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def market(code: str) -> Market:
    return Market.objects.get(code=code)


def detail_url(brand, code: str = "de") -> str:
    return reverse("consent:detail", args=[brand.slug, code])


def edit_url(brand, code: str = "de") -> str:
    return reverse("consent:edit", args=[brand.slug, code])


def status_of(config) -> str:
    return with_status(ConsentConfig.objects.filter(pk=config.pk)).get().status


@pytest.fixture
def lead(brand):
    return member(brand, Role.OPS_LEAD, "lead@example.com")


@pytest.fixture
def lead_client(lead) -> Client:
    return client_for(lead)


@pytest.fixture
def meta_pixel(brand):
    return PixelFactory(brand=brand, platform="meta", name="Shop pixel", external_id="111222333")


def form_data(form_html_config=None, **overrides: Any) -> dict[str, Any]:
    """What the editor posts for a GDPR market with every signal denied."""
    data: dict[str, Any] = {
        "version": "0",
        "platform": "onetrust",
        "platform_name": "",
        "ad_storage": "denied",
        "analytics_storage": "denied",
        "ad_user_data": "denied",
        "ad_personalization": "denied",
        "mode": "basic",
        "wait_for_update": "500",
        "regions": "DE",
        "revoke_before_init": "on",
        "grant_on": "marketing",
        "ldu_country": "0",
        "ldu_state": "0",
        "internal_notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- the page --------------------------------------------------------------------------------


def test_detail_shows_the_config_as_tables_with_pixel_names(brand, lead_client, meta_pixel):
    event = EventDefinitionFactory(brand=brand, name="Purchase", status="active")
    content = consent_content.parse_content(
        {
            **consent_content.defaults_for("gdpr", "DE", pixels=[meta_pixel.external_id]),
            "events": [{"name": event.name, "category": "analytics"}],
        }
    )
    config = ConsentConfigFactory(brand=brand, market=market("DE"), content=content)
    html = lead_client.get(detail_url(brand)).text
    assert "Consent: Germany" in html
    assert "GDPR (EEA)" in html
    assert "OneTrust" in html
    assert "<code>ad_user_data</code>" in html and "Denied" in html
    assert "Shop pixel" in html and "111222333" in html
    assert "<code>Purchase</code>" in html and "Analytics" in html
    assert "Never reviewed" in html
    assert "Internal notes — not part of what legal signs off" in html
    # the snippet with its hash, in two code blocks with Copy buttons
    assert html.count("<pre><code") == 2
    assert config.content_hash in html
    assert "gtag(&#x27;consent&#x27;, &#x27;default&#x27;" in html
    assert "fbq(&#x27;consent&#x27;, &#x27;revoke&#x27;)" in html
    assert html.count('data-copy-target="snippet-') == 2
    assert "before any tag loads" in html
    assert "js/copy.js" in html


def test_detail_of_signed_config_shows_the_signoff(brand, lead_client):
    config = ConsentConfigFactory(brand=brand, market=market("DE"))
    reviewer = UserFactory(email="signer@example.com")
    ConsentSignOffFactory(
        config=config, reviewer=reviewer, expires_at=timezone.now() + timedelta(days=100)
    )
    html = lead_client.get(detail_url(brand)).text
    assert "badge-ok" in html and "Signed" in html
    assert "signer@example.com" in html
    assert "Changed since sign-off" not in html


def test_detail_of_rejected_config_shows_reasons_and_comment(brand, lead_client):
    config = ConsentConfigFactory(brand=brand, market=market("DE"))
    ConsentSignOffFactory(
        config=config,
        decision="rejected",
        reasons=["gating", "other"],
        comment=HOSTILE_NOTES,
        expires_at=None,
    )
    html = lead_client.get(detail_url(brand)).text
    assert "Rejected" in html
    assert "Pixels or events fire before consent" in html
    assert "Other (explain in the comment)" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_changed_config_shows_the_diff_against_the_signed_content(brand, lead, lead_client):
    brand_market = market("DE")
    config = services.config_save(
        user=lead,
        brand=brand,
        market=brand_market,
        content=consent_content.defaults_for("gdpr", "DE"),
        expected_version=0,
    )
    ConsentSignOffFactory(config=config, expires_at=timezone.now() + timedelta(days=100))
    config.refresh_from_db()
    services.config_save(
        user=lead,
        brand=brand,
        market=brand_market,
        content={**config.content, "wait_for_update": 1200},
        expected_version=config.version,
    )
    html = lead_client.get(detail_url(brand)).text
    assert "Changed since sign-off" in html
    diff = html[html.index("changed-title") :]
    assert "wait_for_update (ms)" in diff
    assert "<code>500</code>" in diff and "<code>1200</code>" in diff


def test_detail_shows_warnings(brand, lead_client):
    content = consent_content.parse_content(
        {
            **consent_content.defaults_for("gdpr", "DE"),
            "defaults": {
                "ad_storage": "granted",
                "analytics_storage": "denied",
                "ad_user_data": None,
                "ad_personalization": "denied",
            },
        }
    )
    ConsentConfigFactory(brand=brand, market=market("DE"), content=content)
    html = lead_client.get(detail_url(brand)).text
    assert "Warnings (2)" in html
    assert "ad_storage is granted by default" in html
    assert "ad_user_data is not set" in html


def test_not_configured_market_previews_the_defaults(brand, lead_client, meta_pixel):
    html = lead_client.get(detail_url(brand, "at")).text
    assert "Not configured" in html
    assert "Set up from the GDPR (EEA) defaults" in html
    assert edit_url(brand, "at") in html
    assert "111222333" in html  # the defaults gate the brand's Meta pixels


def test_not_configured_market_for_a_reader_has_no_setup_button(brand):
    client = client_for(member(brand, Role.MEDIA_BUYER))
    html = client.get(detail_url(brand, "at")).text
    assert "Not configured" in html
    assert "Set up from the" not in html
    assert "Ops leads of this brand set up consent configs." in html
    assert edit_url(brand, "at") not in html


def test_detail_404_for_other_markets_and_foreign_brands(brand, foreign_brand, lead_client):
    foreign_brand.markets.set([market("JP")])
    ConsentConfigFactory(brand=foreign_brand, market=market("JP"))
    assert lead_client.get(detail_url(brand, "jp")).status_code == 404
    assert lead_client.get(detail_url(brand, "xx")).status_code == 404
    assert lead_client.get(detail_url(brand, "deu")).status_code == 404
    assert lead_client.get(detail_url(foreign_brand, "jp")).status_code == 404
    assert lead_client.get(edit_url(brand, "jp")).status_code == 404


def test_upper_case_market_redirects_to_lower_case(brand, lead_client):
    response = lead_client.get(detail_url(brand, "DE"))
    assert response.status_code == 301
    assert response["Location"] == detail_url(brand, "de")


def test_hostile_text_renders_escaped_on_the_detail(brand, lead_client):
    content = consent_content.parse_content(
        {
            **consent_content.defaults_for("gdpr", "DE"),
            "platform": "custom",
            "platform_name": HOSTILE,
        }
    )
    ConsentConfigFactory(
        brand=brand, market=market("DE"), content=content, internal_notes=HOSTILE_NOTES
    )
    html = lead_client.get(detail_url(brand)).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # in the snippet the name is JSON-encoded (then HTML-escaped)
    assert "\\u003cscript\\u003e" in html


def test_detail_queries_do_not_grow_with_pixels(brand, lead_client, django_assert_max_num_queries):
    pixels = [PixelFactory(brand=brand, platform="meta", external_id=f"9000{n}") for n in range(20)]
    ConsentConfigFactory(
        brand=brand,
        market=market("DE"),
        content=consent_content.defaults_for("gdpr", "DE", pixels=[pixels[0].external_id]),
    )
    with CaptureQueriesContext(connection) as one:
        lead_client.get(detail_url(brand))
    config = ConsentConfig.objects.get(brand=brand)
    config.content = consent_content.defaults_for(
        "gdpr", "DE", pixels=[p.external_id for p in pixels]
    )
    config.content_hash = consent_content.content_hash("DE", config.content)
    config.save()
    with django_assert_max_num_queries(len(one)):
        html = lead_client.get(detail_url(brand)).text
    assert html.count("90001") >= 1


# --- the editor: prefill ------------------------------------------------------------------------


def test_editor_prefills_gdpr_defaults_all_denied(brand, lead_client, meta_pixel):
    html = lead_client.get(edit_url(brand)).text
    assert "Prefilled from the GDPR (EEA) defaults" in html
    for signal in consent_content.SIGNALS:
        select = html[html.index(f'name="{signal}"') :]
        select = select[: select.index("</select>")]
        assert '<option value="denied" selected>' in select
    assert 'name="version" value="0"' in html
    assert 'name="revoke_before_init" id="id_revoke_before_init" checked' in html
    pixel_select = html[html.index(f'name="pixel_{meta_pixel.pk}"') :]
    pixel_select = pixel_select[: pixel_select.index("</select>")]
    assert '<option value="marketing" selected>' in pixel_select
    assert "Shop pixel" in html


def test_editor_prefills_us_defaults_granted_with_ldu(brand, lead_client):
    brand.markets.add(market("US"))
    html = lead_client.get(edit_url(brand, "us")).text
    for signal in consent_content.SIGNALS:
        select = html[html.index(f'name="{signal}"') :]
        select = select[: select.index("</select>")]
        assert '<option value="granted" selected>' in select
    assert 'name="ldu_enabled" id="id_ldu_enabled" checked' in html
    assert 'value="advanced"' in html


def test_editor_creates_the_config(brand, lead_client, meta_pixel):
    event = EventDefinitionFactory(brand=brand, name="Lead", status="active")
    data = form_data(
        **{f"pixel_{meta_pixel.pk}": "marketing", f"event_{event.pk}": "analytics"},
        internal_notes="Checked with the web team.",
    )
    response = lead_client.post(edit_url(brand), data)
    assert response.status_code == 302
    assert response["Location"] == detail_url(brand)
    config = ConsentConfig.objects.get(brand=brand, market__code="DE")
    assert config.content["pixels"] == [{"id": "111222333", "category": "marketing"}]
    assert config.content["events"] == [{"name": "Lead", "category": "analytics"}]
    assert config.internal_notes == "Checked with the web team."
    html = lead_client.get(response["Location"]).text
    assert "Consent config for Germany saved." in html
    assert ActivityEntry.objects.filter(verb="consent_config.created").count() == 1


def test_editor_htmx_save_navigates(brand, lead_client):
    response = lead_client.post(edit_url(brand), form_data(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert detail_url(brand) in response["HX-Location"]
    assert "Consent config for Germany saved." in response["HX-Trigger"]


# --- the editor: errors and warnings by the field ----------------------------------------------


def _field_block(html: str, field_id: str) -> str:
    start = html.index(f'id="{field_id}_field"')
    return html[start : start + 3000]


def test_errors_land_by_their_fields(brand, lead_client):
    data = form_data(
        ad_storage="maybe",
        wait_for_update="99999",
        regions="DE, nope",
        platform="custom",
        platform_name="",
    )
    response = lead_client.post(edit_url(brand), data)
    assert response.status_code == 200
    html = response.text
    assert "Nothing was saved" in html
    assert "Choose one of: denied, granted." in _field_block(html, "id_ad_storage")
    assert "Enter a whole number of milliseconds" in _field_block(html, "id_wait_for_update")
    assert "nope: Enter an ISO 3166 code" in _field_block(html, "id_regions")
    assert "Name the consent platform in use." in _field_block(html, "id_platform_name")
    assert 'href="#id_ad_storage"' in html  # the summary links to the field
    assert not ConsentConfig.objects.filter(brand=brand).exists()


def test_pixel_error_lands_on_its_row(brand, lead_client, foreign_brand):
    # a pixel row whose pixel is then moved to another brand: the service refuses it by path
    ours = PixelFactory(brand=brand, platform="meta", name="Alpha", external_id="100")
    other = PixelFactory(brand=brand, platform="meta", name="Beta", external_id="200")
    data = form_data(**{f"pixel_{ours.pk}": "marketing", f"pixel_{other.pk}": "marketing"})
    type(other).objects.filter(pk=other.pk).update(brand=foreign_brand)
    # the row of Beta is gone from the form now (not the brand's), so nothing lands on Alpha
    response = lead_client.post(edit_url(brand), data)
    assert response.status_code == 302
    assert ConsentConfig.objects.get(brand=brand).content["pixels"] == [
        {"id": "100", "category": "marketing"}
    ]


def test_event_error_lands_on_its_row(brand, lead_client, monkeypatch):
    first = EventDefinitionFactory(brand=brand, name="Alpha", status="active")
    second = EventDefinitionFactory(brand=brand, name="Beta", status="active")
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError({"events.1.name": ["Beta is not an event of this brand's plan."]})

    monkeypatch.setattr(services, "config_save", refuse)
    data = form_data(**{f"event_{first.pk}": "marketing", f"event_{second.pk}": "analytics"})
    html = lead_client.post(edit_url(brand), data).text
    block = _field_block(html, f"id_event_{second.pk}")
    assert "Beta is not an event of this brand&#x27;s plan." in block
    assert "not an event" not in _field_block(html, f"id_event_{first.pk}")[:600]


def test_pixel_path_error_lands_on_its_row(brand, lead_client, monkeypatch):
    alpha = PixelFactory(brand=brand, platform="meta", name="Alpha", external_id="300")
    beta = PixelFactory(brand=brand, platform="meta", name="Beta", external_id="100")
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        # index 0 of the canonical (sorted) list: "100", Beta's row
        assert [p["id"] for p in kwargs["content"]["pixels"]] == ["100", "300"]
        raise ValidationError({"pixels.0.id": ["100 is not a pixel of this brand."]})

    monkeypatch.setattr(services, "config_save", refuse)
    data = form_data(**{f"pixel_{alpha.pk}": "marketing", f"pixel_{beta.pk}": "analytics"})
    html = lead_client.post(edit_url(brand), data).text
    assert "100 is not a pixel of this brand." in _field_block(html, f"id_pixel_{beta.pk}")[:800]
    assert "not a pixel" not in _field_block(html, f"id_pixel_{alpha.pk}")[:800]


def test_not_set_signal_is_left_out(brand, lead_client):
    response = lead_client.post(edit_url(brand), form_data(ad_personalization="not_set"))
    assert response.status_code == 302
    config = ConsentConfig.objects.get(brand=brand)
    assert config.content["defaults"]["ad_personalization"] is None
    html = lead_client.get(edit_url(brand)).text
    select = html[html.index('name="ad_personalization"') :]
    assert '<option value="not_set" selected>' in select[: select.index("</select>")]


def test_missing_required_field_is_said_by_the_field(brand, lead_client):
    data = form_data()
    del data["mode"]
    html = lead_client.post(edit_url(brand), data).text
    assert 'id="id_mode_error"' in html
    assert not ConsentConfig.objects.filter(brand=brand).exists()


def test_market_and_notes_errors(brand, lead_client, monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError(
            {"market": ["Own Brand does not run in Germany."], "internal_notes": ["Too long."]}
        )

    monkeypatch.setattr(services, "config_save", refuse)
    html = lead_client.post(edit_url(brand), form_data()).text
    summary = html[html.index("error-summary") : html.index("error-summary") + 2000]
    assert "Own Brand does not run in Germany." in summary
    assert "Too long." in _field_block(html, "id_internal_notes")


def test_warnings_by_field_on_get_and_save_allowed(brand, lead_client, meta_pixel):
    data = form_data(
        ad_storage="granted",
        ad_user_data="not_set",
        revoke_before_init=None,
        **{f"pixel_{meta_pixel.pk}": "none"},
    )
    response = lead_client.post(edit_url(brand), data)
    assert response.status_code == 302  # warnings never block a save
    html = lead_client.get(edit_url(brand)).text
    assert "4 warnings" in html
    assert "Warning: ad_storage is granted by default" in _field_block(html, "id_ad_storage")
    assert "Warning: ad_user_data is not set" in _field_block(html, "id_ad_user_data")
    assert "Warning: Meta is not revoked before init" in _field_block(html, "id_revoke_before_init")
    assert "Warning: Pixel 111222333 fires without consent" in _field_block(
        html, f"id_pixel_{meta_pixel.pk}"
    )
    assert 'aria-describedby="id_ad_storage_helptext id_ad_storage_warning"' in html


def test_warnings_shown_next_to_errors_after_a_refused_save(brand, lead_client):
    data = form_data(ad_storage="granted", ldu_enabled="on", platform_name="x" * 200)
    data["platform"] = "custom"
    html = lead_client.post(edit_url(brand), data).text
    assert "At most 100 characters." in _field_block(html, "id_platform_name")


# --- the editor: stale edits, voiding ------------------------------------------------------


def test_stale_edit_says_who_changed_it(brand, lead, lead_client):
    other = member(brand, Role.OPS_LEAD, "other-lead@example.com")
    config = services.config_save(
        user=lead,
        brand=brand,
        market=market("DE"),
        content=consent_content.defaults_for("gdpr", "DE"),
        expected_version=0,
    )
    services.config_save(
        user=other,
        brand=brand,
        market=market("DE"),
        content={**config.content, "wait_for_update": 700},
        expected_version=1,
    )
    response = lead_client.post(edit_url(brand), form_data(version="1", wait_for_update="900"))
    assert response.status_code == 200
    html = response.text
    assert "other-lead@example.com" in html
    assert "your changes were not saved — review and save again" in html
    assert 'name="version" value="2"' in html
    assert 'value="700"' in html  # the current data
    assert ConsentConfig.objects.get(pk=config.pk).content["wait_for_update"] == 700
    htmx = lead_client.post(edit_url(brand), form_data(version="1"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 409


def test_saving_signed_content_voids_the_signoff(brand, lead, lead_client):
    config = services.config_save(
        user=lead,
        brand=brand,
        market=market("DE"),
        content=consent_content.defaults_for("gdpr", "DE"),
        expected_version=0,
    )
    ConsentSignOffFactory(config=config, expires_at=timezone.now() + timedelta(days=100))
    html = lead_client.get(edit_url(brand)).text
    assert "Saving a change to the signed content voids the sign-off" in html

    # notes only: the sign-off stays
    response = lead_client.post(
        edit_url(brand), form_data(version="1", internal_notes="Just a note."), follow=True
    )
    assert "Consent config for Germany saved." in response.text
    assert "The sign-off is void" not in response.text
    assert status_of(config) == "signed"

    response = lead_client.post(
        edit_url(brand), form_data(version="2", wait_for_update="800"), follow=True
    )
    assert (
        "Consent config for Germany saved. The sign-off is void: the signed content changed."
        in response.text
    )
    assert status_of(config) == "changed"


def test_missing_version_is_refused(brand, lead_client):
    data = form_data()
    del data["version"]
    html = lead_client.post(edit_url(brand), data).text
    assert "This form is out of date or incomplete" in html
    assert not ConsentConfig.objects.filter(brand=brand).exists()


def test_hostile_text_renders_escaped_in_the_editor(brand, lead_client):
    content = consent_content.parse_content(
        {
            **consent_content.defaults_for("gdpr", "DE"),
            "platform": "custom",
            "platform_name": HOSTILE,
        }
    )
    ConsentConfigFactory(
        brand=brand, market=market("DE"), content=content, internal_notes=HOSTILE_NOTES
    )
    html = lead_client.get(edit_url(brand)).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("role", [Role.MEDIA_BUYER, Role.ANALYST, Role.LEGAL_REVIEWER])
def test_editor_refused_for_non_leads(brand, role):
    client = client_for(member(brand, role))
    assert client.get(edit_url(brand)).status_code == 403
    assert client.post(edit_url(brand), form_data()).status_code == 403
    assert not ConsentConfig.objects.filter(brand=brand).exists()
    html = client.get(detail_url(brand)).text
    assert edit_url(brand) not in html


def test_editor_queries_do_not_grow_with_pixels_and_events(
    brand, lead_client, django_assert_max_num_queries
):
    PixelFactory(brand=brand, platform="meta", external_id="5000")
    EventDefinitionFactory(brand=brand, name="Event0", status="active")
    with CaptureQueriesContext(connection) as one:
        lead_client.get(edit_url(brand))
    for n in range(1, 20):
        PixelFactory(brand=brand, platform="meta", external_id=f"500{n}")
        EventDefinitionFactory(brand=brand, name=f"Event{n}", status="active")
    with django_assert_max_num_queries(len(one)):
        html = lead_client.get(edit_url(brand)).text
    assert html.count('name="pixel_') == 20 and html.count('name="event_') == 20
