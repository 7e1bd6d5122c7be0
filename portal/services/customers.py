"""Customers: the payers and merchants the platform serves, listed fast at any size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from portal.core.names import name_key
from portal.core.public_ids import CUSTOMER_PREFIX, is_public_id, new_public_id
from portal.extensions import db
from portal.models import DEFAULT_COMPANY_NAME, Company, Customer
from portal.schemas.connect import CustomerInput
from portal.services.actor import Actor
from portal.services.companies import company_from_list
from portal.services.errors import Conflict, NotFound
from portal.services.listing import Sort, keyset_page
from portal.services.listing import parse_sort as parse_sort_token
from portal.services.persistence import add_audited, one_or_not_found

PAGE_SIZE = 25
#: Merchant details an input may carry besides the name (the provisioning API's createMerchant).
MERCHANT_DETAILS = (
    "external_id",
    "homepage",
    "timezone",
    "country",
    "default_currency",
    "administrative_email",
    "risk_alert_email",
    "scheduler_alert_email",
    "technical_email",
)


def _like_escape(text: str) -> str:
    """Escape LIKE wildcards so a search for "50%" finds that text literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: The orders the list offers. "Created" follows the id, which grows with each new customer,
#: so both sorts page by keyset on an index: (name_key, id) and the primary key.
SORTS = {
    "name": (Customer.name_key, Customer.id),
    "created": (Customer.id,),
}
DEFAULT_SORT = "name"
DEFAULT = Sort(DEFAULT_SORT)


def parse_sort(raw: str | None) -> Sort:
    """Read the list's sort from its URL token ("name", "-created"...)."""
    return parse_sort_token(raw, SORTS, DEFAULT_SORT)


@dataclass(frozen=True)
class CustomerPage:
    """One page of customers, with the cursors of its neighbours (None at the ends)."""

    customers: list[Customer]
    next_after: int | None
    previous_before: int | None
    sort: Sort = DEFAULT


def list_customers(
    search: str = "",
    *,
    sort: Sort | None = None,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> CustomerPage:
    """Return a page of customers whose name contains, or public id starts with, the search.

    Keyset pagination on the sort's columns: every page costs the same at 100 or 100,000 rows,
    and no COUNT(*) over the whole table is needed.
    """
    sort = sort or DEFAULT
    query = select(Customer)
    search = search.strip()
    if search:
        query = query.where(
            or_(
                Customer.name_key.like(f"%{_like_escape(name_key(search))}%", escape="\\"),
                Customer.public_id.like(f"{_like_escape(search.upper())}%", escape="\\"),
            )
        )
    page = keyset_page(
        query, Customer.id, SORTS[sort.key], sort, after=after, before=before, limit=limit
    )
    return CustomerPage(page.rows, page.next_after, page.previous_before, sort)


def get_customer(public_id: str, company_id: int | None = None) -> Customer:
    """Return the customer with this public id (of that company, when given) or raise NotFound."""
    message = "That customer does not exist."
    if not is_public_id(public_id, CUSTOMER_PREFIX):
        raise NotFound(message)  # a malformed id names nothing; the database need not look
    query = select(Customer).where(Customer.public_id == public_id)
    if company_id is not None:
        query = query.where(Customer.company_id == company_id)
    return one_or_not_found(query, message)


def default_company() -> Company | None:
    """Return "Default Company", or the first company when it was renamed."""
    companies = db.session.scalars(select(Company).order_by(Company.id)).all()
    named = [company for company in companies if company.name == DEFAULT_COMPANY_NAME]
    return (named or companies or [None])[0]


def create_customer(actor: Actor, data: CustomerInput, company_id: int) -> Customer:
    """Add a customer to a company, with a new public id and the merchant details given."""
    company = company_from_list(company_id)
    details = {name: getattr(data, name) for name in MERCHANT_DETAILS if hasattr(data, name)}
    customer = Customer(
        public_id=new_public_id(CUSTOMER_PREFIX),
        name=data.name,
        name_key=name_key(data.name),
        company_id=company.id,
        **details,
    )
    # Only the random public id is unique; a collision is astronomically rare.
    add_audited(
        actor,
        customer,
        "customer.create",
        Conflict("The customer could not be saved. Try again."),
        object_id=customer.public_id,
        changes={
            "name": customer.name,
            "company": company.name,
            **{name: value for name, value in details.items() if value is not None},
        },
    )
    db.session.commit()
    return customer
