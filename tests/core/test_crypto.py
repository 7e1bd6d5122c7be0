"""Tests for secret encryption at rest and masking."""

from __future__ import annotations

import pytest

from portal.core.crypto import (
    SecretBox,
    SecretDecryptError,
    generate_key,
    mask_secret,
    parse_keys,
)

SECRET = "sk_test_51Habcdefghijklmnopqrstuvwxyz4f2a"


def test_roundtrip_returns_plaintext() -> None:
    box = SecretBox([generate_key()])
    assert box.decrypt(box.encrypt(SECRET)) == SECRET


def test_roundtrip_keeps_unicode() -> None:
    box = SecretBox([generate_key()])
    assert box.decrypt(box.encrypt("pässwörd✓")) == "pässwörd✓"


def test_ciphertext_does_not_contain_plaintext() -> None:
    token = SecretBox([generate_key()]).encrypt(SECRET)
    assert SECRET not in token
    assert SECRET.removeprefix("sk_test_") not in token


def test_encrypting_twice_gives_different_tokens() -> None:
    box = SecretBox([generate_key()])
    assert box.encrypt(SECRET) != box.encrypt(SECRET)


def test_decrypt_with_wrong_key_fails_closed() -> None:
    token = SecretBox([generate_key()]).encrypt(SECRET)
    with pytest.raises(SecretDecryptError) as caught:
        SecretBox([generate_key()]).decrypt(token)
    assert SECRET not in str(caught.value)
    assert token not in str(caught.value)


def test_decrypt_of_tampered_token_fails_closed() -> None:
    box = SecretBox([generate_key()])
    token = box.encrypt(SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretDecryptError):
        box.decrypt(tampered)


def test_decrypt_of_garbage_fails_closed() -> None:
    with pytest.raises(SecretDecryptError):
        SecretBox([generate_key()]).decrypt("not a token")


def test_rotation_moves_token_to_newest_key() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).encrypt(SECRET)

    rotated = SecretBox([new, old]).rotate(token)

    assert SecretBox([new]).decrypt(rotated) == SECRET
    with pytest.raises(SecretDecryptError):
        SecretBox([old]).decrypt(rotated)


def test_old_key_still_decrypts_before_rotation() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).encrypt(SECRET)
    assert SecretBox([new, old]).decrypt(token) == SECRET


def test_rotate_with_unknown_key_fails_closed() -> None:
    token = SecretBox([generate_key()]).encrypt(SECRET)
    with pytest.raises(SecretDecryptError):
        SecretBox([generate_key()]).rotate(token)


def test_empty_key_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SecretBox([])


def test_malformed_key_is_rejected_without_echoing_it() -> None:
    bad = "this-is-not-a-fernet-key"
    with pytest.raises(ValueError, match="#2 is malformed") as caught:
        SecretBox([generate_key(), bad])
    assert bad not in str(caught.value)


def test_single_string_is_rejected() -> None:
    with pytest.raises(TypeError, match="parse_keys"):
        SecretBox(generate_key())


def test_parse_keys_splits_and_strips() -> None:
    assert parse_keys(" k1 , ,k2,,  ") == ["k1", "k2"]
    assert parse_keys("") == []


def test_generate_key_gives_usable_distinct_keys() -> None:
    first, second = generate_key(), generate_key()
    assert isinstance(first, str)
    assert first != second
    SecretBox([first, second])


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("sk_test_abcdefghijklmnopqrstuvwxyz4f2a", "sk_test_...4f2a"),
        ("rk_live_ABCDEFGHIJKLMNOPQRSTUVWX9z9z", "rk_live_...9z9z"),
        ("ptl_test_0123456789abcdefghij", "ptl_test_...ghij"),
        ("whsec_0123456789abcdefWXYZ", "whsec_...WXYZ"),
        ("plainsecretvalue1234", "...1234"),
        ("exactly12chr", "...2chr"),
        ("elevenchars", "••••"),
        ("short", "••••"),
        ("", "••••"),
        ("sk_test_abc", "sk_test_••••"),
        ("sk_test_abcdefghijk", "sk_test_••••"),
        ("Password_With_Caps_123456", "...3456"),
    ],
)
def test_mask_secret(secret: str, masked: str) -> None:
    assert mask_secret(secret) == masked


def test_mask_never_shows_more_than_four_trailing_characters() -> None:
    secret = "sk_test_" + "x" * 40 + "1234"
    masked = mask_secret(secret)
    assert masked.endswith("...1234")
    assert "x1234" not in masked
