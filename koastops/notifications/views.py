from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def stub(request: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("Not built yet.")


urlpatterns = [
    path("", stub, name="list"),
    path("badge/", stub, name="badge"),
    path("read/", stub, name="read"),
]
