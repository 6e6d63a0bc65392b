"""``/api/v1/``: the ninja API's URLs, exempted from the login-required middleware — API
operations authenticate with a bearer token instead, and the OpenAPI document and its
docs page are public (they describe the API, they hold no data)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern

from koastops.api.api import api

patterns, _ninja_app_name, app_name = api.urls  # app_name "api-v1": the docs reverse it
for pattern in patterns:
    if isinstance(pattern, URLPattern):
        login_not_required(pattern.callback)

urlpatterns = patterns
