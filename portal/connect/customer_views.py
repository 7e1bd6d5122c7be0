"""Connect views of customers: the searchable list, Add customer and a customer's page."""

from __future__ import annotations

from flask import render_template, request, url_for

from portal.connect import bp, forms
from portal.connect.helpers import CUSTOMER
from portal.services import companies, customers
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import shown
from portal.web.htmx import render_page_or_partial
from portal.web.query import page_query, query_text
from portal.web.responses import dialog, done, submit


@bp.get("/")
def index():
    """List customers, searched by name or id as the user types, sorted, a page at a time."""
    search = query_text("q", max_length=200)
    page = customers.list_customers(search, **page_query(customers.parse_sort))
    return render_page_or_partial(
        "connect/index.html", "connect/_customers.html", page=page, search=search
    )


def customer_form(form, status: int = 200):
    """Render the Add customer dialog."""
    company_list = [(company.id, company.name) for company in companies.list_companies()]
    return dialog("connect/_customer_form.html", status, form=form, companies=company_list)


@bp.get("/customers/new")
@writer_required
def new_customer():
    """Show the Add customer form."""
    company = customers.default_company()
    return customer_form(shown({"name": "", "company_id": company.id if company else ""}))


@bp.post("/customers")
@writer_required
def create_customer():
    """Add a customer and open its page."""
    return submit(
        forms.customer_form(request.form),
        lambda data: customers.create_customer(current_actor(), data, data.company_id),
        lambda customer: done(
            "Customer created.", url_for("connect.customer", customer_id=customer.public_id)
        ),
        customer_form,
    )


@bp.get(CUSTOMER)
def customer(customer_id: str):
    """Show a customer's landing page: its integrations in the main area and the side panel."""
    customer = customers.get_customer(customer_id)
    return render_template(
        "connect/customer.html", customer=customer, current=None, tab="integrations"
    )
