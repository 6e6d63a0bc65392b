"""``connector_for``: a Meta pixel's connector from its encrypted token and the settings."""

from __future__ import annotations

import pytest
from django.test import override_settings

from koastops.catalog.models import Platform
from koastops.core import crypto
from koastops.devtools.fake_graph import FakeGraph
from koastops.quality.connectors import connector_for
from koastops.quality.models import Provider
from koastops.quality.platforms.base import PlatformError, TokenError
from koastops.quality.platforms.meta import MetaConnector
from tests.factories import PixelFactory

pytestmark = pytest.mark.django_db


def test_a_meta_pixel_gets_a_meta_connector_with_its_decrypted_token_and_the_settings():
    token = "EAAB-system-user-token-for-the-factory-test"
    pixel = PixelFactory(external_id="111222333444", access_token_encrypted=crypto.encrypt(token))
    with FakeGraph(token=token, version="v24.0") as fake:
        fake.add_pixel(pixel.external_id, name="From the fake")
        with override_settings(
            META_GRAPH_BASE_URL=fake.base_url,
            META_GRAPH_API_VERSION="v24.0",
            PLATFORM_HTTP_TIMEOUT=1.5,
            PLATFORM_HTTP_RETRIES=0,
        ):
            connector = connector_for(pixel, Provider.META)
        assert isinstance(connector, MetaConnector)
        assert (connector.timeout, connector.retries) == (1.5, 0)
        assert connector.pixel_info().name == "From the fake"
        [request] = fake.requests
    assert request.path == "/v24.0/111222333444"
    assert request.headers["authorization"] == f"Bearer {token}"
    assert token not in request.raw_url
    assert token not in repr(connector)


def test_a_pixel_without_a_token_is_a_token_error():
    pixel = PixelFactory()
    with pytest.raises(TokenError, match="No access token"):
        connector_for(pixel, Provider.META)


def test_a_token_encrypted_with_a_retired_key_is_a_token_error():
    pixel = PixelFactory(access_token_encrypted="gAAAAABnot-a-fernet-token")
    with pytest.raises(TokenError, match="cannot be decrypted"):
        connector_for(pixel, Provider.META)


def test_a_google_pixel_has_no_connector_yet():
    pixel = PixelFactory(platform=Platform.GOOGLE, with_token=True)
    with pytest.raises(PlatformError, match="no stats connector"):
        connector_for(pixel, Provider.META)
