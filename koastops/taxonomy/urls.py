"""Tracking-plan and naming-rule pages, mounted under ``brands/<slug>/``. Each part of the
feature keeps its views and its URL list in its own module of ``views/``."""

from koastops.taxonomy.views import drift, naming, plan, transfer

app_name = "taxonomy"

urlpatterns = [
    *plan.urlpatterns,
    *naming.urlpatterns,
    *transfer.urlpatterns,
    *drift.urlpatterns,
]
