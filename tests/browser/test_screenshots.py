"""`manage.py screenshots` signs in as each persona and writes PNG files of the pages."""

from __future__ import annotations

import importlib
import io
import struct

import pytest
from django.apps import apps
from django.core.management import call_command

from koastops.devtools.management.commands.screenshots import take_screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_screenshots_of_the_demo_pages(chromium_browser, tmp_path):
    # An earlier transactional test's flush empties the markets the migration shipped.
    markets = importlib.import_module("koastops.catalog.migrations.0002_markets")
    markets.load_markets(apps, None)
    call_command("seed_demo", "--force", stdout=io.StringIO())
    log: list[str] = []

    written = take_screenshots(
        chromium_browser,
        out=tmp_path,
        only={"admin-members", "media-buyer-pixels-mobile"},
        log=log.append,
    )

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "admin-members.png",
        "media-buyer-pixels-mobile.png",
    ]
    assert sorted(written) == sorted(tmp_path.iterdir())
    assert png_size(tmp_path / "admin-members.png") == (1280, 800)
    assert png_size(tmp_path / "media-buyer-pixels-mobile.png") == (390, 844)
    assert any("/brands/nordwind-outdoor/members/" in line for line in log)
