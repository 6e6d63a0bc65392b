from __future__ import annotations

from django.urls import path

from koastops.accounts.policies import brand_capability
from koastops.consent.views._stub import stub

review = brand_capability("consent.sign_off")(stub)
decide = brand_capability("consent.sign_off")(stub)
history = brand_capability("consent.view")(stub)

urlpatterns = [
    path("consent/<str:market>/review/", review, name="review"),
    path("consent/<str:market>/review/decide/", decide, name="review_decide"),
    path("consent/<str:market>/history/", history, name="history"),
]
