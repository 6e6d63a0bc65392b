from django.urls import path

from koastops.accounts import views_profile

app_name = "profile"

urlpatterns = [
    path("", views_profile.profile_detail, name="detail"),
    path("tokens/", views_profile.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views_profile.token_revoke, name="token_revoke"),
]
