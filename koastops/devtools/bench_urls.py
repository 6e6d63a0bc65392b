"""URLconf used only by `manage.py bench`: the project's URLs plus a bare "floor" view.

The floor view does no work of its own, so its time is what every page pays for the
middleware stack (session, auth, CSRF, CSP, htmx, request id) and the test client; the
benchmark reports each page as a ratio to it.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from koastops.urls import urlpatterns as project_urlpatterns


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *project_urlpatterns]
