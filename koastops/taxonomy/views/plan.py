"""Taxonomy pages: plan (see koastops/taxonomy/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
