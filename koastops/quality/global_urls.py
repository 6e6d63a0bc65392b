"""The cross-brand quality table (every pixel of the brands the user may see), at
``/quality/``."""

from koastops.quality.views import overview

app_name = "quality_all"

urlpatterns = [*overview.urlpatterns]
