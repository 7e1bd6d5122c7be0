"""Sorted lists: the sort read from the URL, and keyset pages in either direction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models.base import utcnow
from portal.services import api_keys, customers, external_integrations, users
from portal.services.listing import Sort, parse_sort
from tests import factories

pytestmark = [pytest.mark.usefixtures("app_context"), pytest.mark.services]

SORTS = {"name": (), "created": ()}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("name", Sort("name")),
        ("-name", Sort("name", descending=True)),
        ("-created", Sort("created", descending=True)),
        (None, Sort("name")),
        ("", Sort("name")),
        ("--name", Sort("name")),
        ("password_hash", Sort("name")),
        ("-\x00", Sort("name")),
    ],
)
def test_parse_sort_accepts_only_the_lists_own_sorts(raw, expected) -> None:
    assert parse_sort(raw, SORTS, "name") == expected


def test_a_click_flips_the_column_in_use_and_starts_another_ascending() -> None:
    assert Sort("name").toggled("name") == "-name"
    assert Sort("name", descending=True).toggled("name") == "name"
    assert Sort("name", descending=True).toggled("created") == "created"


def names(page) -> list[str]:
    """Return the names of a page of customers, in order."""
    return [customer.name for customer in page.rows]


def test_customer_pages_follow_a_descending_sort_both_ways() -> None:
    for index in range(7):
        factories.make_customer(f"Customer {index}")
    sort = customers.parse_sort("-name")
    first = customers.list_customers(sort=sort, limit=3)
    second = customers.list_customers(sort=sort, after=first.next_after, limit=3)
    third = customers.list_customers(sort=sort, after=second.next_after, limit=3)
    assert names(first) == ["Customer 6", "Customer 5", "Customer 4"]
    assert names(second) == ["Customer 3", "Customer 2", "Customer 1"]
    assert names(third) == ["Customer 0"] and third.next_after is None
    back = customers.list_customers(sort=sort, before=third.previous_before, limit=3)
    assert names(back) == names(second)
    assert back.sort == sort


def test_customers_sort_by_creation_newest_first() -> None:
    for index in range(4):
        factories.make_customer(f"Zed {index}" if index % 2 else f"Abe {index}")
    newest = customers.list_customers(sort=customers.parse_sort("-created"), limit=2)
    assert names(newest) == ["Zed 3", "Abe 2"]
    older = customers.list_customers(
        sort=customers.parse_sort("-created"), after=newest.next_after, limit=2
    )
    assert names(older) == ["Zed 1", "Abe 0"]


def test_users_sort_by_last_sign_in_with_never_as_oldest() -> None:
    factories.setup_account()
    early, late, never = (factories.make_user("viewer", f"{n}@example.com") for n in "elnv"[:3])
    early.last_login_at = utcnow() - timedelta(days=2)
    late.last_login_at = utcnow()
    db.session.commit()
    order = users.list_users(sort=users.parse_sort("-last_sign_in")).rows
    assert [user.email for user in order] == [late.email, early.email, never.email]
    page = users.list_users(sort=users.parse_sort("last_sign_in"), limit=1)
    rest = users.list_users(sort=users.parse_sort("last_sign_in"), after=page.next_after)
    assert [u.email for u in page.rows + rest.rows] == [never.email, early.email, late.email]


def test_api_keys_and_external_integrations_sort_by_any_offered_column() -> None:
    factories.setup_account()
    europe = factories.make_company("Europe")
    factories.make_api_key("beta", "production")
    factories.make_api_key("Alpha", "sandbox", company=europe)
    by_name = api_keys.list_api_keys(api_keys.parse_sort("name"))
    assert [key.name for key in by_name] == ["Alpha", "beta"]
    by_company = api_keys.list_api_keys(api_keys.parse_sort("-company"))
    assert [key.company.name for key in by_company] == ["Europe", "Default Company"]
    newest = api_keys.list_api_keys(api_keys.parse_sort("bogus"))
    assert [key.name for key in newest] == ["Alpha", "beta"]  # the default: newest first
    assert external_integrations.parse_sort("-last_verified") == Sort("last_verified", True)
