"""The provisioning API's input models: optional checked texts (homepage, e-mails)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portal.schemas.provisioning import EMAIL_MAX, HOMEPAGE_MAX, MerchantInput


@pytest.mark.parametrize(
    ("field", "bad", "good", "json_format", "max_length"),
    [
        ("homepage", "ftp://acme", "https://acme.example", "uri", HOMEPAGE_MAX),
        ("technicalEmail", "not-an-address", "ops@acme.example", "email", EMAIL_MAX),
    ],
)
def test_an_optional_checked_text_is_checked_only_when_given(
    field: str, bad: str, good: str, json_format: str, max_length: int
) -> None:
    assert (
        getattr(MerchantInput.model_validate({"name": "Acme", field: None}), _snake(field)) is None
    )
    assert (
        getattr(MerchantInput.model_validate({"name": "Acme", field: good}), _snake(field)) == good
    )
    with pytest.raises(ValidationError):
        MerchantInput.model_validate({"name": "Acme", field: bad})
    schema = MerchantInput.model_json_schema(by_alias=True)["properties"][field]
    shown = {key: schema.get(key) for key in ("type", "format", "maxLength")}
    assert shown == {"type": ["string", "null"], "format": json_format, "maxLength": max_length}


def _snake(alias: str) -> str:
    """Return the model field behind a camelCase alias."""
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in alias)
