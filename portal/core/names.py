"""Names people give things: one way to tidy them and one key that makes them unique."""

from __future__ import annotations


def clean_name(name: str) -> str:
    """Return the name as stored: surrounding spaces dropped, inner runs collapsed to one."""
    return " ".join(name.split())


def name_key(name: str) -> str:
    """Return the identity of a name for uniqueness and sorting: tidied and case-folded."""
    return clean_name(name).casefold()
