"""Sign-in redirects that survive htmx.

A plain request without a session gets Django's 302 to the sign-in page. An htmx request
must not: XHR follows the 302 and htmx swaps the whole sign-in page into the fragment it
was updating (a search result, a role editor), and whatever the user changed is lost
without a word. htmx requests get ``HX-Redirect`` instead, so the browser itself goes to
the sign-in page, with ``next`` set to the page the browser is on (``HX-Current-URL``),
not to the fragment URL the request was for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

LOST_CHANGE_MESSAGE = (
    "Your session had ended, so your last change was not saved. Sign in and try again."
)


def is_htmx(request: HttpRequest) -> bool:
    """Read from the header: some callers run before django-htmx's middleware."""
    return request.headers.get("HX-Request") == "true"


def current_page(request: HttpRequest) -> str | None:
    """The path (and query) of the page the browser shows, from ``HX-Current-URL``, when
    it is on this site; None when the header is missing or points elsewhere."""
    url = request.headers.get("HX-Current-URL", "")
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    return f"{path}?{parts.query}" if parts.query else path


def htmx_login_redirect(
    request: HttpRequest, login_url: str, redirect_field_name: str = REDIRECT_FIELD_NAME
) -> HttpResponse:
    """``HX-Redirect`` to the sign-in page, coming back to the page the browser is on (or,
    without a usable ``HX-Current-URL``, to the URL of a GET; nowhere in particular for a
    write, whose URL is no page)."""
    next_url = current_page(request)
    if next_url is None and request.method in ("GET", "HEAD"):
        next_url = request.get_full_path()
    if next_url is None:
        target = resolve_url(login_url)
    else:
        target = redirect_to_login(next_url, login_url, redirect_field_name).url
    return HttpResponseClientRedirect(target)


class HtmxLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's ``LoginRequiredMiddleware``; htmx requests get ``HX-Redirect`` instead of
    the 302 (see the module docstring). A write that was refused leaves a message on the
    sign-in page, so the lost change is not silent."""

    # django-stubs narrows the return type to HttpResponseRedirect; HX-Redirect is a 200.
    def handle_no_permission(  # type: ignore[override]
        self, request: HttpRequest, view_func: Any
    ) -> HttpResponse:
        if not is_htmx(request):
            return super().handle_no_permission(request, view_func)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            messages.warning(request, LOST_CHANGE_MESSAGE, fail_silently=True)
        return htmx_login_redirect(
            request,
            resolve_url(self.get_login_url(view_func)),
            self.get_redirect_field_name(view_func),
        )
