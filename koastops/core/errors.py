"""The app's own error pages, in production and in the quickstart alike.

Django shows its technical 404 (every URL pattern) and 500 (settings, traceback) pages
whenever ``DEBUG`` is on, and ``make run`` runs with ``DEBUG=1``: a new user who opens a
brand they hold no role on would see the whole URL configuration. ``ErrorPageMiddleware``
answers with ``404.html`` / ``403.html`` / ``500.html`` instead, with or without DEBUG;
a developer who wants Django's pages sets ``DEBUG_ERROR_PAGES=1``. Unexpected exceptions
are logged exactly as Django logs them (``django.request``, full traceback).

htmx requests get the same status with a toast in ``HX-Trigger`` (the page is not swapped:
base.html's ``responseHandling`` does not swap 4xx/5xx), so the user is told what happened
in one message. The CSRF failure view is here as well (``CSRF_FAILURE_VIEW``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.utils.html import escape
from django.views.defaults import bad_request

from koastops.core.htmx import add_toast
from koastops.core.login import is_htmx
from koastops.core.middleware import request_id_var

request_logger = logging.getLogger("django.request")
# What Django answers with 400 rather than 500.
BAD_REQUEST = (BadRequest, SuspiciousOperation, MultiPartParserError)
logger = logging.getLogger(__name__)

CSRF_TOAST = "Your session changed — reload the page to continue."
NOT_FOUND_TOAST = (
    "That is not there any more, or your role does not let you see it. Reload the page."
)
FORBIDDEN_TOAST = "Your role does not allow this. Nothing was changed."
SERVER_ERROR_TOAST = "Something went wrong on the server; the error has been logged. Reload the page and check before you try again."


def _render(request: HttpRequest, template: str, context: dict, status: int) -> HttpResponse:
    body = loader.render_to_string(template, context, request=request)
    return HttpResponse(body, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: the app's 404 page (no URL patterns, no exception text)."""
    response = _render(request, "404.html", {}, 404)
    if is_htmx(request):
        add_toast(response, NOT_FOUND_TOAST, "error")
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: the reason is a sentence written for users (policies.require)."""
    message = str(exception) if exception is not None and str(exception) else ""
    response = _render(request, "403.html", {"exception": message}, 403)
    if is_htmx(request):
        add_toast(response, message or FORBIDDEN_TOAST, "error")
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the page names the request id, so a report can be matched to the
    logged traceback. If the page cannot be rendered with the request's context processors
    (they query the database, which may be what failed) it is rendered without them, and
    as bare HTML if even that fails."""
    request_id = getattr(request, "request_id", "") or request_id_var.get()
    context = {"request_id": request_id}
    body: str
    try:
        body = loader.render_to_string("500.html", context, request=request)
    except Exception:
        try:
            # Without the context processors: no database needed.
            body = loader.render_to_string("500.html", context)
        except Exception:
            logger.exception("The 500 page could not be rendered; answering bare HTML.")
            body = (
                "<!doctype html><title>Something went wrong · koastops</title>"
                "<h1>Something went wrong</h1><p>The error has been logged."
                + (f" Request id: <code>{escape(request_id)}</code>." if request_id else "")
                + ' <a href="/">Back to koastops</a></p>'
            )
    response = HttpResponseServerError(body)
    if is_htmx(request):
        add_toast(
            response,
            SERVER_ERROR_TOAST + (f" (Request id {request_id}.)" if request_id else ""),
            "error",
        )
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``. Mostly a tab left open across a sign-out or sign-in (the
    token rotates). The reason code stays in the log (django.security.csrf logs it), never
    on the page."""
    if is_htmx(request):
        response = HttpResponse(status=403)
        return add_toast(response, CSRF_TOAST, "error")
    return _render(request, "403_csrf.html", {}, 403)


def use_app_pages() -> bool:
    """The app's pages unless a developer asked for Django's technical ones."""
    return not (settings.DEBUG and getattr(settings, "DEBUG_ERROR_PAGES", False))


class ErrorPageMiddleware:
    """Renders the app's error pages for exceptions raised by views, and (with DEBUG) for
    URLs that resolve to no view. Placed after ``RequestIdMiddleware`` so the 500 page
    knows the request id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and use_app_pages()
        ):
            # No view ran: this is Django's technical "no URL pattern matched" page.
            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not use_app_pages():
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if not settings.DEBUG:
            # Production: Django's own path (logging, got_request_exception, handler500)
            # does exactly this already.
            return None
        if isinstance(exception, BAD_REQUEST):
            # Bad input is a 400, never a 500 (with DEBUG, Django would show its technical
            # page with status 400); logged as Django logs it.
            if isinstance(exception, SuspiciousOperation):
                security = logging.getLogger(f"django.security.{exception.__class__.__name__}")
                security.error(str(exception), exc_info=exception, extra={"request": request})
            return bad_request(request, exception)
        # What django.core.handlers.exception.handle_uncaught_exception does without DEBUG.
        signals.got_request_exception.send(sender=None, request=request)
        request_logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        response = server_error(request)
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
