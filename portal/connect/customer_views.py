"""Connect views of customers: the searchable list, Add customer and a customer's page."""

from __future__ import annotations

from flask import flash, render_template, request, url_for

from portal.access import writer_required
from portal.connect import bp, forms
from portal.connect.helpers import CUSTOMER, dialog
from portal.htmx import hx_redirect, render_page_or_partial
from portal.services import companies, customers
from portal.services.errors import DomainError
from portal.viewutils import current_actor


def _cursor(name: str) -> int | None:
    """Read a pagination cursor from the query string (ignore anything but a number)."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


@bp.get("/")
def index():
    """List customers, searched by name or id as the user types, a page at a time."""
    search = request.args.get("q", "")
    page = customers.list_customers(search, after=_cursor("after"), before=_cursor("before"))
    return render_page_or_partial(
        "connect/index.html", "connect/_customers.html", page=page, search=search
    )


@bp.get("/customers/new")
@writer_required
def new_customer():
    """Show the Add customer form."""
    company = customers.default_company()
    values = {"name": "", "company_id": str(company.id) if company else ""}
    return dialog(
        "connect/_customer_form.html",
        values=values,
        errors={},
        companies=companies.list_companies(),
    )


@bp.post("/customers")
@writer_required
def create_customer():
    """Add a customer and open its page."""
    submission = forms.customer_submission(request.form)
    status = 422
    if submission.model is not None:
        try:
            customer = customers.create_customer(
                current_actor(), submission.model, forms.company_id_of(submission.values)
            )
        except DomainError as error:
            submission.errors[error.field or "name"] = error.message
        else:
            flash("Customer created.", "success")
            return hx_redirect(url_for("connect.customer", customer_id=customer.public_id))
    return dialog(
        "connect/_customer_form.html",
        status=status,
        values=submission.values,
        errors=submission.errors,
        companies=companies.list_companies(),
    )


@bp.get(CUSTOMER)
def customer(customer_id: str):
    """Show a customer's landing page: its integrations in the main area and the side panel."""
    customer = customers.get_customer(customer_id)
    return render_template("connect/customer.html", customer=customer, current=None)
