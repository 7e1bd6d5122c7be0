"""Connections of an integration: configured gateway connectors with encrypted secrets.

Every lookup is scoped by its integration, so an id from another integration is NotFound: data
never crosses integrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.core.crypto import SecretBox, SecretDecryptError, mask_secret
from portal.core.public_ids import CONNECTION_PREFIX, is_public_id, new_public_id
from portal.extensions import db
from portal.models import Connection, Flow, Integration
from portal.schemas.connect import (
    CONFIG_SECRETS,
    CONFIG_TEXT_FIELDS,
    CONNECTION_FLAGS,
    CONNECTION_NUMBERS,
    CONNECTION_TEXT_FIELDS,
    ConnectionInput,
    generate_shared_secret,
)
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound
from portal.services.persistence import (
    add_audited,
    delete_audited,
    one_or_not_found,
    switch_audited,
    unique_or_conflict,
)

# Columns copied as they are from ConnectionInput (top level) and its config.
_PLAIN_FIELDS = (
    *CONNECTION_TEXT_FIELDS,
    *CONNECTION_FLAGS,
    *CONNECTION_NUMBERS,
    "provider",
    "disabled_transaction_types",
    "settings",
)
_CONFIG_FIELDS = (*CONFIG_TEXT_FIELDS, "test_mode", "extra_data", "vault")
_CONFIG_SECRETS = {name: f"{name}_encrypted" for name in CONFIG_SECRETS}
# Top-level secrets: the connector's API key and the shared secret.
_SECRETS = {"api_key": "api_key_encrypted", "shared_secret": "shared_secret_encrypted"}


def get_connection(integration: Integration, public_id: str) -> Connection:
    """Return the integration's connection or raise NotFound (also for another's)."""
    message = "That connection does not exist in this integration."
    if not is_public_id(public_id, CONNECTION_PREFIX):
        raise NotFound(message)  # a malformed id names nothing; the database need not look
    query = select(Connection).where(
        Connection.public_id == public_id, Connection.integration_id == integration.id
    )
    return one_or_not_found(query, message)


def snapshot(connection: Connection) -> dict[str, Any]:
    """Return the audited view of a connection: plain values, secrets as their tokens."""
    values: dict[str, Any] = {name: getattr(connection, name) for name in _PLAIN_FIELDS}
    values.update({name: getattr(connection, name) for name in _CONFIG_FIELDS})
    values["enabled"] = connection.enabled
    values["terminals"] = connection.terminals
    # The tokens change whenever a secret changes; audit.redact hides the value itself.
    for name, column in (*_SECRETS.items(), *_CONFIG_SECRETS.items()):
        values[name] = getattr(connection, column)
    return values


def _masked_echo(sent: str, token: str | None, box: SecretBox) -> bool:
    """Tell whether a sent secret is the stored one exactly as answers mask it.

    A client that reads a connector and sends the whole object back must not replace its
    secrets with their masks.
    """
    if token is None or not ("..." in sent or "•" in sent):
        return False
    return mask_secret(box.decrypt(token)) == sent


def _store_secret(connection: Connection, column: str, secret, box: SecretBox) -> None:
    """Encrypt a sent secret into its column; empty (None) or its own mask keeps the stored one."""
    if secret is None:
        return
    plaintext = secret.get_secret_value()
    if not _masked_echo(plaintext, getattr(connection, column), box):
        setattr(connection, column, box.encrypt(plaintext))


def apply_input(
    connection: Connection,
    data: ConnectionInput,
    box: SecretBox,
    *,
    creating: bool,
    new_shared_secret: bool = False,
) -> str | None:
    """Copy the input onto the connection; on edit only the fields the caller sent.

    Return the shared secret generated here (empty on create, or `new_shared_secret`), so the
    caller can show it once; None when none was generated.
    """
    sent = set(type(data).model_fields) if creating else data.model_fields_set
    for name in _PLAIN_FIELDS:
        if name in sent:
            setattr(connection, name, getattr(data, name))
    if "disabled" in sent:
        connection.enabled = not data.disabled
    if "terminals" in sent:
        connection.terminals = [
            terminal.model_dump(exclude_none=True) for terminal in data.terminals
        ]
    if "config" in sent:
        config = data.config
        config_sent = set(type(config).model_fields) if creating else config.model_fields_set
        for name in _CONFIG_FIELDS:
            if name in config_sent:
                setattr(connection, name, getattr(config, name))
        for name, column in _CONFIG_SECRETS.items():
            _store_secret(connection, column, getattr(config, name), box)
    _store_secret(connection, "api_key_encrypted", data.api_key, box)
    if data.shared_secret is not None:
        _store_secret(connection, "shared_secret_encrypted", data.shared_secret, box)
    elif creating or new_shared_secret:
        generated = generate_shared_secret()
        connection.shared_secret_encrypted = box.encrypt(generated)
        return generated
    return None


def name_taken(name: str) -> Conflict:
    """Return the refusal of a second connection with this name in an integration."""
    return Conflict(f"This integration already has a connection named “{name}”.", field="name")


def new_connection(integration: Integration) -> Connection:
    """Return a new enabled connection of the integration, with its public id (not added)."""
    return Connection(
        public_id=new_public_id(CONNECTION_PREFIX), integration_id=integration.id, enabled=True
    )


def creation_changes(connection: Connection) -> dict[str, Any]:
    """Return what a creation's audit event records: the integration and the values set."""
    values = {name: value for name, value in snapshot(connection).items() if value is not None}
    return {"integration": connection.integration_id, **values}


