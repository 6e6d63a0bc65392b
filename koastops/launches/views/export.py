"""Launch pages: the Ads Manager sheet and the JSON export (owned by its part; stubs in the foundation so every part can
reverse every name: each stub answers 404 until its part replaces it)."""

from django.http import Http404
from django.urls import path

from koastops.accounts import policies


def _stub(capability):
    @policies.brand_capability(capability)
    def view(request, brand, role, **kwargs):
        raise Http404("This page arrives with its part.")

    return view


urlpatterns: list = [
    path("<int:pk>/export.csv", _stub("launch.export"), name="export_csv"),
    path("<int:pk>/export.json", _stub("launch.export"), name="export_json"),
]
