"""``/api/v1/``: the ninja API's URLs, exempted from the login-required middleware — API
operations authenticate with a bearer token instead, and the OpenAPI document and its
docs page are public (they describe the API, they hold no data)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt

from koastops.api.api import api

patterns, _ninja_app_name, app_name = api.urls  # app_name "api-v1": the docs reverse it
for pattern in patterns:
    if isinstance(pattern, URLPattern):
        login_not_required(pattern.callback)


@csrf_exempt  # like the API itself: a bearer token, never a session
@login_not_required
def not_found(request: HttpRequest, path: str) -> JsonResponse:
    """Any other path under /api/v1/: a JSON 404 like the API's own, not the HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [*patterns, re_path(r"^(?P<path>.*)$", not_found, name="not-found")]
