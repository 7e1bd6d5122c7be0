"""Account Settings > Companies: admins add, rename and delete unused companies."""

from __future__ import annotations

from flask import Blueprint, url_for

from portal.schemas.companies import CompanyInput
from portal.services import companies
from portal.web.access import admin_required
from portal.web.actor import current_actor
from portal.web.forms import read, shown
from portal.web.htmx import render_page_or_partial
from portal.web.responses import attempt, confirm, dialog, done, submit

bp = Blueprint("companies", __name__, url_prefix="/account/companies")

# The rename dialog opens over the list, whose add form has a "name" control too.
RENAME = "rename-"


def list_page(form, status: int = 200):
    """Render the list with its add form (only the form for htmx)."""
    return render_page_or_partial(
        "companies/index.html",
        "companies/_create_form.html",
        status=status,
        form=form,
        companies=companies.list_companies(),
        usage=companies.usage(),
    )


@bp.get("/")
@admin_required
def index():
    """List companies with a form to add one."""
    return list_page(shown())


@bp.post("/")
@admin_required
def create():
    """Add a company."""
    return submit(
        read(CompanyInput),
        lambda data: companies.create_company(current_actor(), data),
        lambda company: done(f"Company “{company.name}” added.", url_for("companies.index")),
        list_page,
    )


def rename_dialog(company, form, status: int = 200):
    """Render the rename dialog."""
    return dialog("companies/_rename_form.html", status, company=company, form=form)


@bp.get("/<int:company_id>/edit")
@admin_required
def edit(company_id: int):
    """Show the rename form."""
    company = companies.get_company(company_id)
    return rename_dialog(company, shown({"name": company.name}, prefix=RENAME))


@bp.post("/<int:company_id>")
@admin_required
def update(company_id: int):
    """Rename a company."""
    company = companies.get_company(company_id)
    return submit(
        read(CompanyInput, prefix=RENAME),
        lambda data: companies.rename_company(current_actor(), company, data),
        lambda _: done(f"Company renamed to “{company.name}”.", url_for("companies.index")),
        lambda form, status: rename_dialog(companies.get_company(company_id), form, status),
    )


@bp.get("/<int:company_id>/delete")
@admin_required
def confirm_delete(company_id: int):
    """Ask before deleting a company."""
    company = companies.get_company(company_id)
    usage = companies.usage_of(company)
    return confirm(
        f"Delete “{company.name}”?",
        "The company is deleted. This cannot be undone.",
        "Delete company",
        url_for("companies.index"),
        blocked=f"“{company.name}” cannot be deleted. {usage.reason}" if usage.in_use else None,
    )


@bp.post("/<int:company_id>/delete")
@admin_required
def delete(company_id: int):
    """Delete an unused company."""
    company = companies.get_company(company_id)
    return attempt(
        lambda: companies.delete_company(current_actor(), company),
        f"Company “{company.name}” deleted.",
        url_for("companies.index"),
    )
