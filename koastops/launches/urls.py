"""Launch pages, mounted under ``brands/<slug>/launches/``. Each part keeps its views and
URL list in its own module of ``views/``."""

from koastops.launches.views import detail, drafts, export, limits, review

app_name = "launches"

urlpatterns = [
    *drafts.urlpatterns,
    *detail.urlpatterns,
    *review.urlpatterns,
    *export.urlpatterns,
    *limits.urlpatterns,
]
