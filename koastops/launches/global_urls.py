"""Launch pages across brands, mounted under ``launches/``: the approval queue."""

from koastops.launches.views import review

app_name = "launches_global"

urlpatterns = [*review.global_urlpatterns]
