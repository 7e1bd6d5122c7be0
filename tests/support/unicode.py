"""Unicode lookalikes for tests: the same words in characters that only look the same."""

from __future__ import annotations


def fullwidth(text: str) -> str:
    """Return text with its ASCII letters and digits in their full-width forms (NFKC undoes it)."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)
