"""Customers: the payers and merchants the platform serves, listed fast at any size."""

from __future__ import annotations

from sqlalchemy import Select, and_, column, func, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from portal.core.names import name_key
from portal.core.public_ids import CUSTOMER_PREFIX, is_public_id, new_public_id, prefix_range
from portal.extensions import db
from portal.models import DEFAULT_COMPANY_NAME, Company, Customer
from portal.models.search import customers_search
from portal.schemas.connect import CustomerInput
from portal.services.actor import Actor
from portal.services.companies import company_from_list
from portal.services.errors import Conflict, NotFound
from portal.services.listing import Sort, SortedPage, sorted_page
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


#: Trigram indexes need a term of at least three characters; shorter ones use LIKE.
TRIGRAM = 3
#: On SQLite, a search with fewer matches than this is gathered by id, through the FTS5 table
#: and the id index, then sorted; one with more walks the sort's index, where its matches are
#: dense enough that a page fills after about PAGE_SIZE * rows / GATHER_LIMIT rows.
GATHER_LIMIT = 2000


def _like_escape(text: str) -> str:
    """Escape LIKE wildcards so a search for "50%" finds that text literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_string(text: str) -> str:
    """Quote text as one FTS5 string, so that no character in it is query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _few_ids(query: Select) -> str | None:
    """Return the ids the query selects as a JSON array, or None when there are GATHER_LIMIT.

    One row comes back, however many ids: they stay in SQLite, which reads them again through
    ``json_each`` (``_among``), so Python handles no id one by one.
    """
    ids = query.limit(GATHER_LIMIT).subquery()
    count, array = db.session.execute(select(func.count(), func.json_group_array(ids.c[0]))).one()
    return array if count < GATHER_LIMIT else None


def _among(ids: str) -> ColumnElement[bool]:
    """Return "the customer's id is in this JSON array" (SQLite)."""
    return Customer.id.in_(select(column("value")).select_from(func.json_each(ids)))


def search_filter(search: str) -> ColumnElement[bool] | None:
    """Return "the name contains, or the public id starts with, the search" (None: no search).

    Both ignore case: the name through its case-folded key, the id by upper-casing the search.
    PostgreSQL answers ``LIKE '%term%'`` with its trigram index and chooses, from its
    statistics, between that index and walking the sort's. SQLite has no statistics, so the
    choice is made here: the FTS5 table and the id index are asked for up to GATHER_LIMIT ids
    each, and when both have fewer, the page is taken from those ids (read once, not twice).
    Terms of 1 or 2 characters (after case folding) cannot use trigrams and walk the sort's
    index with LIKE, as every search did before.
    """
    term = search.strip()
    if not term:
        return None
    key = name_key(term)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    name_like = Customer.name_key.like(f"%{_like_escape(key)}%", escape="\\")
    id_match = None
    if bounds := prefix_range(term, CUSTOMER_PREFIX):
        # Bytes order on PostgreSQL too, whatever the collation, on the index made for it.
        public_id = Customer.public_id.collate("C") if postgresql else Customer.public_id
        id_match = and_(public_id >= bounds[0], public_id < bounds[1])
    if postgresql:
        # Whether the trigram index helps depends on the pattern, so plan with it: a cached
        # generic plan (psycopg prepares a statement after its fifth run) cannot know it,
        # and would walk the whole name index for a term that matches little or nothing.
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if postgresql or len(key) < TRIGRAM:
        return name_like if id_match is None else or_(name_like, id_match)
    id_ids = None if id_match is None else _few_ids(select(Customer.id).where(id_match))
    name_ids = _few_ids(
        select(customers_search.c.rowid).where(customers_search.c.name_key.match(_fts_string(key)))
    )
    if name_ids is not None and (id_match is None or id_ids is not None):
        return _among(name_ids) if id_ids is None else or_(_among(name_ids), _among(id_ids))
    # Many matches: walk the sort's index. A short list of ids is checked from the index
    # alone; a long range of them is dense enough that reading each walked row costs little.
    if id_match is None:
        return name_like
    return or_(name_like, id_match if id_ids is None else _among(id_ids))


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


def list_customers(
    search: str = "",
    *,
    sort: Sort | None = None,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> SortedPage[Customer]:
    """Return a page of customers whose name contains, or public id starts with, the search.

    Keyset pagination on the sort's columns: every page costs the same at 100 or 100,000 rows,
    and no COUNT(*) over the whole table is needed.
    """
    sort = sort or DEFAULT
    query = select(Customer)
    condition = search_filter(search)
    if condition is not None:
        query = query.where(condition)
    return sorted_page(query, Customer.id, SORTS, sort, after=after, before=before, limit=limit)


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
