"""Principals for the fuzz tests: an ops lead of the own brand (with an API token) and an
admin, on a brand with an ad account, a pixel and some activity to filter."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.activity.services import activity_record
from tests.api.conftest import ApiClient, token_for
from tests.factories import UserFactory


@pytest.fixture
def ops_lead(brand) -> User:
    user = UserFactory(email="ops-lead@example.com", full_name="Ops Lead")
    policies.grant_role(user, brand, Role.OPS_LEAD)
    return user


@pytest.fixture
def seeded(brand, foreign_brand, ad_account, pixel, ops_lead, admin_user):
    """Something behind every filter: a member, an ad account, a pixel, activity rows."""
    with transaction.atomic():
        activity_record(verb="brand.updated", actor=admin_user, target=brand, brand=brand)
        activity_record(verb="member.role_granted", actor=ops_lead, target=ops_lead, brand=brand)
    return brand


@pytest.fixture(params=["ops_lead", "admin_user"])
def principal(request, seeded) -> User:
    return request.getfixturevalue(request.param)


@pytest.fixture
def web(principal) -> Client:
    client = Client()
    client.force_login(principal)
    return client


@pytest.fixture
def api(principal) -> ApiClient:
    return ApiClient(token_for(principal))
