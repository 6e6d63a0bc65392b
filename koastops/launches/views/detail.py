"""Launch pages: detail (owned by its part; placeholder in the foundation)."""

from django.http import Http404
from django.urls import path

from koastops.accounts import policies


@policies.brand_capability("launch.view")
def detail(request, brand, role, pk):
    raise Http404("The launch page arrives with its part.")


urlpatterns: list = [path("<int:pk>/", detail, name="detail")]
