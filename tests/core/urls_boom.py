"""The project's URLs plus a view that fails, for the error-page tests."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from koastops.urls import handler403, handler404, handler500
from koastops.urls import urlpatterns as project_urls

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


@login_not_required
def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view broke: secret detail 1234")


@login_not_required
def bad(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a tampered value")


urlpatterns = [path("boom/", boom), path("bad/", bad), *project_urls]
