"""The orchestrator's probes: /healthz (liveness) and /readyz (database and broker)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from koastops.celery import app as celery_app

# Nothing listens on port 1, so connecting is refused at once: a real broker outage.
CLOSED_BROKER_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def anonymous_client() -> Client:
    return Client()


@pytest.fixture
def broker_down(monkeypatch):
    """Point the app at a broker nobody listens on, then restore the configured one."""
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets
    # it), so both are overridden; monkeypatch restores both afterwards.
    # The setting first: reading it back for the restore must not see the patched variable.
    monkeypatch.setattr(celery_app.conf, "broker_url", CLOSED_BROKER_URL)
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_BROKER_URL)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    assert celery_app.conf.broker_write_url == CLOSED_BROKER_URL
    yield
    monkeypatch.undo()
    assert celery_app.conf.broker_url != CLOSED_BROKER_URL


@pytest.mark.django_db
def test_healthz_answers_ok_without_touching_the_database(
    anonymous_client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = anonymous_client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_works_when_the_database_is_down(anonymous_client, monkeypatch):
    monkeypatch.setattr(connection, "cursor", _failing_cursor)

    response = anonymous_client.get(reverse("healthz"))

    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_reports_database_and_broker_ok(anonymous_client):
    response = anonymous_client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_broker_when_it_is_unreachable(
    anonymous_client, broker_down, caplog
):
    response = anonymous_client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "broker": "unavailable",
    }
    assert "readyz: the broker is unavailable" in caplog.text


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_database_when_it_fails(
    anonymous_client, monkeypatch, caplog
):
    monkeypatch.setattr(connection, "cursor", _failing_cursor)

    response = anonymous_client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "broker": "ok",
    }
    # The reason is for the operator's log, not for anonymous callers.
    assert "OperationalError" not in response.content.decode()
    assert "Connection refused" not in response.content.decode()
    failure = next(r for r in caplog.records if "database is unavailable" in r.getMessage())
    assert failure.exc_info and "Connection refused (simulated)" in str(failure.exc_info[1])


@pytest.mark.django_db
def test_readyz_names_both_when_both_are_down(anonymous_client, monkeypatch, broker_down):
    monkeypatch.setattr(connection, "cursor", _failing_cursor)

    response = anonymous_client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "broker": "unavailable",
    }
    assert "refused" not in response.content.decode().lower()


@pytest.mark.parametrize("name", ["healthz", "readyz"])
@pytest.mark.django_db
def test_probes_refuse_post(anonymous_client, name):
    response = anonymous_client.post(reverse(name))

    assert response.status_code == 405


def _failing_cursor(*args, **kwargs):
    raise OperationalError("could not connect to server: Connection refused (simulated)")
