"""Placeholder until the catalog pages land (being written in this same change)."""

from django.http import HttpResponse


def brand_list(request, *args, **kwargs):
    return HttpResponse(status=501)


def brand_create(request, *args, **kwargs):
    return HttpResponse(status=501)


def brand_detail(request, *args, **kwargs):
    return HttpResponse(status=501)


def brand_edit(request, *args, **kwargs):
    return HttpResponse(status=501)


def brand_archive(request, *args, **kwargs):
    return HttpResponse(status=501)


def brand_restore(request, *args, **kwargs):
    return HttpResponse(status=501)


def ad_account_list(request, *args, **kwargs):
    return HttpResponse(status=501)


def ad_account_create(request, *args, **kwargs):
    return HttpResponse(status=501)


def ad_account_edit(request, *args, **kwargs):
    return HttpResponse(status=501)


def ad_account_archive(request, *args, **kwargs):
    return HttpResponse(status=501)


def ad_account_restore(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_list(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_create(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_detail(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_edit(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_token(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_archive(request, *args, **kwargs):
    return HttpResponse(status=501)


def pixel_restore(request, *args, **kwargs):
    return HttpResponse(status=501)
