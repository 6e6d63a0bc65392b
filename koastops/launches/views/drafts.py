"""Launch pages: drafts: the list, the draft form, duplicate, cancel (owned by its part; stubs in the foundation so every part can
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
    path("", _stub("launch.view"), name="list"),
    path("new/", _stub("launch.create"), name="new"),
    path("<int:pk>/edit/", _stub("launch.edit"), name="edit"),
    path("rows/", _stub("launch.edit"), name="structure_row"),
    path("names/check/", _stub("naming.view"), name="name_check"),
    path("<int:pk>/duplicate/", _stub("launch.create"), name="duplicate"),
    path("<int:pk>/cancel/", _stub("launch.cancel"), name="cancel"),
]
