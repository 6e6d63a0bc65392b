""" "Refresh now" for one pixel and the status of its pull, polled by htmx.

- ``quality:refresh`` (POST, ``quality.refresh``): queue a pull (or find the active one)
  through ``pull_services.refresh_request``; htmx gets the ``_refresh.html`` fragment
  (which starts polling), a plain form post is redirected to the run's status page.
- ``quality:pull_status`` (GET, ``quality.view``): the run's status; for htmx the
  ``_pull_status.html`` fragment, which polls every 2 s while the run is active and
  answers 286 (htmx stops polling) once it has ended; otherwise a small page.

The pixel is looked up among ``policies.pixels_for`` (a narrowed media buyer gets 404 for
a pixel outside their ad accounts), the run among the pixel's runs.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, Pixel
from koastops.core.htmx import add_toast
from koastops.quality import pull_selectors
from koastops.quality.models import PixelConnection, PullRun
from koastops.quality.pull_services import PullRefused, refresh_request


def _pixel(request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int) -> Pixel:
    return get_object_or_404(
        policies.pixels_for(request.user, brand, role=role).select_related("connection"), pk=pk
    )


def _connection(pixel: Pixel) -> PixelConnection | None:
    try:
        return pixel.connection
    except PixelConnection.DoesNotExist:
        return None


@require_POST
@policies.brand_capability("quality.refresh")
def refresh(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = _pixel(request, brand, role, pk)
    try:
        run = refresh_request(actor=request.user, pixel=pixel)
    except PullRefused as exc:
        if request.htmx:
            response = render(
                request,
                "quality/_refresh.html",
                {"brand": brand, "pixel": pixel, "run": None, "refused": str(exc)},
                status=409,
            )
            return add_toast(response, str(exc), "error")
        messages.error(request, str(exc))
        return redirect(reverse("quality:pull_status_latest", args=[brand.slug, pixel.pk]))
    if request.htmx:
        context = {"brand": brand, "pixel": pixel, "run": run, "connection": _connection(pixel)}
        return render(request, "quality/_refresh.html", context)
    messages.success(request, "The pull is queued.")
    return redirect(reverse("quality:pull_status", args=[brand.slug, pixel.pk, run.pk]))


def _status_response(
    request: AuthenticatedRequest, brand: Brand, pixel: Pixel, run: PullRun | None
) -> HttpResponse:
    context = {"brand": brand, "pixel": pixel, "run": run, "connection": _connection(pixel)}
    if request.htmx:
        response = render(request, "quality/_pull_status.html", context)
        if run is None or not run.is_active:
            response.status_code = 286  # htmx stops polling; the final fragment swaps in
        return response
    return render(request, "quality/pull_status.html", context)


@require_GET
@policies.brand_capability("quality.view")
def pull_status(
    request: AuthenticatedRequest, pk: int, run_pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = _pixel(request, brand, role, pk)
    run = get_object_or_404(PullRun.objects.select_related("requested_by"), pixel=pixel, pk=run_pk)
    return _status_response(request, brand, pixel, run)


@require_GET
@policies.brand_capability("quality.view")
def pull_status_latest(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    """The pixel's latest pull (the page a refused refresh lands on without JavaScript)."""
    pixel = _pixel(request, brand, role, pk)
    return _status_response(request, brand, pixel, pull_selectors.pull_run_latest(pixel=pixel))


urlpatterns = [
    path("pixels/<int:pk>/refresh/", refresh, name="refresh"),
    path("pixels/<int:pk>/pulls/", pull_status_latest, name="pull_status_latest"),
    path("pixels/<int:pk>/pulls/<int:run_pk>/", pull_status, name="pull_status"),
]
