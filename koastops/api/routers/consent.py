"""API: consent (under /api/v1/brands/{slug}/…). To be written by the API part of #9:

- ``GET consent`` (``consent.view``): per market of the brand, its config, content hash,
  status and current sign-off;
- ``GET consent/{market}/sign-offs`` (``consent.view``): the config's decisions, newest
  first.
"""

from __future__ import annotations

from typing import Any

from ninja import Router

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability

router = Router(tags=["consent"])


@router.get("brands/{slug}/consent", url_name="consent_list")
def consent_list(request: ApiRequest, slug: str) -> Any:
    brand_with_capability(request, slug, "consent.view")
    return {"items": []}


@router.get("brands/{slug}/consent/{market}/sign-offs", url_name="consent_signoffs")
def consent_signoffs(request: ApiRequest, slug: str, market: str) -> Any:
    brand_with_capability(request, slug, "consent.view")
    return {"items": []}
