from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.devtools.mail import outbox_list


@policies.admin_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The development outbox: the last emails the dev mail backend wrote (DEBUG only:
    the URL exists only then)."""
    return render(request, "devtools/outbox.html", {"emails": outbox_list()})
