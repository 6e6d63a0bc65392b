from __future__ import annotations

from django.urls import path

from koastops.accounts.policies import brand_capability
from koastops.consent.views._stub import stub

detail = brand_capability("consent.view")(stub)
edit = brand_capability("consent.manage")(stub)

urlpatterns = [
    path("consent/<str:market>/", detail, name="detail"),
    path("consent/<str:market>/edit/", edit, name="edit"),
]
