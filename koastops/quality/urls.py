"""Event-quality pages, mounted under ``brands/<slug>/``. Each part keeps its views and
URL list in its own module of ``views/``."""

from koastops.quality.views import alerts, conversions, pixels, reconciliation, refresh, setup

app_name = "quality"

urlpatterns = [
    *pixels.urlpatterns,
    *refresh.urlpatterns,
    *setup.urlpatterns,
    *conversions.urlpatterns,
    *reconciliation.urlpatterns,
    *alerts.urlpatterns,
]
