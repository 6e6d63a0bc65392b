"""Consent pages, mounted under ``brands/<slug>/``. Each part keeps its views and URL list
in its own module of ``views/``."""

from koastops.consent.views import config, matrix, review

app_name = "consent"

urlpatterns = [
    *matrix.urlpatterns,
    *config.urlpatterns,
    *review.urlpatterns,
]
