from django.urls import path

from koastops.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.brand_list, name="brand_list"),
    path("new/", views.brand_create, name="brand_create"),
    path("<slug:slug>/", views.brand_detail, name="brand_detail"),
    path("<slug:slug>/edit/", views.brand_edit, name="brand_edit"),
    path("<slug:slug>/archive/", views.brand_archive, name="brand_archive"),
    path("<slug:slug>/restore/", views.brand_restore, name="brand_restore"),
    path("<slug:slug>/ad-accounts/", views.ad_account_list, name="ad_account_list"),
    path("<slug:slug>/ad-accounts/new/", views.ad_account_create, name="ad_account_create"),
    path("<slug:slug>/ad-accounts/<int:pk>/edit/", views.ad_account_edit, name="ad_account_edit"),
    path(
        "<slug:slug>/ad-accounts/<int:pk>/archive/",
        views.ad_account_archive,
        name="ad_account_archive",
    ),
    path(
        "<slug:slug>/ad-accounts/<int:pk>/restore/",
        views.ad_account_restore,
        name="ad_account_restore",
    ),
    path("<slug:slug>/pixels/", views.pixel_list, name="pixel_list"),
    path("<slug:slug>/pixels/new/", views.pixel_create, name="pixel_create"),
    path("<slug:slug>/pixels/<int:pk>/", views.pixel_detail, name="pixel_detail"),
    path("<slug:slug>/pixels/<int:pk>/edit/", views.pixel_edit, name="pixel_edit"),
    path("<slug:slug>/pixels/<int:pk>/token/", views.pixel_token, name="pixel_token"),
    path("<slug:slug>/pixels/<int:pk>/archive/", views.pixel_archive, name="pixel_archive"),
    path("<slug:slug>/pixels/<int:pk>/restore/", views.pixel_restore, name="pixel_restore"),
]
