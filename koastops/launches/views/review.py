"""Launch pages: review and the approval queue (owned by its part; stubs in the foundation so every part can
reverse every name: each stub answers 404 until its part replaces it)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from koastops.accounts import policies


def _stub(capability):
    @policies.brand_capability(capability)
    def view(request, brand, role, **kwargs):
        raise Http404("This page arrives with its part.")

    return view


urlpatterns: list = [
    path("<int:pk>/review/", _stub("launch.approve"), name="review"),
]


@login_required
def _queue_stub(request):
    raise Http404("The approval queue arrives with its part.")


global_urlpatterns: list = [path("review/", _queue_stub, name="queue")]
