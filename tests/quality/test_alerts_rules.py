"""Alert rules: the services (validation by field, compare-and-set, activity) and the rule
pages (list, form, delete)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.core.exceptions import StaleVersion
from koastops.quality import alert_services
from koastops.quality.models import AlertRule
from tests.factories import (
    AdAccountFactory,
    AlertFactory,
    AlertRuleFactory,
    EventDefinitionFactory,
    EventMappingFactory,
    PixelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(brand):
    user = UserFactory(email="ops@example.com")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.fixture
def analyst(brand):
    user = UserFactory(email="analyst@example.com")
    policies.grant_role(user, brand, Role.ANALYST)
    return user


@pytest.fixture
def plan(brand):
    event = EventDefinitionFactory(brand=brand, name="purchase_done", status="active")
    if not event.mappings.filter(platform="meta").exists():
        EventMappingFactory(event=event, target="Purchase")
    return event


def _create(actor, brand, **fields):
    values = {"kind": "silent", "threshold": "12"} | fields
    return alert_services.alert_rule_create(actor=actor, brand=brand, **values)


def _errors(info) -> dict[str, list[str]]:
    return info.value.message_dict


def test_create_records_activity_and_evaluates_after_commit(
    brand, ops, pixel, enqueued, django_capture_on_commit_callbacks, activity
):
    with django_capture_on_commit_callbacks(execute=True):
        rule = _create(
            ops, brand, pixel=pixel.pk, webhook_url="https://hooks.example.com/services/T/B/secret"
        )
    assert (rule.kind, rule.threshold, rule.pixel_id, rule.version) == (
        "silent",
        Decimal("12.00"),
        pixel.pk,
        1,
    )
    entry = activity.one("alert_rule.created", actor=ops, brand=brand)
    assert entry.after["webhook"] == "set"
    assert "secret" not in str(entry.after)  # a webhook URL is a secret
    assert enqueued.names == ["koastops.quality.evaluate_alert_rule"]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "nonsense"}, "kind", "Choose a kind"),
        ({"threshold": ""}, "threshold", "Enter a threshold (hours)"),
        ({"threshold": "abc"}, "threshold", "Enter a number"),
        ({"threshold": "0"}, "threshold", "from 1 to 720"),
        ({"threshold": "NaN"}, "threshold", "from 1 to 720"),
        ({"kind": "emq_below", "threshold": "11"}, "threshold", "from 0.1 to 10"),
        ({"kind": "volume_drop", "threshold": "150"}, "threshold", "from 1 to 100"),
        ({"kind": "dedup_below", "threshold": "-5"}, "threshold", "from 1 to 100"),
        ({"kind": "emq_below", "threshold": "5", "event": "Lead"}, "event", "not a key event"),
        ({"pixel": 999_999}, "pixel", "Choose one of this brand's pixels"),
        ({"pixel": "x"}, "pixel", "Choose one of this brand's pixels"),
        ({"webhook_url": "http://hooks.example.com/x"}, "webhook_url", "https://"),
        ({"webhook_url": "https://10.0.0.5/hook"}, "webhook_url", "private address"),
        ({"webhook_url": "https://127.1/hook"}, "webhook_url", "loopback"),
        ({"webhook_url": "https://[::ffff:169.254.169.254]/"}, "webhook_url", "link-local"),
        ({"webhook_url": "https://u:p@hooks.example.com/"}, "webhook_url", "user name"),
        ({"webhook_url": "https://hooks.example.com:8443/"}, "webhook_url", "standard ports"),
        ({"webhook_url": "https://x.com/" + "a" * 500}, "webhook_url", "At most 500"),
    ],
)
def test_create_refuses_bad_input_by_field(brand, ops, plan, activity, fields, field, words):
    with pytest.raises(ValidationError) as info:
        _create(ops, brand, **fields)
    errors = _errors(info)
    assert field in errors and words in " ".join(errors[field]), errors
    assert not AlertRule.objects.exists()
    activity.none()


def test_a_foreign_brands_pixel_is_refused(brand, foreign_brand, ops):
    with pytest.raises(ValidationError) as info:
        _create(ops, brand, pixel=PixelFactory(brand=foreign_brand).pk)
    assert "pixel" in _errors(info)


def test_kinds_without_threshold_or_event_ignore_them(brand, ops, plan):
    rule = _create(ops, brand, kind="connection_broken", threshold="999", event="Nope")
    assert (rule.threshold, rule.event) == (None, "")
    rule = _create(ops, brand, kind="discrepancy", threshold="", event="Purchase")
    assert (rule.threshold, rule.event) == (None, "Purchase")


def test_only_ops_leads_manage_rules(brand, analyst):
    with pytest.raises(PermissionDenied):
        _create(analyst, brand)


def test_update_compare_and_set_and_activity(brand, ops, plan, activity):
    rule = _create(ops, brand, kind="emq_below", threshold="6")
    activity.new()
    saved = alert_services.alert_rule_update(
        actor=ops,
        rule=rule,
        version=1,
        threshold="5.5",
        event="Purchase",
        notify_email=False,
        webhook_url="https://hooks.example.com/a",
    )
    assert (saved.version, saved.threshold, saved.event, saved.notify_email) == (
        2,
        Decimal("5.50"),
        "Purchase",
        False,
    )
    entry = activity.one("alert_rule.updated", actor=ops, brand=brand)
    assert entry.before == {
        "threshold": "6.00",
        "event": "",
        "notify_email": True,
        "webhook": "none",
        "version": 1,
    }
    assert entry.after["webhook"] == "set" and entry.after["version"] == 2
    with pytest.raises(StaleVersion):
        alert_services.alert_rule_update(actor=ops, rule=rule, version=1, threshold="7")
    activity.none()
    # Nothing changed: nothing written.
    alert_services.alert_rule_update(
        actor=ops,
        rule=saved,
        version=2,
        threshold="5.5",
        event="Purchase",
        notify_email=False,
        webhook_url="https://hooks.example.com/a",
    )
    activity.none()
    assert AlertRule.objects.get().version == 2


def test_disabling_a_rule_resolves_its_open_alerts(brand, ops, pixel, activity):
    rule = _create(ops, brand)
    alert = AlertFactory(rule=rule, pixel=pixel)
    activity.new()
    alert_services.alert_rule_update(actor=ops, rule=rule, version=1, threshold="12", enabled=False)
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert [e.verb for e in activity.new()] == ["alert_rule.updated", "alert.resolved"]


def test_delete_resolves_open_alerts_and_keeps_history(brand, ops, pixel, activity):
    rule = _create(ops, brand)
    alert = AlertFactory(rule=rule, pixel=pixel)
    activity.new()
    with pytest.raises(StaleVersion):
        alert_services.alert_rule_delete(actor=ops, rule=rule, version=7)
    alert_services.alert_rule_delete(actor=ops, rule=rule, version=1)
    assert not AlertRule.objects.exists()
    alert.refresh_from_db()
    assert (alert.status, alert.rule_id) == ("resolved", None)
    assert [e.verb for e in activity.new()] == ["alert.resolved", "alert_rule.deleted"]


# --- pages ----------------------------------------------------------------------------------


def _client(client, user):
    client.force_login(user)
    return client


def test_rules_page_lists_rules_and_offers_add_to_ops_leads(client, brand, ops, analyst, pixel):
    AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"), pixel=pixel)
    AlertRuleFactory(brand=brand, kind="volume_drop", threshold=Decimal("40"))
    url = reverse("quality:alert_rules", args=[brand.slug])
    page = _client(client, ops).get(url).content.decode()
    assert "Add rule" in page and "Shop pixel" in page and "40%" in page
    page = _client(client, analyst).get(url).content.decode()
    assert "Add rule" not in page and "ops leads add, change and delete" in page


def test_rules_page_hides_rules_on_pixels_a_narrowed_buyer_cannot_see(client, brand, pixel):
    hidden_account = AdAccountFactory(brand=brand)
    hidden = PixelFactory(brand=brand, name="HiddenPixelMarker")
    hidden.ad_accounts.add(hidden_account)
    buyer = UserFactory()
    policies.grant_role(buyer, brand, Role.MEDIA_BUYER)
    policies.set_ad_account_narrowing(buyer, brand, list(pixel.ad_accounts.all()))
    AlertRuleFactory(brand=brand, pixel=hidden)
    AlertRuleFactory(brand=brand, pixel=pixel)
    page = _client(client, buyer).get(reverse("quality:alert_rules", args=[brand.slug]))
    text = page.content.decode()
    assert "HiddenPixelMarker" not in text and "Shop pixel" in text


def test_new_rule_form_saves_and_redirects(client, brand, ops, plan, enqueued):
    url = reverse("quality:alert_rule_new", args=[brand.slug])
    response = _client(client, ops).get(url)
    assert response.status_code == 200 and "Every key event" in response.content.decode()
    response = client.post(
        url,
        {"kind": "emq_below", "threshold": "6", "event": "Purchase", "enabled": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("quality:alert_rules", args=[brand.slug])
    rule = AlertRule.objects.get()
    assert (rule.kind, rule.event, rule.enabled, rule.notify_email) == (
        "emq_below",
        "Purchase",
        True,
        False,
    )


def test_new_rule_form_shows_errors_by_field(client, brand, ops, htmx_headers):
    url = reverse("quality:alert_rule_new", args=[brand.slug])
    response = _client(client, ops).post(
        url,
        {"kind": "silent", "threshold": "0", "webhook_url": "https://192.168.0.1/x"},
        **htmx_headers,
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_threshold_error"' in page or "from 1 to 720" in page
    assert "192.168.0.1 is a private address" in page
    assert "<html" not in page  # the form fragment
    assert not AlertRule.objects.exists()


def test_edit_form_stale_version_shows_the_current_values(client, brand, ops):
    rule = AlertRuleFactory(brand=brand, kind="silent", threshold=Decimal("6"))
    url = reverse("quality:alert_rule_edit", args=[brand.slug, rule.pk])
    _client(client, ops)
    assert client.get(url).status_code == 200
    AlertRule.objects.filter(pk=rule.pk).update(version=2, threshold=Decimal("8"))
    response = client.post(url, {"threshold": "10", "version": "1", "enabled": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and "someone changed this rule meanwhile" in page
    assert 'value="8"' in page
    response = client.post(url, {"threshold": "10", "version": "2", "enabled": "on"})
    assert response.status_code == 302
    assert AlertRule.objects.get().threshold == Decimal("10")


def test_edit_and_delete_of_a_foreign_rule_is_404(client, brand, foreign_brand, ops):
    foreign = AlertRuleFactory(brand=foreign_brand)
    _client(client, ops)
    assert (
        client.get(reverse("quality:alert_rule_edit", args=[brand.slug, foreign.pk])).status_code
        == 404
    )
    delete = reverse("quality:alert_rule_delete", args=[brand.slug, foreign.pk])
    assert client.post(delete, {"version": 1}).status_code == 404
    assert client.get(delete).status_code == 405
    assert AlertRule.objects.filter(pk=foreign.pk).exists()


def test_delete_button_deletes(client, brand, ops):
    rule = AlertRuleFactory(brand=brand)
    url = reverse("quality:alert_rule_delete", args=[brand.slug, rule.pk])
    response = _client(client, ops).post(url, {"version": "1"})
    assert response.status_code == 302
    assert not AlertRule.objects.exists()
    rule = AlertRuleFactory(brand=brand)
    url = reverse("quality:alert_rule_delete", args=[brand.slug, rule.pk])
    client.post(url, {"version": "9"})
    assert AlertRule.objects.filter(pk=rule.pk).exists()  # stale: refused with a message
