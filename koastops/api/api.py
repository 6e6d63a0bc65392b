"""The versioned JSON API (``/api/v1/``), built with django-ninja.

Authentication is a personal bearer token only (see ``auth.py``); every answer goes
through ``koastops.accounts.policies``. Errors are JSON and name the field:

- 401 ``{"detail": "..."}`` — missing, invalid, expired or revoked token, or the user
  is deactivated;
- 403 ``{"detail": "..."}`` — the role lacks the capability;
- 404 ``{"detail": "Not found."}`` — no such object, or a brand the user holds no role on;
- 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`` — bad input, from
  ninja's own validation or from a service's ``ValidationError``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from koastops.api.auth import ApiTokenAuth
from koastops.api.common import field_errors
from koastops.api.routers import activity, catalog, members

api = NinjaAPI(
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
)
# brands.router carries the catalog writes too (same paths, see routers/catalog.py).
api.add_router("", catalog.router)
api.add_router("", members.router)
api.add_router("", activity.router)


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
