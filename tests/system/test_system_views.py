"""The admin-only System page and its worker round trip (ping) fragments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koastops.system.models import WorkerPing
from tests.factories import HeartbeatFactory, WorkerPingFactory

pytestmark = pytest.mark.django_db

SYSTEM_URL = "/system/"
PING_CREATE_URL = "/system/pings/"


def _done_ping(admin_user, *, hostname: str = "worker-1", seconds: float = 1.25) -> WorkerPing:
    ping = WorkerPingFactory(requested_by=admin_user)
    WorkerPing.objects.filter(pk=ping.pk).update(
        status=WorkerPing.Status.DONE,
        completed_at=ping.created_at + timedelta(seconds=seconds),
        worker_hostname=hostname,
    )
    ping.refresh_from_db()
    return ping


# --- the page ---------------------------------------------------------------------------
def test_urls_are_where_the_page_links_them():
    assert reverse("system:system") == SYSTEM_URL
    assert reverse("system:ping_create") == PING_CREATE_URL


def test_admin_sees_the_system_page_with_its_components(admin_client):
    response = admin_client.get(SYSTEM_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>System</h1>" in html
    assert connection.vendor in html
    assert "Beat has not run yet" in html
    assert "No pings yet" in html
    assert 'id="ping-status"' in html
    assert f'action="{PING_CREATE_URL}"' in html
    assert f'hx-post="{PING_CREATE_URL}"' in html
    assert 'hx-target="#ping-status"' in html
    assert "csrfmiddlewaretoken" in html
    # No ping in flight: nothing polls; the recent pings only listen for a change.
    assert 'hx-trigger="every' not in html
    assert 'hx-trigger="pings-changed from:body"' in html


def test_system_page_says_when_beat_last_ran(admin_client):
    HeartbeatFactory(last_seen_at=timezone.now() - timedelta(minutes=2), detail="beat-host-1")

    html = admin_client.get(SYSTEM_URL).content.decode()

    assert "Beat last ran" in html
    assert "2\xa0minutes ago" in html
    assert "on beat-host-1" in html
    assert "Beat has not run yet" not in html


def test_system_page_lists_recent_pings(admin_client, admin_user):
    _done_ping(admin_user, hostname="celery@worker-7", seconds=0.5)
    WorkerPingFactory(requested_by=admin_user)

    html = admin_client.get(SYSTEM_URL).content.decode()

    assert "No pings yet" not in html
    assert "celery@worker-7" in html
    assert "0.50 s" in html
    assert "badge-pending" in html
    assert "badge-done" in html


def test_outsider_is_forbidden(outsider_client):
    response = outsider_client.get(SYSTEM_URL)

    assert response.status_code == 403


def test_anonymous_is_redirected_to_login():
    response = Client().get(SYSTEM_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_system_page_refuses_post(admin_client):
    assert admin_client.post(SYSTEM_URL).status_code == 405


def test_system_page_query_count_does_not_grow_with_pings(admin_client, admin_user):
    WorkerPingFactory(requested_by=admin_user)
    admin_client.get(SYSTEM_URL)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(SYSTEM_URL).status_code == 200

    for _ in range(9):
        _done_ping(admin_user)
    with CaptureQueriesContext(connection) as ten:
        response = admin_client.get(SYSTEM_URL)

    assert response.content.decode().count("<tr>") == 11  # header + 10 pings
    assert len(ten) == len(one)


# --- starting a ping --------------------------------------------------------------------
def test_admin_ping_creates_one_ping_and_enqueues_after_commit(
    admin_client, admin_user, django_capture_on_commit_callbacks, activity
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(PING_CREATE_URL)

    assert response.status_code == 302
    assert response["Location"] == SYSTEM_URL
    ping = WorkerPing.objects.get()
    assert ping.status == WorkerPing.Status.PENDING
    assert ping.requested_by == admin_user
    assert len(callbacks) == 1
    entry = activity.one("system.worker_pinged", actor=admin_user, brand=None)
    assert (entry.target_type, entry.target_id) == ("system.workerping", str(ping.pk))


def test_each_ping_writes_exactly_one_activity_row(
    admin_client, admin_user, django_capture_on_commit_callbacks, activity
):
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            assert admin_client.post(PING_CREATE_URL).status_code == 302
            activity.one("system.worker_pinged", actor=admin_user, brand=None)
    assert WorkerPing.objects.count() == 3


def test_htmx_ping_returns_the_polling_status_fragment(
    admin_client, admin_user, htmx_headers, django_capture_on_commit_callbacks, activity
):
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(PING_CREATE_URL, **htmx_headers)

    assert response.status_code == 200
    html = response.content.decode()
    ping = WorkerPing.objects.get()
    assert html.lstrip().startswith('<div id="ping-status"')
    assert "<html" not in html
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/system/pings/{ping.pk}/"' in html
    assert f'href="/system/pings/{ping.pk}/"' in html
    assert 'aria-live="polite"' in html
    assert "Waiting for a worker" in html
    activity.one("system.worker_pinged", actor=admin_user, brand=None)


def test_outsider_cannot_ping(outsider_client, django_capture_on_commit_callbacks, activity):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = outsider_client.post(PING_CREATE_URL)

    assert response.status_code == 403
    assert not WorkerPing.objects.exists()
    assert callbacks == []
    activity.none()


def test_anonymous_cannot_ping(activity):
    response = Client().post(PING_CREATE_URL)

    assert response.status_code == 302
    assert not WorkerPing.objects.exists()
    activity.none()


def test_get_on_ping_create_is_not_allowed(admin_client, activity):
    response = admin_client.get(PING_CREATE_URL)

    assert response.status_code == 405
    assert not WorkerPing.objects.exists()
    activity.none()


# --- polling a ping ---------------------------------------------------------------------
def test_pending_ping_status_keeps_polling(admin_client, admin_user, htmx_headers):
    ping = WorkerPingFactory(requested_by=admin_user)

    response = admin_client.get(reverse("system:ping_status", args=[ping.pk]), **htmx_headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "Waiting for a worker" in html


def test_done_ping_status_answers_286_without_a_trigger(admin_client, admin_user, htmx_headers):
    ping = _done_ping(admin_user, hostname="celery@worker-9", seconds=1.234)

    response = admin_client.get(reverse("system:ping_status", args=[ping.pk]), **htmx_headers)

    assert response.status_code == 286
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert response["HX-Trigger"] == "pings-changed"  # the recent pings table refreshes
    assert "hx-get" not in html
    assert "Worker <strong>celery@worker-9</strong> answered in 1.23 s" in html


def test_ping_status_without_htmx_renders_the_whole_page(admin_client, admin_user):
    ping = _done_ping(admin_user, hostname="celery@worker-3")

    response = admin_client.get(reverse("system:ping_status", args=[ping.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "celery@worker-3" in html
    assert "Back to the system overview" in html


def test_ping_status_of_unknown_ping_is_404(admin_client, htmx_headers):
    response = admin_client.get(reverse("system:ping_status", args=[999999]), **htmx_headers)

    assert response.status_code == 404


def test_outsider_cannot_poll_a_ping(outsider_client, admin_user):
    ping = WorkerPingFactory(requested_by=admin_user)

    response = outsider_client.get(reverse("system:ping_status", args=[ping.pk]))

    assert response.status_code == 403


def test_ping_status_refuses_post(admin_client, admin_user):
    ping = WorkerPingFactory(requested_by=admin_user)

    response = admin_client.post(reverse("system:ping_status", args=[ping.pk]))

    assert response.status_code == 405


def test_recent_pings_fragment_is_served_to_htmx(admin_client, admin_user, htmx_headers):
    _done_ping(admin_user, hostname="celery@worker-7", seconds=0.5)

    response = admin_client.get(reverse("system:system"), **htmx_headers)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="recent-pings"')
    assert "celery@worker-7" in html
    assert "<h1>" not in html
