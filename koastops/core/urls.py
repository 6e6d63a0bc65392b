from django.urls import path

from koastops.core import views

app_name = "core"

urlpatterns = [
    path("system/", views.system, name="system"),
    path("system/pings/", views.ping_create, name="ping_create"),
    path("system/pings/<int:ping_id>/", views.ping_status, name="ping_status"),
]
