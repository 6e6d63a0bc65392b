from django.contrib.auth import views as django_auth_views
from django.urls import include, path

from koastops.accounts import auth_views
from koastops.accounts.forms import EmailAuthenticationForm, EnqueuingPasswordResetForm

urlpatterns = [
    path(
        "login/",
        django_auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    # Before Django's own URLs, so these (logged, rate-limited, enqueuing) views answer
    # the same names and paths.
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=EnqueuingPasswordResetForm),
        name="password_reset",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("", include("django.contrib.auth.urls")),
]
