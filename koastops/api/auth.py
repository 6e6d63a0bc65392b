"""Bearer-token authentication for the API: personal tokens only, never the session.

Without session authentication no API call can be forged from another site, so the API
needs no CSRF token. The token and its user are checked on every call (expiry,
revocation, ``is_active``), so losing access takes effect on the next request.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from koastops.accounts.tokens import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer kst_…``: a token created on the user's own page (/me/)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token.strip())
        if user is None:
            return None
        # Views and the services they call read ``request.user`` like any Django view.
        request.user = user
        return user
