"""Development-only pages (outbox, style guide), included by koastops.urls only when DEBUG
is on."""

from django.urls import path

from koastops.devtools import views

app_name = "devtools"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("styleguide/", views.styleguide, name="styleguide"),
]
