"""Companies: a company in use cannot be deleted; the schema enforces it."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, insert

from portal.extensions import db
from portal.models import Company
from portal.services import companies
from portal.services.actor import Actor
from portal.services.errors import Conflict
from tests import factories

pytestmark = pytest.mark.services


def test_a_company_in_use_cannot_be_deleted(app_context) -> None:
    # A stand-in dependant with the same RESTRICT rule the API keys, retries and customers use.
    metadata = MetaData()
    dependants = Table(
        "test_company_dependants",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("company_id", ForeignKey(Company.__table__.c.id, ondelete="RESTRICT")),
    )
    metadata.create_all(db.engine)
    try:
        company = factories.make_company("Busy Co")
        db.session.execute(insert(dependants).values(company_id=company.id))
        db.session.commit()
        with pytest.raises(Conflict, match="is in use"):
            companies.delete_company(Actor.system(), company)
        assert db.session.get(Company, company.id) is not None
        db.session.execute(dependants.delete())
        db.session.commit()
        companies.delete_company(Actor.system(), db.session.get(Company, company.id))
        assert db.session.get(Company, company.id) is None
    finally:
        db.session.rollback()
        metadata.drop_all(db.engine)


def test_names_are_unique_regardless_of_case_and_spacing(app_context) -> None:
    factories.make_company("Acme  Corp")
    with pytest.raises(Conflict, match="already exists"):
        factories.make_company("ACME corp")


def test_usage_names_what_uses_each_company(app_context) -> None:
    factories.setup_account()
    europe = factories.make_company("Europe")
    idle = factories.make_company("Idle")
    factories.make_api_key("CRM", company=europe)
    factories.make_api_key("ERP", company=europe)
    factories.make_customer("Acme", company=europe)
    factories.make_auto_retry("Nightly", company=factories.default_company())
    usage = companies.usage()
    assert usage[europe.id].reason == "Used by 2 API keys and 1 customer."
    assert companies.usage_of(factories.default_company()).reason == "Used by 1 auto-retry."
    assert not companies.usage_of(idle).in_use and companies.usage_of(idle).reason == ""
    three = companies.CompanyUsage(api_keys=1, auto_retries=2, customers=3)
    assert three.reason == "Used by 1 API key, 2 auto-retries and 3 customers."
