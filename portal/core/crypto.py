"""Encrypt third-party secrets at rest and mask them for display."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# A prefix such as "sk_test_", "rk_live_" or "ptl_test_": lowercase words joined
# by underscores. Anything else stays hidden so a password's start never leaks.
_PREFIX_RE = re.compile(r"[a-z]+(?:_[a-z]+)*_")
# "ptl_test_" is 9 characters; a longer run is more likely part of the secret.
_PREFIX_MAX_LEN = 9
# Showing 4 characters of anything shorter would reveal too much of it.
_MIN_MASKABLE_LEN = 12
_HIDDEN = "••••"


class SecretDecryptError(Exception):
    """Signal that a stored secret cannot be decrypted with the configured keys."""

    def __init__(self) -> None:
        super().__init__(
            "A stored secret could not be decrypted: it was encrypted with a key "
            "that is no longer configured, or it has been tampered with."
        )


def generate_key() -> str:
    """Return a new random Fernet key as text."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str) -> list[str]:
    """Split a comma-separated list of keys, dropping blank entries."""
    return [part.strip() for part in value.split(",") if part.strip()]


class SecretBox:
    """Encrypt and decrypt secrets with a list of Fernet keys, newest first."""

    def __init__(self, keys: Sequence[str]) -> None:
        """Build the box; raise ValueError if no key is given or one is malformed."""
        # A bare string is a Sequence too; iterating it would yield characters.
        if isinstance(keys, str):
            raise TypeError(
                "SecretBox needs a list of keys, not a single string; "
                "use parse_keys() to split a comma-separated value."
            )
        if not keys:
            raise ValueError(
                "No encryption key is configured; at least one Fernet key is required."
            )
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # The key itself stays out of the message: it is a secret too.
                raise ValueError(
                    f"Encryption key #{position} is malformed: a Fernet key is "
                    "32 url-safe base64-encoded bytes (44 characters)."
                ) from None
        self._newest = fernets[0]
        self._multi = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """Encrypt plaintext with the newest key and return the token as text."""
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token with any configured key; raise SecretDecryptError if none fits."""
        try:
            return self._multi.decrypt(token.encode("utf-8")).decode("utf-8")
        except InvalidToken:
            raise SecretDecryptError() from None

    def is_current(self, token: str) -> bool:
        """Tell whether the token is already encrypted with the newest key."""
        try:
            self._newest.decrypt(token.encode("utf-8"))
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-encrypt a token with the newest key."""
        try:
            return self._multi.rotate(token.encode("utf-8")).decode("ascii")
        except InvalidToken:
            raise SecretDecryptError() from None


def _split_prefix(secret: str) -> tuple[str, str]:
    """Split a secret into its public prefix (possibly empty) and the rest."""
    cut = secret.rfind("_", 0, _PREFIX_MAX_LEN) + 1
    prefix = secret[:cut]
    if prefix and _PREFIX_RE.fullmatch(prefix):
        return prefix, secret[cut:]
    return "", secret


def mask_secret(secret: str) -> str:
    """Return a display-safe form of a secret, e.g. "sk_test_...4f2a"."""
    prefix, body = _split_prefix(secret)
    if len(body) < _MIN_MASKABLE_LEN:
        return prefix + _HIDDEN
    return f"{prefix}...{body[-4:]}"
