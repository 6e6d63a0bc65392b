"""The legal review page and the decision POST (consent:review, consent:review_decide)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import content as consent_content
from koastops.consent import services
from koastops.consent.models import ConsentConfig, ConsentSignOff
from koastops.consent.selectors import with_status
from tests.factories import (
    AdminFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    UserFactory,
    _market,
)

HOSTILE = "<script>alert(1)</script> \"quoted\" 'single' </script>\nsecond line"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def world(db):
    brand = BrandFactory(name="Nordwind", slug="nordwind")
    market = _market("DE", "gdpr")
    ops, legal, other_legal = UserFactory(), UserFactory(), UserFactory()
    policies.grant_role(ops, brand, Role.OPS_LEAD)
    policies.grant_role(legal, brand, Role.LEGAL_REVIEWER)
    policies.grant_role(other_legal, brand, Role.LEGAL_REVIEWER)
    config = ConsentConfigFactory(
        brand=brand, market=market, content_changed_by=ops, internal_notes=HOSTILE
    )
    foreign = BrandFactory(name="Foreign Secret Brand", slug="foreign-secret")
    foreign_config = ConsentConfigFactory(brand=foreign, market=market)
    ConsentSignOffFactory(config=foreign_config, comment="FOREIGN-COMMENT-XYZ")

    class World:
        pass

    w = World()
    w.brand, w.market, w.config = brand, market, config
    w.ops, w.legal, w.other_legal = ops, legal, other_legal
    w.foreign, w.foreign_config = foreign, foreign_config
    w.label = f"{market.name} (DE)"
    return w


def _url(name, brand, code="de"):
    return reverse(f"consent:{name}", kwargs={"slug": brand.slug, "market": code})


def _status(config):
    return with_status(ConsentConfig.objects.filter(pk=config.pk)).get().status


def _change_content(config, **changes):
    content = {**config.content, **changes}
    ConsentConfig.objects.filter(pk=config.pk).update(
        content=content,
        content_hash=consent_content.content_hash(config.market.code, content),
        version=config.version + 1,
    )
    config.refresh_from_db()
    return config


def _flashes(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post(client, world, **data):
    config = ConsentConfig.objects.get(pk=world.config.pk)
    payload = {
        "decision": "approved",
        "content_hash": config.content_hash,
        "last_signoff": config.last_signoff_id or 0,
        **data,
    }
    return client.post(_url("review_decide", world.brand), payload)


# --- the page in each state -----------------------------------------------------------------


def test_never_reviewed_shows_content_first_review_and_the_form(client, world):
    client.force_login(world.legal)
    response = client.get(_url("review", world.brand))
    assert response.status_code == 200
    html = response.content.decode()
    assert world.label in html
    assert "Never reviewed" in html
    assert "First review: nothing signed before" in html
    assert "OneTrust" in html and "ad_personalization" in html
    assert "Revoke before" in html and "Limited Data Use" in html
    assert "not part of what you sign" in html
    assert ESCAPED in html and "<script>alert(1)" not in html
    assert 'name="decision"' in html and 'name="reasons"' in html
    assert f'name="content_hash" value="{world.config.content_hash}"' in html
    assert 'name="last_signoff" value="0"' in html
    expiry = services.add_months(timezone.now(), 12).date().isoformat()
    assert f'value="{expiry}"' in html
    for label in ("Pixels or events fire before consent", "Other (explain in the comment)"):
        assert label in html
    assert "Foreign Secret Brand" not in html and "FOREIGN-COMMENT-XYZ" not in html


def test_warnings_are_listed(client, world):
    defaults = {**world.config.content["defaults"], "ad_storage": "granted"}
    _change_content(world.config, defaults=defaults)
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    findings = consent_content.warnings(world.config.content, regime="gdpr")
    assert findings
    for finding in findings:
        assert finding.path in html


def test_changed_since_signoff_shows_the_diff(client, world):
    signoff = ConsentSignOffFactory(config=world.config, reviewer=world.other_legal)
    _change_content(world.config, wait_for_update=800, platform="cookiebot")
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "Changed since sign-off" in html
    assert "First review" not in html
    assert "wait_for_update (ms)" in html
    assert "<del>500</del>" in html and "<ins>800</ins>" in html
    assert "<del>onetrust</del>" in html and "<ins>cookiebot</ins>" in html
    assert f'name="last_signoff" value="{signoff.pk}"' in html
    assert f'name="content_hash" value="{world.config.content_hash}"' in html


def test_diff_values_read_as_words(client, world):
    ConsentSignOffFactory(config=world.config, reviewer=world.other_legal)
    meta = {**world.config.content["meta"], "revoke_before_init": False}
    defaults = {**world.config.content["defaults"], "ad_user_data": None}
    _change_content(world.config, meta=meta, defaults=defaults)
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "<del>yes</del>" in html and "<ins>no</ins>" in html
    assert "<del>denied</del>" in html and "<ins>not set</ins>" in html


def test_signed_shows_no_form(client, world):
    ConsentSignOffFactory(config=world.config, reviewer=world.other_legal)
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert 'name="decision"' not in html
    assert f"Already decided: {world.other_legal.email} approved this version" in html
    assert "within 30 days of expiry" in html


def test_rejected_shows_no_form(client, world):
    ConsentSignOffFactory(config=world.config, reviewer=world.other_legal, decision="rejected")
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "Rejected" in html
    assert 'name="decision"' not in html
    assert f"{world.other_legal.email} rejected this version" in html


def test_expiring_can_be_renewed(client, world):
    ConsentSignOffFactory(
        config=world.config,
        reviewer=world.other_legal,
        expires_at=timezone.now() + timedelta(days=10),
    )
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "Expiring within 30 days" in html
    assert 'name="decision"' in html


def test_own_edit_shows_no_form(client, world):
    ConsentConfig.objects.filter(pk=world.config.pk).update(content_changed_by=world.legal)
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "You changed this config; another legal reviewer must decide on it." in html
    assert 'name="decision"' not in html


def test_own_edit_post_records_nothing(client, world, activity):
    ConsentConfig.objects.filter(pk=world.config.pk).update(content_changed_by=world.legal)
    client.force_login(world.legal)
    activity.mark()
    response = _post(client, world)
    assert response.status_code == 403
    assert "another legal reviewer must decide on it" in response.content.decode()
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


# --- who may decide -------------------------------------------------------------------------


def test_admin_without_the_role_gets_403(client, world):
    admin = AdminFactory()
    client.force_login(admin)
    assert client.get(_url("review", world.brand)).status_code == 403
    assert _post(client, world).status_code == 403
    assert not ConsentSignOff.objects.filter(config=world.config).exists()


def test_admin_with_the_legal_role_can_sign(client, world, activity):
    admin = AdminFactory()
    policies.grant_role(admin, world.brand, Role.LEGAL_REVIEWER)
    client.force_login(admin)
    assert client.get(_url("review", world.brand)).status_code == 200
    activity.mark()
    response = _post(client, world)
    assert response.status_code == 302
    assert _status(world.config) == "signed"
    activity.one("consent.approved", actor=admin, brand=world.brand)


@pytest.mark.parametrize("role", [Role.OPS_LEAD, Role.ANALYST, Role.MEDIA_BUYER])
def test_other_roles_get_403(client, world, role):
    user = UserFactory()
    policies.grant_role(user, world.brand, role)
    client.force_login(user)
    assert client.get(_url("review", world.brand)).status_code == 403
    assert _post(client, world).status_code == 403


def test_foreign_brand_and_unknown_market_404(client, world):
    client.force_login(world.legal)
    assert client.get(_url("review", world.foreign)).status_code == 404
    assert client.get(_url("review", world.brand, "fr")).status_code == 404
    assert client.get(_url("review", world.brand, "zz")).status_code == 404
    assert client.get(_url("review", world.brand, "d%C3%A9")).status_code == 404
    assert client.post(_url("review_decide", world.brand, "fr"), {}).status_code == 404


def test_decide_is_post_only(client, world):
    client.force_login(world.legal)
    assert client.get(_url("review_decide", world.brand)).status_code == 405


# --- decisions ------------------------------------------------------------------------------


def test_approve_sets_signed_and_expiry(client, world, activity):
    client.force_login(world.legal)
    expires = (timezone.now() + timedelta(days=200)).date()
    activity.mark()
    response = _post(client, world, expires_on=expires.isoformat(), comment="Looks right.")
    assert response.status_code == 302
    assert response["Location"] == reverse("consent:matrix", kwargs={"slug": world.brand.slug})
    world.config.refresh_from_db()
    assert _status(world.config) == "signed"
    assert world.config.expires_at.date() == expires
    signoff = world.config.last_signoff
    assert signoff.reviewer == world.legal and signoff.comment == "Looks right."
    assert signoff.content_hash == world.config.content_hash
    activity.one("consent.approved", actor=world.legal, brand=world.brand)
    message = f"{world.label}: signed off until {expires.day} {expires:%b %Y}."
    assert _flashes(response) == [message]


def test_approve_with_the_default_expiry(client, world):
    client.force_login(world.legal)
    response = _post(client, world)
    assert response.status_code == 302
    world.config.refresh_from_db()
    expected = services.add_months(world.config.last_signoff.decided_at, 12)
    assert world.config.expires_at == expected


def test_approve_beyond_the_validity_is_an_error_by_the_field(client, world, activity):
    client.force_login(world.legal)
    activity.mark()
    too_late = (timezone.now() + timedelta(days=800)).date().isoformat()
    response = _post(client, world, expires_on=too_late)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was recorded" in html
    assert 'id="id_expires_on_error"' in html and "At most 12 months" in html
    assert f'value="{too_late}"' in html
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


def test_reject_with_reasons(client, world, activity):
    client.force_login(world.legal)
    activity.mark()
    response = _post(
        client, world, decision="rejected", reasons=["gating", "meta"], expires_on="2099-01-01"
    )
    assert response.status_code == 302
    world.config.refresh_from_db()
    assert _status(world.config) == "rejected"
    assert world.config.last_signoff.reasons == ["gating", "meta"]
    assert world.config.expires_at is None
    activity.one("consent.rejected", actor=world.legal, brand=world.brand)
    assert _flashes(response) == [f"{world.label}: rejected."]


def test_reject_without_reasons_is_an_error_by_the_field(client, world, activity):
    client.force_login(world.legal)
    activity.mark()
    response = _post(client, world, decision="rejected", comment=HOSTILE)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_reasons_error"' in html
    assert "A rejection needs at least one reason." in html
    assert "checked" in html.split('value="rejected"')[1].split(">")[0]
    assert ESCAPED in html and "<script>alert(1)" not in html  # the comment kept, escaped
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


def test_other_without_comment_is_an_error(client, world, activity):
    client.force_login(world.legal)
    activity.mark()
    response = _post(client, world, decision="rejected", reasons=["other"])
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_comment_error"' in html
    assert "Explain the “other” reason in the comment." in html
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


@pytest.mark.parametrize(
    "data",
    [
        {"decision": ""},
        {"decision": "maybe"},
        {"decision": "rejected", "reasons": ["nonsense"]},
        {"expires_on": "not a date"},
        {"comment": "x" * (services.COMMENT_MAX + 1)},
    ],
)
def test_invalid_fields_record_nothing(client, world, activity, data):
    client.force_login(world.legal)
    activity.mark()
    response = _post(client, world, **data)
    assert response.status_code == 422
    assert "Nothing was recorded" in response.content.decode()
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


def test_stale_hash_records_nothing_and_shows_the_current_version(client, world, activity):
    client.force_login(world.legal)
    old_hash = world.config.content_hash
    _change_content(world.config, wait_for_update=900)
    ConsentConfig.objects.filter(pk=world.config.pk).update(content_changed_at=timezone.now())
    activity.mark()
    response = client.post(
        _url("review_decide", world.brand),
        {"decision": "approved", "content_hash": old_hash, "last_signoff": 0},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert (
        f"This config changed after you opened it (now version {world.config.version}, "
        f"changed by {world.ops.get_full_name()} at"
    ) in html
    assert "Nothing was recorded. Review the current version below." in html
    assert f'name="content_hash" value="{world.config.content_hash}"' in html
    assert "900 ms" in html
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


def test_already_decided_records_nothing(client, world, activity):
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert 'name="last_signoff" value="0"' in html
    # Meanwhile another reviewer decides on the same version.
    services.consent_decide(
        user=world.other_legal,
        config=world.config,
        expected_hash=world.config.content_hash,
        decision="rejected",
        reasons=["defaults"],
        expected_last_signoff_id=0,
    )
    activity.mark()
    response = client.post(
        _url("review_decide", world.brand),
        {"decision": "approved", "content_hash": world.config.content_hash, "last_signoff": 0},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Already decided: {world.other_legal.email} rejected this version at" in html
    assert "Nothing was recorded." in html
    assert ConsentSignOff.objects.filter(config=world.config).count() == 1
    activity.none()


def test_one_activity_row_per_decision(client, world, activity):
    client.force_login(world.legal)
    activity.mark()
    _post(client, world, decision="rejected", reasons=["defaults"])
    activity.one("consent.rejected", actor=world.legal, brand=world.brand)
    _change_content(world.config, wait_for_update=700)
    _post(client, world)
    activity.one("consent.approved", actor=world.legal, brand=world.brand)
    assert ConsentSignOff.objects.filter(config=world.config).count() == 2


@pytest.mark.parametrize(
    ("content_hash", "last_signoff"),
    [
        ("", "0"),
        (None, None),
        ("<script>alert(1)</script>", "0"),
        ("a" * 64, "0"),
        ("A" * 64, "0"),
        ("0" * 1000, "0"),
        ("\x00", "\x00"),
        ("ok", "-1"),
        ("ok", "1e3"),
        ("ok", "9" * 40),
        ("ok", "<script>"),
        ("ok", "٣"),  # a digit, but not an ASCII one
        ("ok", "12345"),
    ],
)
def test_hostile_guard_values_never_500_and_record_nothing(
    client, world, activity, content_hash, last_signoff
):
    client.force_login(world.legal)
    data = {"decision": "approved"}
    if content_hash is not None:
        data["content_hash"] = world.config.content_hash if content_hash == "ok" else content_hash
    if last_signoff is not None:
        data["last_signoff"] = last_signoff
    activity.mark()
    response = client.post(_url("review_decide", world.brand), data)
    assert response.status_code in (422, 409)
    html = response.content.decode()
    assert "Nothing was recorded" in html
    assert "<script>alert(1)</script>" not in html
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


def test_htmx_success_navigates_with_a_toast(client, world):
    client.force_login(world.legal)
    config = world.config
    response = client.post(
        _url("review_decide", world.brand),
        {"decision": "approved", "content_hash": config.content_hash, "last_signoff": 0},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "HX-Location" in response
    assert "signed off until" in response["HX-Trigger"]


def test_review_page_constant_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.legal)
    ConsentSignOffFactory(config=world.config, reviewer=world.other_legal, decision="rejected")
    _change_content(world.config, wait_for_update=800)
    with django_assert_max_num_queries(12):
        assert client.get(_url("review", world.brand)).status_code == 200


def test_last_decision_comment_and_reasons_render_escaped(client, world):
    ConsentSignOffFactory(
        config=world.config,
        reviewer=world.other_legal,
        decision="rejected",
        reasons=["gating", "other"],
        comment=HOSTILE,
    )
    _change_content(world.config, wait_for_update=800)
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "Pixels or events fire before consent" in html
    assert f"{ESCAPED} &quot;quoted&quot; &#x27;single&#x27; &lt;/script&gt;<br>second line" in html
    assert "<script>alert(1)" not in html


def test_error_summary_links_to_the_first_option(client, world):
    client.force_login(world.legal)
    html = _post(client, world, decision="rejected").content.decode()
    assert 'href="#id_reasons_0"' in html


def test_stale_hash_wins_over_field_errors(client, world, activity):
    """An error page must not quietly carry the newer hash: the reviewer is told first."""
    client.force_login(world.legal)
    old_hash = world.config.content_hash
    _change_content(world.config, wait_for_update=900)
    activity.mark()
    response = client.post(
        _url("review_decide", world.brand),
        {"decision": "rejected", "content_hash": old_hash, "last_signoff": 0},
    )
    assert response.status_code == 409
    assert "This config changed after you opened it" in response.content.decode()
    assert not ConsentSignOff.objects.filter(config=world.config).exists()
    activity.none()


def test_a_decision_since_the_page_wins_over_field_errors(client, world, activity):
    ConsentSignOffFactory(config=world.config, reviewer=world.other_legal, decision="rejected")
    _change_content(world.config, wait_for_update=900)
    client.force_login(world.legal)
    activity.mark()
    response = client.post(
        _url("review_decide", world.brand),
        {"decision": "", "content_hash": world.config.content_hash, "last_signoff": 0},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Already decided: {world.other_legal.email} rejected version 1 at" in html
    assert ConsentSignOff.objects.filter(config=world.config).count() == 1
    activity.none()


def test_hostile_platform_name_and_pixel_names_render_escaped(client, world):
    from tests.factories import PixelFactory

    PixelFactory(brand=world.brand, external_id="PX9", name='<img src=x onerror="alert(1)">')
    ConsentSignOffFactory(config=world.config, reviewer=world.other_legal)
    content = consent_content.parse_content(
        {
            **world.config.content,
            "platform": "custom",
            "platform_name": '<script>alert(1)</script> "Acme"',
            "pixels": [{"id": "PX9", "category": "marketing"}],
        }
    )
    _change_content(world.config, **content)
    client.force_login(world.legal)
    html = client.get(_url("review", world.brand)).content.decode()
    assert "<dd>&lt;script&gt;alert(1)&lt;/script&gt; &quot;Acme&quot;</dd>" in html
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt; &quot;Acme&quot;</ins>" in html
    assert (
        '<th scope="row">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</th><td><code>PX9</code>'
        in html
    )
    assert "<script>alert(1)" not in html and "<img src=x" not in html
