"""Launch pages: a launch's page, its live checklist, submit, re-run, mark launched (owned by its part; stubs in the foundation so every part can
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
    path("<int:pk>/", _stub("launch.view"), name="detail"),
    path("<int:pk>/runs/<int:run_pk>/", _stub("launch.view"), name="run_status"),
    path("<int:pk>/submit/", _stub("launch.submit"), name="submit"),
    path("<int:pk>/rerun/", _stub("launch.view"), name="rerun"),
    path("<int:pk>/launched/", _stub("launch.export"), name="mark_launched"),
]
