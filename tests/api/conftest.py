"""API test helpers: a client that sends a bearer token, and users holding each role on
the own brand (``brand``); ``foreign_brand`` is a brand none of them holds a role on."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.accounts.tokens import api_token_create
from tests.factories import UserFactory

API = "/api/v1"


class ApiClient:
    """Django's test client with ``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: str | None) -> None:
        # CSRF checks on, as in a browser: the API must not need a CSRF token.
        self.client = Client(enforce_csrf_checks=True)
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(API + path, params or {}, **self._headers())

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            API + path, json.dumps(body), content_type="application/json", **self._headers()
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(API + path, **self._headers())

    def count_queries(self, path: str, params: dict[str, Any] | None = None) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = self.get(path, params)
        assert response.status_code == 200, response.content
        return len(queries)


_token_numbers = itertools.count(1)


def token_for(user: User, **kwargs: Any) -> str:
    """A new API token for ``user``; each gets its own name (names are unique per user)."""
    kwargs.setdefault("name", f"test {next(_token_numbers)}")
    _, raw = api_token_create(user=user, **kwargs)
    return raw


def _member(brand, email: str, role: Role) -> User:
    user = UserFactory(email=email, full_name=email.split("@")[0].replace("-", " ").title())
    policies.grant_role(user, brand, role)
    return user


@pytest.fixture
def ops_lead(brand) -> User:
    return _member(brand, "ops-lead@example.com", Role.OPS_LEAD)


@pytest.fixture
def media_buyer(brand) -> User:
    return _member(brand, "media-buyer@example.com", Role.MEDIA_BUYER)


@pytest.fixture
def analyst(brand) -> User:
    return _member(brand, "analyst@example.com", Role.ANALYST)


@pytest.fixture
def legal_reviewer(brand) -> User:
    return _member(brand, "legal@example.com", Role.LEGAL_REVIEWER)
