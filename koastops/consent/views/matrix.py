from __future__ import annotations

from django.urls import path

from koastops.accounts.policies import brand_capability
from koastops.consent.views._stub import stub

matrix = brand_capability("consent.view")(stub)
settings_save = brand_capability("consent.manage")(stub)
evidence = brand_capability("consent.export")(stub)

urlpatterns = [
    path("consent/", matrix, name="matrix"),
    path("consent/settings/", settings_save, name="settings"),
    path("consent/evidence/", evidence, name="evidence"),
]
