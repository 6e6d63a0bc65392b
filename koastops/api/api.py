"""The versioned JSON API (``/api/v1/``), built with django-ninja.

Authentication is a personal bearer token only (see ``auth.py``); every answer goes
through ``koastops.accounts.policies``. Errors are JSON and name the field:

- 401 ``{"detail": "..."}`` — missing, invalid, expired or revoked token, or the user
  is deactivated;
- 403 ``{"detail": "..."}`` — the role lacks the capability;
- 404 ``{"detail": "Not found."}`` — no such object, or a brand the user holds no role on;
- 400 ``{"detail": "..."}`` — a request body that is not JSON;
- 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`` — bad input, from
  ninja's own validation or from a service's ``ValidationError``;
- 429 ``{"detail": "..."}`` — the token's user sent more than ``API_THROTTLE_RATE``;
- 500 ``{"detail": "..."}`` — anything unexpected (logged with its traceback), never
  Django's HTML error page.

Every operation's OpenAPI description lists the 400 / 422 / 429 answers it can give
(``KoastopsAPI.get_openapi_schema``), so routes added later are described alike.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.throttling import AuthRateThrottle

from koastops.api.auth import ApiTokenAuth
from koastops.api.common import field_errors
from koastops.api.routers import (
    activity,
    alerts,
    catalog,
    consent,
    conversions,
    launches,
    members,
    naming,
    quality,
    taxonomy,
)

logger = logging.getLogger(__name__)

_ERROR = {"$ref": "#/components/schemas/ErrorOut"}
_VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationErrorOut"}


def _json_response(description: str, schema: dict[str, str]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class KoastopsAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """ninja's description plus the answers ninja gives without the route declaring
        them: 400 for a body that is not JSON, 413 for a body over
        ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 422 for a malformed parameter (a path id out of
        range included) and 429 when throttled."""
        schema = super().get_openapi_schema(**kwargs)
        for item in schema["paths"].values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                # ninja keys responses by int; "422" beside 422 would be a duplicate key.
                declared = {int(code) for code in responses}
                added = {429: _json_response("Too many requests.", _ERROR)}
                if "requestBody" in operation:
                    added[400] = _json_response("The request body is not valid JSON.", _ERROR)
                    added[413] = _json_response("The request body is too large.", _ERROR)
                if "requestBody" in operation or operation.get("parameters"):
                    added[422] = _json_response("Invalid input, by field.", _VALIDATION_ERROR)
                responses.update(
                    {code: answer for code, answer in added.items() if code not in declared}
                )
        return schema


def _per_thread(name: str) -> Any:
    return property(
        lambda self: getattr(self._local, name),
        lambda self, value: setattr(self._local, name, value),
    )


class TokenRateThrottle(AuthRateThrottle):
    """Per user, at ``settings.API_THROTTLE_RATE`` (e.g. ``"600/min"``; empty: off). The
    rate is read on each request, so a deployment's setting (and a test's) takes effect.

    ninja keeps one request's rate, cache key, history and clock on the throttle, which
    every thread shares; here they live per thread."""

    rate = _per_thread("rate")
    num_requests = _per_thread("num_requests")
    duration = _per_thread("duration")
    key = _per_thread("key")
    history = _per_thread("history")
    now = _per_thread("now")

    def __init__(self) -> None:
        self._local = threading.local()
        super().__init__(rate="1/s")  # replaced per request

    def allow_request(self, request: HttpRequest) -> bool:
        rate = settings.API_THROTTLE_RATE
        if not rate:
            return True
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request)


api = KoastopsAPI(
    title="koastops API",
    version="1",
    description=(
        "Read and change brands, ad accounts and pixels (writes need If-Match with the "
        "version from a GET's ETag); read activity; manage brand members. "
        "Authenticate with `Authorization: Bearer kst_…` (create a token on your own "
        "page, /me/)."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=ApiTokenAuth(),
    throttle=[TokenRateThrottle()],
)
# brands.router carries the catalog writes too (same paths, see routers/catalog.py).
api.add_router("", catalog.router)
api.add_router("", members.router)
api.add_router("", activity.router)
api.add_router("", taxonomy.router)
api.add_router("", naming.router)
api.add_router("", consent.router)
api.add_router("", quality.router)
api.add_router("", conversions.router)
api.add_router("", alerts.router)
api.add_router("", launches.router)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "Missing, invalid, expired or revoked API token."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="koastops"'
    return response


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "You may not do this."}, status=403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # One message whatever the reason, so another brand's objects cannot be told apart
    # from objects that do not exist.
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(DjangoValidationError)
def _service_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": field_errors(exc)}, status=422)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """ninja's errors, with the Python name of a schema parameter taken out of ``loc``
    (``["body", "payload", "role"]`` → ``["body", "role"]``), so each error names the
    field as the client sent it."""
    details = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if len(loc) > 2 and loc[0] in ("body", "query") and loc[1] in ("payload", "filters"):
            del loc[1]
        details.append({"loc": loc, "msg": error.get("msg", ""), "type": error.get("type")})
    return api.create_response(request, {"detail": details}, status=422)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit / 2**20:.1f} MB" if limit else "the configured size"
    return api.create_response(
        request,
        {"detail": f"The request body is larger than {size}; send it in smaller parts."},
        status=413,
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Anything no other handler answers: logged with its traceback, JSON for the client."""
    logger.exception("Unhandled API error on %s %s", request.method, request.path)
    return api.create_response(
        request, {"detail": "Internal server error; it has been logged."}, status=500
    )
