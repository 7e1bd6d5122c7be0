"""Companies and password change, driven in Chromium as a person would."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from tests import factories
from tests.support.e2e import sign_in_as


def test_admin_adds_renames_and_deletes_a_company(page: Page, make_user) -> None:
    sign_in_as(page, make_user("admin"))
    page.get_by_role("link", name="Companies").click()
    page.get_by_label("Company name").fill("Acme EU")
    page.get_by_role("button", name="Add company").click()
    expect(page.get_by_text("Company “Acme EU” added.")).to_be_visible()

    page.get_by_label("Company name").fill("acme eu")
    page.get_by_role("button", name="Add company").click()
    expect(page.get_by_text("A company named “acme eu” already exists.")).to_be_visible()

    page.get_by_role("button", name="Rename Acme EU").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Acme Europe")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Company renamed to “Acme Europe”.")).to_be_visible()

    page.get_by_role("button", name="Delete Acme Europe").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("cell", name="Acme Europe", exact=True)).to_be_visible()
    page.get_by_role("button", name="Delete Acme Europe").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete company").click()
    expect(page.get_by_text("Company “Acme Europe” deleted.")).to_be_visible()
    expect(page.get_by_role("cell", name="Acme Europe", exact=True)).to_have_count(0)


def test_a_company_in_use_cannot_be_deleted(app: Flask, page: Page, make_user) -> None:
    admin = make_user("admin")
    with app.app_context():
        factories.make_api_key("CRM")  # belongs to "Default Company"
    sign_in_as(page, admin)
    page.goto("/account/companies/")
    # No doomed action: Delete is disabled, and the row says what uses the company.
    delete = page.get_by_role("button", name="Delete Default Company")
    expect(delete).to_be_disabled()
    expect(delete).to_have_accessible_description(re.compile("Used by 1 API key"))
    row = page.get_by_role("row").filter(has_text="Default Company")
    expect(row.get_by_role("cell", name="Used by 1 API key.", exact=True)).to_be_visible()
    # Its address, opened directly, says the same instead of offering the delete.
    page.goto("/account/companies/1/delete")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("alert")).to_contain_text(
        "“Default Company” cannot be deleted. Used by 1 API key."
    )
    expect(dialog.get_by_role("button", name="Delete company")).to_have_count(0)


def test_changing_the_password_signs_out_other_sessions(page: Page, new_page, make_user) -> None:
    email = make_user("editor")
    other = new_page()
    sign_in_as(other, email)
    sign_in_as(page, email)
    page.get_by_role("link", name="Password").click()
    page.get_by_label("Current password").fill(factories.PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("Confirm new password").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(
        page.get_by_text("Password changed. Your other sessions were signed out.")
    ).to_be_visible()

    other.reload()
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in_as(other, email, "a brand new passphrase")
