from tests.factories import AdAccountFactory, PixelFactory, market


def test_markets_are_shipped_with_privacy_regimes(db):
    assert market("DE").privacy_regime == "gdpr"
    assert market("GB").privacy_regime == "uk_gdpr"
    assert market("US").privacy_regime == "us_state"
    assert market("BR").privacy_regime == "lgpd"
    assert market("JP").privacy_regime == "none"


def test_factories_build_valid_catalog_objects(db):
    account = AdAccountFactory()
    account.full_clean()
    pixel = PixelFactory(brand=account.brand, with_token=True)
    pixel.full_clean()
    assert pixel.has_access_token
