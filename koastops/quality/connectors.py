"""The connector for a pixel: its provider (``PixelConnection.provider``), its token
decrypted from the catalog, and the settings (``META_GRAPH_BASE_URL``,
``META_GRAPH_API_VERSION``, ``PLATFORM_HTTP_TIMEOUT``, ``PLATFORM_HTTP_RETRIES``)."""

from __future__ import annotations

from django.conf import settings

from koastops.catalog.models import Pixel
from koastops.core import crypto
from koastops.quality.models import Provider
from koastops.quality.platforms.base import Connector, PlatformError, TokenError


def connector_for(pixel: Pixel, provider: str) -> Connector:
    if provider == Provider.DEMO:
        from koastops.quality.platforms.demo import DemoConnector

        return DemoConnector(pixel.external_id)
    if pixel.platform != "meta":
        raise PlatformError(f"There is no stats connector for {pixel.get_platform_display()} yet.")
    if not pixel.access_token_encrypted:
        raise TokenError(
            "No access token is set for this pixel: an ops lead sets one on the pixel."
        )
    try:
        token = crypto.decrypt(pixel.access_token_encrypted)
    except crypto.SecretUnreadable as exc:
        raise TokenError(
            "The stored access token cannot be decrypted with the configured keys: set it again."
        ) from exc
    from koastops.quality.platforms.meta import MetaConnector

    return MetaConnector(
        pixel.external_id,
        token,
        base_url=settings.META_GRAPH_BASE_URL,
        version=settings.META_GRAPH_API_VERSION,
        timeout=settings.PLATFORM_HTTP_TIMEOUT,
        retries=settings.PLATFORM_HTTP_RETRIES,
    )
