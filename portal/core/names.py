"""Names people give things: one way to tidy them and one key that makes them unique.

Two names that look the same must be the same name: "Conn Dup", "conn dup", "Conn  Dup" and
"Conn Dup" in full-width letters share one key, so a unique key on it refuses the lookalike.
Invisible formatting characters (zero-width spaces, bidirectional overrides) are refused
outright by ``invisible_characters``: they change what a name looks like without changing what
people see.
"""

from __future__ import annotations

import unicodedata


def clean_name(name: str) -> str:
    """Return the name as stored: NFKC-normalised, surrounding spaces dropped, runs collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def name_key(name: str) -> str:
    """Return the identity of a name for uniqueness and sorting: tidied and case-folded."""
    return clean_name(name).casefold()


def invisible_characters(text: str) -> list[str]:
    """Return the invisible formatting characters in text (Unicode category Cf), as U+ codes."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cf"]
