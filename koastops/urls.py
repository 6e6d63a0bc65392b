from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from koastops.core import views as core_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:brand_list"), name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("accounts/", include("koastops.accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("koastops.core.urls")),
    path("brands/", include("koastops.catalog.urls")),
]
