"""Static files in production: WhiteNoise's compressed manifest storage (cache-busting
hashed names, pre-compressed .gz files). Brotli (.br) files appear only where the optional
``brotli`` package is installed; it is not a dependency."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings

MANIFEST = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_settings_use_the_compressed_manifest_storage(tmp_path: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "STATIC_MANIFEST", "STATIC_ROOT")
    }
    env.update(DEBUG="0", KOASTOPS_VAR_DIR=str(tmp_path), SECRET_KEY="x" * 50)
    code = (
        "from koastops import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND'], s.WHITENOISE_USE_FINDERS)"
    )

    out = subprocess.run(  # noqa: S603 — our own interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert out == [MANIFEST, "False"]


def test_collectstatic_writes_hashed_and_compressed_files(tmp_path: Path):
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages, DEBUG=False):
        call_command("collectstatic", "--noinput", verbosity=0)
        url = Template("{% load static %}{% static 'css/app.css' %}").render(Context())

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/app.css"]
    assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", hashed)
    assert (tmp_path / hashed).is_file()
    assert (tmp_path / f"{hashed}.gz").is_file()
    assert (tmp_path / manifest["js/app.js"]).with_suffix(".js.gz").is_file()
    assert url == f"/static/{hashed}"  # the page links the hashed name: cache-busted
