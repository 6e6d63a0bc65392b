"""API throttling: per token user, at settings.API_THROTTLE_RATE, 429 in JSON past it."""

from __future__ import annotations

import pytest

from koastops.accounts import policies
from koastops.accounts.models import Role
from tests.api.conftest import ApiClient, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(brand):
    user = UserFactory(email="analyst@example.com")
    policies.grant_role(user, brand, Role.ANALYST)
    return user


def test_requests_past_the_rate_answer_429_in_json(settings, analyst):
    settings.API_THROTTLE_RATE = "3/min"
    client = ApiClient(token_for(analyst))
    statuses = [client.get("/brands").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/brands/own-brand")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_the_limit_is_per_user_not_per_token_or_global(settings, analyst, admin_user):
    settings.API_THROTTLE_RATE = "2/min"
    first, second = ApiClient(token_for(analyst)), ApiClient(token_for(analyst))
    assert [first.get("/brands").status_code, second.get("/brands").status_code] == [200, 200]
    assert first.get("/brands").status_code == 429
    assert second.get("/brands").status_code == 429  # a fresh token does not reset it
    assert ApiClient(token_for(admin_user)).get("/brands").status_code == 200


def test_an_empty_rate_switches_throttling_off(settings, analyst):
    settings.API_THROTTLE_RATE = ""
    client = ApiClient(token_for(analyst))
    assert {client.get("/brands").status_code for _ in range(5)} == {200}


def test_unauthenticated_requests_get_401_not_a_throttle_count(settings, analyst):
    settings.API_THROTTLE_RATE = "1/min"
    anonymous = ApiClient("kst_not-a-token")
    assert {anonymous.get("/brands").status_code for _ in range(3)} == {401}
    assert ApiClient(token_for(analyst)).get("/brands").status_code == 200
