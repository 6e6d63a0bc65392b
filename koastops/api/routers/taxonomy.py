"""API: taxonomy (under /api/v1/brands/{slug}/…)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["taxonomy"])
