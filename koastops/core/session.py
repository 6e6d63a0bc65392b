"""The absolute session timeout.

The idle timeout is Django's own (``SESSION_COOKIE_AGE`` with ``SESSION_SAVE_EVERY_REQUEST``):
a session nobody uses for a while expires. That alone lets a busy (or stolen) session live
for ever, so this middleware also ends every session ``SESSION_ABSOLUTE_TIMEOUT`` after
sign-in, however active it is, and sends the user back to the login page with a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from koastops.core.login import htmx_login_redirect, is_htmx

# Seconds since the epoch when the session's user signed in (JSON-serialisable).
SIGNED_IN_AT = "_koastops_signed_in_at"


@receiver(user_logged_in, dispatch_uid="koastops.core.session.stamp_sign_in")
def stamp_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Every sign-in restarts the clock (``login()`` keeps the data of a session that
    already belonged to the same user, so an old stamp must be overwritten)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = int(time.time())


class AbsoluteSessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if not isinstance(signed_in_at, int):
                # A session from before this middleware (or made without the signal):
                # the clock starts at its first request.
                request.session[SIGNED_IN_AT] = now
            elif now - signed_in_at >= settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds():
                return self._expired(request)
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        messages.info(request, "Your session has expired. Please sign in again.")
        login_url = resolve_url(settings.LOGIN_URL)
        # HtmxMiddleware runs after this one, so request.htmx is not there yet.
        if is_htmx(request):
            # A redirect would be followed by htmx and swapped into a fragment; the
            # browser goes to the sign-in page and comes back to the page it was on.
            return htmx_login_redirect(request, login_url)
        if request.method in ("GET", "HEAD"):
            return redirect_to_login(request.get_full_path(), login_url)
        return redirect_to_login("/", login_url)
