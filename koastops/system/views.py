from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.celery import app as celery_app
from koastops.core.htmx import render_page
from koastops.system import selectors, services
from koastops.system.models import WorkerPing

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the broker are reachable; 503 naming what is not.
    Anyone may call it, so the answer says only ok / unavailable per component; why is
    in the log (with the request id)."""
    problems: list[str] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("readyz: the database is unavailable")
        problems.append("database")
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception:
        logger.exception("readyz: the broker is unavailable")
        problems.append("broker")
    if problems:
        body = {"status": "unavailable"} | {
            name: "unavailable" if name in problems else "ok" for name in ("database", "broker")
        }
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "broker": "ok"})


@policies.admin_required
@require_GET
def system(request: AuthenticatedRequest) -> HttpResponse:
    context = {
        "pings": selectors.worker_ping_recent(),
        "beat": selectors.heartbeat_get(name="beat"),
        "broker_transport": celery_app.conf.broker_url.split(":", 1)[0],
        "database_vendor": connection.vendor,
    }
    return render_page(request, "system/system.html", context, partial="recent-pings")


@policies.admin_required
@require_POST
def ping_create(request: AuthenticatedRequest) -> HttpResponse:
    ping = services.worker_ping_request(user=request.user)
    if request.htmx:
        response = render_page(request, "system/system.html", {"ping": ping}, partial="ping-status")
        response["HX-Trigger"] = "pings-changed"
        return response
    return redirect("system:system")


@policies.admin_required
@require_GET
def ping_status(request: AuthenticatedRequest, ping_id: int) -> HttpResponse:
    ping = get_object_or_404(WorkerPing, pk=ping_id)
    response = render_page(request, "system/system.html", {"ping": ping}, partial="ping-status")
    if request.htmx and ping.status == WorkerPing.Status.DONE:
        # 286 tells htmx to stop polling; the fragment still swaps in, and the recent
        # pings table refreshes itself.
        response.status_code = 286
        response["HX-Trigger"] = "pings-changed"
    return response
