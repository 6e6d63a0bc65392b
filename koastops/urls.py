from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from koastops.dashboard import views as dashboard_views
from koastops.system import views as system_views

# The app's error pages (koastops.core.errors also renders them with DEBUG on).
handler403 = "koastops.core.errors.permission_denied"
handler404 = "koastops.core.errors.page_not_found"
handler500 = "koastops.core.errors.server_error"

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", system_views.healthz, name="healthz"),
    path("readyz", system_views.readyz, name="readyz"),
    path("accounts/", include("koastops.accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("koastops.system.urls")),
    path("brands/<slug:slug>/members/", include("koastops.accounts.member_urls")),
    path("brands/<slug:slug>/activity/", include("koastops.activity.urls")),
    path("brands/<slug:slug>/", include("koastops.taxonomy.urls")),
    path("brands/<slug:slug>/", include("koastops.consent.urls")),
    path("brands/<slug:slug>/quality/", include("koastops.quality.urls")),
    path("quality/", include("koastops.quality.global_urls")),
    path("brands/<slug:slug>/launches/", include("koastops.launches.urls")),
    path("launches/", include("koastops.launches.global_urls")),
    path("notifications/", include("koastops.notifications.urls")),
    path("naming-defaults/", include("koastops.taxonomy.default_urls")),
    path("brands/", include("koastops.catalog.urls")),
    path("api/v1/", include("koastops.api.urls")),
    path("me/", include("koastops.accounts.profile_urls")),
]

if settings.DEBUG:
    # Development pages (the email outbox); a string, so nothing imports devtools.
    urlpatterns.append(path("dev/", include("koastops.devtools.urls")))
