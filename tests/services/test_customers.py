"""Customer services: public ids, the default company, search and keyset pages."""

from __future__ import annotations

import pytest

from portal.core.public_ids import CUSTOMER_PREFIX, is_public_id
from portal.models import Customer
from portal.schemas.connect import CustomerInput
from portal.services import customers
from portal.services.actor import Actor
from portal.services.errors import InvalidInput, NotFound
from tests import factories
from tests.support.queries import count, events

pytestmark = pytest.mark.usefixtures("app_context")

ACTOR = Actor.system("tester")


def test_create_customer_gets_a_public_id_and_the_default_company() -> None:
    customer = factories.make_customer("Acme Payer")
    assert is_public_id(customer.public_id, CUSTOMER_PREFIX)
    assert customer.company.name == "Default Company"
    [event_] = events("customer.create")
    assert event_.object_id == customer.public_id
    assert event_.changes == {"name": "Acme Payer", "company": "Default Company"}


def test_create_customer_refuses_an_unknown_company() -> None:
    factories.setup_account()
    with pytest.raises(InvalidInput) as info:
        customers.create_customer(ACTOR, CustomerInput(name="Acme"), 999_999)
    assert info.value.field == "company_id"
    assert count(Customer) == 0


def test_get_customer_unknown_is_not_found() -> None:
    with pytest.raises(NotFound):
        customers.get_customer("ME-0000-0000-0000-0000-0000-0000")


def test_search_by_name_ignores_case_and_by_id_prefix() -> None:
    alpha = factories.make_customer("Alpha Payments")
    factories.make_customer("Beta Bank")
    factories.make_customer("100% Pay")
    names = [c.name for c in customers.list_customers("PAYMENTS").rows]
    assert names == ["Alpha Payments"]
    by_id = customers.list_customers(alpha.public_id[:12]).rows
    assert alpha in by_id
    # LIKE wildcards are literal: "%" finds only the name that has one.
    assert [c.name for c in customers.list_customers("%").rows] == ["100% Pay"]


def test_keyset_pages_walk_forward_and_back_without_gaps() -> None:
    created = [factories.make_customer(f"Customer {i:02d}") for i in range(7)]
    expected = [c.name for c in created]
    first = customers.list_customers(limit=3)
    second = customers.list_customers(after=first.next_after, limit=3)
    third = customers.list_customers(after=second.next_after, limit=3)
    walked = [c.name for page in (first, second, third) for c in page.rows]
    assert walked == expected
    assert first.previous_before is None and third.next_after is None
    back = customers.list_customers(before=third.previous_before, limit=3)
    assert [c.name for c in back.rows] == expected[3:6]
    assert back.next_after == second.next_after
