from django.urls import path

from koastops.system import views

app_name = "system"

urlpatterns = [
    path("system/", views.system, name="system"),
    path("system/pings/", views.ping_create, name="ping_create"),
    path("system/pings/<int:ping_id>/", views.ping_status, name="ping_status"),
]
