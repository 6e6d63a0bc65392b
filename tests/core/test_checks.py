"""Deployment checks (`manage.py check --deploy`) for settings production must set."""

from __future__ import annotations

import pytest

from koastops.core.checks import site_url_configured


@pytest.mark.parametrize(
    "value", ["", "koastops.example.com", "ftp://koastops.example.com", "https://"]
)
def test_deploy_check_fails_without_a_usable_site_url(settings, value):
    settings.SITE_URL = value
    assert [error.id for error in site_url_configured(None)] == ["koastops.E010"]


@pytest.mark.parametrize("value", ["https://koastops.example.com", "http://10.0.0.5:8000/"])
def test_deploy_check_passes_with_a_site_url(settings, value):
    settings.SITE_URL = value
    assert site_url_configured(None) == []
