"""Account Settings > Companies: admins add, rename and delete unused companies."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, url_for

from portal.access import admin_required
from portal.companies.forms import CompanyForm
from portal.forms import attach_error
from portal.htmx import hx_redirect, render_confirm, render_page_or_partial
from portal.services import companies
from portal.services.errors import DomainError
from portal.viewutils import current_actor

bp = Blueprint("companies", __name__, url_prefix="/account/companies")


def rename_form(**data) -> CompanyForm:
    """Return the rename form; its prefix keeps its ids apart from the add form on the page."""
    return CompanyForm(prefix="rename", **data)


@bp.get("/")
@admin_required
def index():
    """List companies with a form to add one."""
    return render_template(
        "companies/index.html", companies=companies.list_companies(), form=CompanyForm()
    )


@bp.post("/")
@admin_required
def create():
    """Add a company."""
    form = CompanyForm()
    if form.validate_on_submit():
        try:
            company = companies.create_company(current_actor(), form.name.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Company “{company.name}” added.", "success")
            return hx_redirect(url_for("companies.index"))
    return render_page_or_partial(
        "companies/index.html",
        "companies/_create_form.html",
        form=form,
        companies=companies.list_companies(),
        status=422,
    )


@bp.get("/<int:company_id>/edit")
@admin_required
def edit(company_id: int):
    """Show the rename form."""
    company = companies.get_company(company_id)
    return render_page_or_partial(
        "companies/edit.html",
        "companies/_rename_form.html",
        company=company,
        form=rename_form(name=company.name),
    )


@bp.post("/<int:company_id>")
@admin_required
def update(company_id: int):
    """Rename a company."""
    company = companies.get_company(company_id)
    form = rename_form()
    if form.validate_on_submit():
        try:
            companies.rename_company(current_actor(), company, form.name.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Company renamed to “{company.name}”.", "success")
            return hx_redirect(url_for("companies.index"))
    return render_page_or_partial(
        "companies/edit.html",
        "companies/_rename_form.html",
        company=companies.get_company(company_id),
        form=form,
        status=422,
    )


@bp.get("/<int:company_id>/delete")
@admin_required
def confirm_delete(company_id: int):
    """Ask before deleting a company."""
    company = companies.get_company(company_id)
    return render_confirm(
        title=f"Delete “{company.name}”?",
        message="A company that API keys, retries or customers use cannot be deleted.",
        action=url_for("companies.delete", company_id=company.id),
        confirm_label="Delete company",
        cancel_url=url_for("companies.index"),
    )


@bp.post("/<int:company_id>/delete")
@admin_required
def delete(company_id: int):
    """Delete an unused company."""
    company = companies.get_company(company_id)
    name = company.name
    try:
        companies.delete_company(current_actor(), company)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Company “{name}” deleted.", "success")
    return hx_redirect(url_for("companies.index"))
