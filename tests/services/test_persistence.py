"""unique_or_conflict: the schema decides uniqueness, a clash becomes a clear Conflict."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from portal.extensions import db
from portal.models import ApiKey, Company, Connection
from portal.services import api_keys, connections
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound
from portal.services.persistence import switch_audited, unique_or_conflict
from tests import factories
from tests.support.concurrency import run_concurrently
from tests.support.queries import count, events

pytestmark = pytest.mark.usefixtures("app_context")


def test_a_clean_flush_passes_and_keeps_the_row_pending() -> None:
    db.session.add(Company(name="Acme", name_key="acme"))
    unique_or_conflict(Conflict("taken"))
    db.session.commit()
    assert count(Company) == 1


def test_a_clash_rolls_back_and_raises_the_conflict() -> None:
    factories.make_company("Acme")
    db.session.add(Company(name="ACME", name_key="acme"))
    with pytest.raises(Conflict, match="taken") as raised:
        unique_or_conflict(Conflict("taken", field="name"))
    assert raised.value.field == "name"
    assert count(Company) == 1  # the session was rolled back, still usable


def test_a_callable_explains_the_clash_after_the_rollback() -> None:
    factories.make_company("Acme")
    db.session.add(Company(name="ACME", name_key="acme"))
    with pytest.raises(Conflict, match="1 company already"):
        unique_or_conflict(lambda: Conflict(f"{count(Company)} company already has that name."))


@pytest.mark.services
def test_racing_deletes_record_one_success(app) -> None:
    connection_id = factories.make_connection().id

    def delete_it(_: int) -> str:
        connection = db.session.get(Connection, connection_id)
        if connection is None:
            return "already gone"
        connections.delete_connection(Actor.system("test"), connection)
        return "deleted"

    results = run_concurrently(app, 8, delete_it)
    assert results.count("deleted") == 1, results
    assert all(r in ("deleted", "already gone") or isinstance(r, NotFound) for r in results)
    assert [event.outcome for event in events("connection.delete")] == ["success"]
    assert count(Connection) == 0


def test_a_delete_that_finds_nothing_records_nothing() -> None:
    key = factories.make_api_key("CRM").api_key
    db.session.execute(delete(ApiKey).where(ApiKey.id == key.id))
    db.session.commit()
    with pytest.raises(NotFound, match="deleted meanwhile"):
        api_keys.delete_api_key(Actor.system("test"), key)
    assert events("api_key.delete") == []


def test_a_switch_records_its_action_and_a_switch_to_the_same_state_records_nothing() -> None:
    connection = factories.make_connection()
    actions = ("connection.enable", "connection.disable")
    enabled = connection.enabled
    assert switch_audited(Actor.system("test"), connection, "enabled", enabled, actions) is False
    assert switch_audited(Actor.system("test"), connection, "enabled", not enabled, actions)
    db.session.commit()
    assert connection.enabled is (not enabled)
    off_or_on = actions[0] if connection.enabled else actions[1]
    assert len(events(off_or_on)) == 1
    assert events(actions[1] if connection.enabled else actions[0]) == []
