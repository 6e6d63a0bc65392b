"""The signed-in user's own notifications (install-wide, not per brand): the list, the
unread count the site header loads after the page (htmx, so no page pays a query for
it), marking read, and opening one (marks it read, then goes to what it is about).

Every view reads only ``request.user``'s rows: another user's notification answers 404
when opened and is ignored when named in a mark-read request."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from koastops.accounts.http import AuthenticatedRequest
from koastops.core.htmx import reload_with_message, render_page
from koastops.core.pagination import paginate
from koastops.notifications import services
from koastops.notifications.models import Notification

TEMPLATE = "notifications/notification_list.html"
LIST_REGION = "notification-list"
BADGE_MAX = 99  # shown as "99+" beyond


def _unread_only(request: AuthenticatedRequest) -> bool:
    return request.GET.get("unread") == "1"


@require_GET
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    unread_only = _unread_only(request)
    page = paginate(
        request, services.notification_list(request.user, unread_only=unread_only), one_query=True
    )
    context = {
        "page": page,
        "notifications": page.object_list,
        "unread_only": unread_only,
        "unread_total": services.unread_count(request.user),
        "list_url": reverse("notifications:list"),
    }
    return render_page(request, TEMPLATE, context, partial=LIST_REGION)


@never_cache
@require_GET
def notification_badge(request: AuthenticatedRequest) -> HttpResponse:
    count = services.unread_count(request.user)
    label = f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)
    return render(request, "notifications/badge.html", {"count": count, "label": label})


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit() and len(value) < 19]


@require_POST
def notification_read(request: AuthenticatedRequest) -> HttpResponse:
    """Mark the user's notifications read: those in ``ids`` (others' ignored), or all."""
    named = request.POST.getlist("ids")
    ids = _ids(named) if named else None
    marked = services.mark_read(user=request.user, ids=ids)
    if marked:
        message = f"Marked {marked} notification{'s' if marked != 1 else ''} as read."
    else:
        message = "Nothing to mark: it was all read already."
    url = reverse("notifications:list")
    if request.POST.get("unread") == "1":
        url += "?unread=1"
    return reload_with_message(request, url, message)


@require_GET
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go to its page (a path on this install only)."""
    try:
        notification = services.notification_open(user=request.user, pk=pk)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    target = notification.url
    safe = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe else "notifications:list")


urlpatterns = [
    path("", notification_list, name="list"),
    path("badge/", notification_badge, name="badge"),
    path("read/", notification_read, name="read"),
    path("<int:pk>/open/", notification_open, name="open"),
]
