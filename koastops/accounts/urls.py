from django.contrib.auth import views as auth_views
from django.urls import include, path

from koastops.accounts.forms import EmailAuthenticationForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("", include("django.contrib.auth.urls")),
]
