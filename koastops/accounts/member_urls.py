"""Under ``/brands/<slug>/members/`` (the slug comes from the including pattern)."""

from django.urls import path

from koastops.accounts import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("invite/", views.member_invite, name="invite"),
    # The invite form, fetched on demand by "Invite a member" (the page without JavaScript).
    path("invite/form/", views.member_invite_form, name="invite_form"),
    path("<int:user_id>/role/", views.member_role, name="role"),
    path("<int:user_id>/role/edit/", views.member_role_edit, name="role_edit"),
    path("<int:user_id>/revoke/", views.member_revoke, name="revoke"),
    path("<int:user_id>/deactivate/", views.member_deactivate, name="deactivate"),
]
