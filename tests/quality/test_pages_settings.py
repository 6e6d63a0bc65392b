"""Quality settings: the services (compare-and-set on the version, validation by field,
one activity row, admin too, others refused) and the settings page (read-only for
roles without quality.manage, 403 on their POST, errors by the field, stale edits)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections
from django.urls import reverse

from koastops.accounts.models import Role
from koastops.core.exceptions import StaleVersion
from koastops.quality import selectors
from koastops.quality.models import PixelConnection, QualitySettings
from koastops.quality.settings_services import pixel_connection_save, quality_settings_save
from tests.factories import AdminFactory, PixelConnectionFactory, PixelFactory
from tests.quality.pages_support import client_for, member

pytestmark = pytest.mark.django_db


def save(actor, brand, version=1, emq="7.5", dedup="80", tolerance="12.5"):
    return quality_settings_save(
        actor=actor,
        brand=brand,
        version=version,
        emq_threshold=emq,
        dedup_threshold=dedup,
        tolerance_pct=tolerance,
    )


def test_settings_for_gives_unsaved_defaults_then_the_saved_row(brand):
    default = selectors.settings_for(brand)
    assert default.pk is None and default.version == 1
    assert default.emq_threshold == Decimal("6.0")
    save(member(brand, Role.OPS_LEAD), brand)
    saved = selectors.settings_for(brand)
    assert saved.pk is not None and saved.emq_threshold == Decimal("7.5")


def test_ops_lead_saves_with_one_activity_row_and_version_bumps(brand, activity):
    lead = member(brand, Role.OPS_LEAD)
    row = save(lead, brand)
    assert row.version == 2 and row.tolerance_pct == Decimal("12.5")
    entry = activity.one("quality_settings.updated", actor=lead, brand=brand)
    assert entry.before == {
        "emq_threshold": "6.0",
        "dedup_threshold": "75.00",
        "tolerance_pct": "10.00",
    }
    assert entry.after["emq_threshold"] == "7.5"
    row = save(lead, brand, version=2, emq="5")
    assert row.version == 3
    activity.one("quality_settings.updated", actor=lead, brand=brand)


def test_stale_version_is_refused_and_nothing_written(brand, activity):
    lead = member(brand, Role.OPS_LEAD)
    save(lead, brand)
    activity.mark()
    with pytest.raises(StaleVersion):
        save(lead, brand, version=1, emq="1")
    with pytest.raises(StaleVersion):
        save(lead, brand, version=7, emq="1")
    assert QualitySettings.objects.get(brand=brand).emq_threshold == Decimal("7.5")
    activity.none()


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("emq", {"emq": "10.5"}),
        ("emq", {"emq": "-1"}),
        ("emq", {"emq": "abc"}),
        ("emq", {"emq": "7.25"}),
        ("dedup", {"dedup": "101"}),
        ("dedup", {"dedup": "NaN"}),
        ("tolerance", {"tolerance": "Infinity"}),
    ],
)
def test_validation_errors_name_the_field(brand, field, values, activity):
    names = {"emq": "emq_threshold", "dedup": "dedup_threshold", "tolerance": "tolerance_pct"}
    with pytest.raises(ValidationError) as caught:
        save(member(brand, Role.OPS_LEAD), brand, **values)
    assert list(caught.value.message_dict) == [names[field]]
    assert not QualitySettings.objects.filter(brand=brand).exists()
    activity.none()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER, Role.LEGAL_REVIEWER])
def test_other_roles_are_refused(brand, role, pixel):
    user = member(brand, role)
    with pytest.raises(PermissionDenied):
        save(user, brand)
    with pytest.raises(PermissionDenied):
        pixel_connection_save(actor=user, pixel=pixel, version=1, provider="demo")


def test_admin_saves_too(brand, pixel, activity):
    admin = AdminFactory()
    save(admin, brand)
    activity.one("quality_settings.updated", actor=admin, brand=brand)
    pixel_connection_save(actor=admin, pixel=pixel, version=1, provider="demo")
    activity.one("pixel_connection.updated", actor=admin, brand=brand)


def test_connection_save_creates_then_compares_the_version(brand, pixel, activity):
    lead = member(brand, Role.OPS_LEAD)
    row = pixel_connection_save(actor=lead, pixel=pixel, version=1, provider="demo")
    assert row.provider == "demo" and row.version == 2
    entry = activity.one("pixel_connection.updated", actor=lead, brand=brand)
    assert entry.before == {"provider": "meta"} and entry.after == {"provider": "demo"}
    with pytest.raises(StaleVersion):
        pixel_connection_save(actor=lead, pixel=pixel, version=1, provider="meta")
    activity.none()
    with pytest.raises(ValidationError) as caught:
        pixel_connection_save(actor=lead, pixel=pixel, version=2, provider="google")
    assert "provider" in caught.value.message_dict


def test_changing_the_provider_resets_the_connection_state_and_pulls_from_the_new_one(
    brand, pixel, enqueued, django_capture_on_commit_callbacks
):
    from koastops.quality.models import PullRun

    PixelConnectionFactory(pixel=pixel, status="broken", message="Token expired")
    with django_capture_on_commit_callbacks(execute=True):
        row = pixel_connection_save(
            actor=member(brand, Role.OPS_LEAD), pixel=pixel, version=1, provider="demo"
        )
    assert row.status == "unknown" and row.message == ""
    [run] = PullRun.objects.filter(pixel=pixel)
    assert (run.kind, run.status) == ("counts", "queued")
    assert enqueued.names == ["koastops.quality.pull_counts"]

    # Saving the same provider again pulls nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        pixel_connection_save(
            actor=member(brand, Role.OPS_LEAD), pixel=pixel, version=row.version, provider="demo"
        )
    assert PullRun.objects.filter(pixel=pixel).count() == 1
    assert enqueued.names == ["koastops.quality.pull_counts"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_have_one_winner(brand):
    lead = member(brand, Role.OPS_LEAD)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(emq: str) -> None:
        try:
            barrier.wait()
            save(lead, brand, emq=emq)
            outcomes.append("saved")
        except StaleVersion:
            outcomes.append("stale")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=attempt, args=(value,)) for value in ("7", "8")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved", "stale"]
    from koastops.activity.models import ActivityEntry

    assert ActivityEntry.objects.filter(verb="quality_settings.updated").count() == 1


# --- the page -------------------------------------------------------------------------------


def settings_url(brand) -> str:
    return reverse("quality:settings", args=[brand.slug])


def test_ops_lead_sees_the_form_and_saves(brand, pixel):
    client = client_for(member(brand, Role.OPS_LEAD))
    body = client.get(settings_url(brand)).content.decode()
    assert 'name="emq_threshold"' in body and "Shop pixel" in body
    response = client.post(
        settings_url(brand),
        {
            "emq_threshold": "6.5",
            "dedup_threshold": "70",
            "tolerance_pct": "15",
            "version": "1",
        },
    )
    assert response.status_code == 302
    assert selectors.settings_for(brand).tolerance_pct == Decimal("15")


def test_invalid_post_shows_errors_by_the_field(brand):
    client = client_for(member(brand, Role.OPS_LEAD))
    response = client.post(
        settings_url(brand),
        {
            "emq_threshold": "11",
            "dedup_threshold": "x",
            "tolerance_pct": "",
            "version": "1",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_emq_threshold_error"' in body or "id_emq_threshold_error" in body
    assert "Nothing was saved" in body


def test_stale_post_says_so(brand):
    lead = member(brand, Role.OPS_LEAD)
    save(lead, brand)
    client = client_for(lead)
    response = client.post(
        settings_url(brand),
        {
            "emq_threshold": "6.5",
            "dedup_threshold": "70",
            "tolerance_pct": "15",
            "version": "1",
        },
        follow=True,
    )
    assert "Not saved" in response.content.decode() and "changed the thresholds" in (
        response.content.decode()
    )


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MEDIA_BUYER, Role.LEGAL_REVIEWER])
def test_other_roles_read_only_and_403_on_post(brand, role, pixel):
    client = client_for(member(brand, role))
    body = client.get(settings_url(brand)).content.decode()
    assert 'name="emq_threshold"' not in body and "6.0 (0\u201310)" in body
    assert "You can read these settings" in body
    data = {"emq_threshold": "1", "dedup_threshold": "1", "tolerance_pct": "1", "version": "1"}
    assert client.post(settings_url(brand), data).status_code == 403
    url = reverse("quality:connection", args=[brand.slug, pixel.pk])
    assert client.post(url, {"provider": "demo", "version": "1"}).status_code == 403


def test_connection_post_by_ops_lead(brand, pixel, foreign_brand):
    client = client_for(member(brand, Role.OPS_LEAD))
    url = reverse("quality:connection", args=[brand.slug, pixel.pk])
    response = client.post(url, {"provider": "demo", "version": "1"}, follow=True)
    assert "now come from Demo data" in response.content.decode()
    assert PixelConnection.objects.get(pixel=pixel).provider == "demo"
    response = client.post(url, {"provider": "bogus", "version": "2"}, follow=True)
    assert "Not saved" in response.content.decode()
    response = client.post(url, {"provider": "meta", "version": "1"}, follow=True)
    assert "someone changed" in response.content.decode()
    foreign = PixelFactory(brand=foreign_brand)
    assert (
        client.post(
            reverse("quality:connection", args=[brand.slug, foreign.pk]),
            {"provider": "demo", "version": "1"},
        ).status_code
        == 404
    )
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("n", [1, 100])
def test_settings_page_queries_are_constant(brand, n, django_assert_max_num_queries):
    for index in range(n):
        PixelConnectionFactory(pixel=PixelFactory(brand=brand, name=f"S{index}"))
    client = client_for(member(brand, Role.OPS_LEAD))
    client.get(settings_url(brand))
    with django_assert_max_num_queries(10):
        assert client.get(settings_url(brand)).status_code == 200


def test_htmx_save_navigates_with_a_toast_and_invalid_swaps_422(brand, htmx_headers):
    client = client_for(member(brand, Role.OPS_LEAD))
    data = {"emq_threshold": "6.5", "dedup_threshold": "70", "tolerance_pct": "15", "version": "1"}
    response = client.post(settings_url(brand), data, **htmx_headers)
    assert response.status_code == 200 and "HX-Location" in response
    assert "toast" in response["HX-Trigger"]
    response = client.post(settings_url(brand), data | {"emq_threshold": "99"}, **htmx_headers)
    assert response.status_code == 422
    assert 'id="main"' in response.content.decode()
