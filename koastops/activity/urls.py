"""Under ``/brands/<slug>/activity/`` (the slug comes from the including pattern)."""

from django.urls import path

from koastops.activity import views

app_name = "activity"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("export/", views.activity_export, name="export"),
]
