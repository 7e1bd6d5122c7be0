"""unique_or_conflict: the schema decides uniqueness, a clash becomes a clear Conflict."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import Company
from portal.services.errors import Conflict
from portal.services.persistence import unique_or_conflict
from tests import factories
from tests.support.queries import count

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