def create_connection(
    actor: Actor, integration: Integration, data: ConnectionInput, box: SecretBox
) -> Connection:
    """Add an enabled connection; the shared secret is generated when left empty."""
    connection = new_connection(integration)
    apply_input(connection, data, box, creating=True)
    add_audited(
        actor,
        connection,
        "connection.create",
        name_taken(data.name),
        object_id=connection.public_id,
        changes=creation_changes(connection),
    )
    db.session.commit()
    return connection


def update_connection(
    actor: Actor, connection: Connection, data: ConnectionInput, box: SecretBox
) -> Connection:
    """Change the fields the caller sent; empty secrets keep their stored values."""
    before = snapshot(connection)
    apply_input(connection, data, box, creating=False)
    changes = audit.diff(before, snapshot(connection))
    if not changes:
        return connection
    unique_or_conflict(name_taken(connection.name))
    audit.record(
        actor, "connection.update", connection, object_id=connection.public_id, changes=changes
    )
    db.session.commit()
    return connection


def set_connection_enabled(actor: Actor, connection: Connection, enabled: bool) -> Connection:
    """Enable or disable the connection; its credentials stay as they are."""
    actions = ("connection.enable", "connection.disable")
    public_id = {"object_id": connection.public_id}
    if switch_audited(actor, connection, "enabled", enabled, actions, **public_id):
        db.session.commit()
    return connection


def flows_using(connection: Connection) -> list[Flow]:
    """Return the flows whose default connection is this one."""
    query = select(Flow).where(
        Flow.integration_id == connection.integration_id,
        Flow.default_connection_id == connection.id,
    )
    return list(db.session.scalars(query.order_by(Flow.name_key)))


def deletion_blocker(connection: Connection) -> str | None:
    """Say why the connection cannot be deleted now (the flows it is the default of), or None."""
    flows = flows_using(connection)
    if not flows:
        return None
    names = ", ".join(f"“{flow.name}”" for flow in flows)
    return f"Default connection of {names}: choose another one for the flow first."


def _in_use(connection: Connection, flows: list[Flow]) -> Conflict:
    names = ", ".join(f"“{flow.label}”" for flow in flows) or "a flow"
    return Conflict(
        f"“{connection.name}” is the default connection of {names}. "
        "Choose another default connection for the flow before deleting this connection."
    )


def delete_connection(actor: Actor, connection: Connection) -> None:
    """Delete a connection that no flow routes to."""
    flows = flows_using(connection)
    if flows:
        raise _in_use(connection, flows)
    # A flow may have started using it since the check above; the schema's RESTRICT says so.
    delete_audited(
        actor,
        connection,
        "connection.delete",
        "That connection was deleted meanwhile.",
        in_use=_in_use(connection, []),
        object_id=connection.public_id,
        changes={"integration": connection.integration_id},
    )
    db.session.commit()


@dataclass(frozen=True)
class MaskedSecrets:
    """A connection's secrets as they may be shown: masked, or None when not set."""

    api_key: str | None
    shared_secret: str | None
    password: str | None
    api_secret: str | None


UNREADABLE = "cannot be decrypted"


def masked_secrets(connection: Any, box: SecretBox) -> MaskedSecrets:
    """Return the connection's secrets masked for display.

    `connection` is a Connection, or a row of its columns (the provisioning API's reads).
    A secret encrypted with a key that is no longer configured shows as "cannot be
    decrypted" (never its token), so the pages still open and the secret can be entered again.
    """

    def mask(token: str | None) -> str | None:
        if not token:
            return None
        try:
            return mask_secret(box.decrypt(token))
        except SecretDecryptError:
            return UNREADABLE

    return MaskedSecrets(
        api_key=mask(connection.api_key_encrypted),
        shared_secret=mask(connection.shared_secret_encrypted),
        password=mask(connection.password_encrypted),
        api_secret=mask(connection.api_secret_encrypted),
    )
