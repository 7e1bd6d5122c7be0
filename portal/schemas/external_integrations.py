"""Input models of an external integration: the provider, a name, the secret key, Active."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, SecretStr

from portal.schemas.base import InputModel, name_text, prepare_secret, required

NAME_MAX = 100
SECRET_MAX = 255


class ExternalIntegrationChange(InputModel):
    """Changes to an integration; an empty secret key keeps the stored one."""

    name: name_text(NAME_MAX)
    secret: Annotated[SecretStr | None, BeforeValidator(prepare_secret(SECRET_MAX))] = None
    active: bool = False


class ExternalIntegrationInput(ExternalIntegrationChange):
    """A new integration: which provider, its name, its secret key and whether it is active.

    The provider is checked against the registry and the key's shape by the service, which
    knows the providers and audits a malformed key.
    """

    provider: Annotated[str, required("Choose an integration from the list.")]
    secret: Annotated[
        SecretStr, BeforeValidator(prepare_secret(SECRET_MAX)), required("Enter the secret key.")
    ]
