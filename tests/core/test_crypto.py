"""Secrets at rest: Fernet encryption with rotatable keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from koastops.core import crypto


def test_encrypt_then_decrypt_gives_back_the_plaintext():
    ciphertext = crypto.encrypt("EAAB-secret-token")

    assert crypto.decrypt(ciphertext) == "EAAB-secret-token"


def test_ciphertext_does_not_contain_the_plaintext():
    ciphertext = crypto.encrypt("EAAB-secret-token")

    assert ciphertext != "EAAB-secret-token"
    assert "EAAB-secret-token" not in ciphertext


def test_same_plaintext_encrypts_differently_each_time():
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_rotated_keys_still_decrypt_old_ciphertext(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    old_ciphertext = crypto.encrypt("written before rotation")
    new_key = Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    assert crypto.decrypt(old_ciphertext) == "written before rotation"
    # New secrets are written with the newest key: readable with it alone.
    fresh = crypto.encrypt("written after rotation")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(fresh) == "written after rotation"


def test_ciphertext_under_a_key_no_longer_configured_is_unreadable(settings):
    ciphertext = crypto.encrypt("orphaned")

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(ciphertext)


def test_garbage_ciphertext_is_unreadable():
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt("not-a-fernet-token")


def test_missing_keys_are_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = []

    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("anything")


def test_invalid_key_is_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["too-short"]

    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("anything")
