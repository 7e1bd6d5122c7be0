"""First-run setup, sign-in, roles and deactivation, driven in Chromium as a person would."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from portal.schemas.companies import CompanyInput
from portal.services import companies
from portal.services.actor import Actor
from tests import factories
from tests.factories import PASSWORD
from tests.support.e2e import sign_in_as


def test_first_run_setup_creates_the_admin_and_then_disappears(page: Page, new_page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Set up the portal")).to_be_visible()
    page.get_by_label("Email").fill("Owner@Example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()

    expect(page.get_by_text("Setup complete.")).to_be_visible()
    expect(page.get_by_text("owner@example.com")).to_be_visible()
    page.get_by_role("link", name="Companies").click()
    expect(page.get_by_role("cell", name="Default Company", exact=True)).to_be_visible()

    other = new_page()
    response = other.goto("/setup")
    assert response is not None and response.status == 404
    other.goto("/")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()


def test_setup_refuses_mismatched_passwords_next_to_the_field(page: Page) -> None:
    page.goto("/setup")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD + "x")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_text("The passwords do not match.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("owner@example.com")


def test_sign_in_and_sign_out(page: Page, make_user) -> None:
    email = make_user("editor")
    sign_in_as(page, email)
    expect(page.get_by_text("Signed in.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Signed out.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/connect/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_is_generic_and_the_sixth_rapid_failure_is_throttled(
    page: Page, make_user
) -> None:
    email = make_user("viewer")
    page.goto("/login")
    messages = []
    for email_tried in ("nobody@example.com", email):
        page.get_by_label("Email").fill(email_tried)
        page.get_by_label("Password").fill("wrong password 123")
        page.get_by_role("button", name="Sign in").click()
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible()
        messages.append(alert.inner_text())
    assert messages[0] == messages[1] == "The e-mail or password is incorrect."

    # Five failures for the account (the unknown address counted apart), then the sixth try.
    for _ in range(4):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("wrong password 123")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("The e-mail or password is incorrect.")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(re.compile(r"/login")) as info:
        page.get_by_role("button", name="Sign in").click()
    assert info.value.status == 429
    assert int(info.value.headers["retry-after"]) > 0
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")


def test_admin_creates_an_editor_and_a_viewer(page: Page, make_user) -> None:
    sign_in_as(page, make_user("admin"))
    page.get_by_role("link", name="Users").click()
    for email, role in (("ed@example.com", "Editor"), ("vi@example.com", "Viewer")):
        page.get_by_role("button", name="Add user").click()
        dialog = page.get_by_role("dialog", name="Add user")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Email").fill(email)
        dialog.get_by_label("Role").select_option(label=role)
        dialog.get_by_label("Password", exact=True).fill(PASSWORD)
        dialog.get_by_label("Confirm password").fill(PASSWORD)
        dialog.get_by_role("button", name="Create user").click()
        expect(page.get_by_text(f"User {email} created as {role.lower()}.")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=email)
        expect(row.get_by_label(f"Role of {email}")).to_have_value(role.lower())


def test_add_user_shows_errors_in_the_dialog_and_saves_nothing(page: Page, make_user) -> None:
    admin = make_user("admin")
    sign_in_as(page, admin)
    page.goto("/system/users/")
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Email").fill(admin.upper())
    dialog.get_by_label("Password", exact=True).fill(PASSWORD)
    dialog.get_by_label("Confirm password").fill(PASSWORD)
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog.get_by_text("A user with this e-mail already exists.")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row")).to_have_count(2)


def test_viewer_sees_no_admin_navigation_and_gets_403_on_admin_urls(page: Page, make_user) -> None:
    sign_in_as(page, make_user("viewer"))
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Connect")).to_be_visible()
    expect(navigation.get_by_role("link", name="Integrations")).to_be_visible()
    for admin_link in ("Users", "Audit log", "External Integrations", "Companies"):
        expect(navigation.get_by_role("link", name=admin_link)).to_have_count(0)
    response = page.goto("/system/users/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Access denied")).to_be_visible()


def test_a_deactivated_users_open_session_stops_working(page: Page, new_page, make_user) -> None:
    editor = make_user("editor")
    editor_page = new_page()
    sign_in_as(editor_page, editor)

    sign_in_as(page, make_user("admin"))
    page.goto("/system/users/")
    page.get_by_role("button", name=f"Deactivate {editor}").click()
    dialog = page.get_by_role("dialog", name=f"Deactivate {editor}?")
    dialog.get_by_role("button", name="Deactivate user").click()
    expect(page.get_by_text(f"{editor} was deactivated and signed out.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=editor)
    expect(row.get_by_text("Deactivated")).to_be_visible()

    editor_page.reload()
    expect(editor_page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_audit_log_shows_the_actions_and_filters_them(page: Page, make_user) -> None:
    admin = make_user("admin")
    sign_in_as(page, admin)
    page.goto("/system/audit/")
    table = page.locator("#audit-table")
    # Actions read as people say them; their codes stay out of sight.
    expect(table.get_by_role("cell", name="Sign-in", exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name="User added", exact=True)).to_be_visible()
    expect(table.get_by_text("auth.sign_in")).to_have_count(0)
    page.get_by_label("Action").select_option(label="User added")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"action=user\.create"))
    expect(table.get_by_role("cell", name="Sign-in", exact=True)).to_have_count(0)
    expect(table.get_by_role("cell", name="User added", exact=True).first).to_be_visible()


def test_audit_log_folds_each_change_into_a_before_after_diff(
    page: Page, make_user, app: Flask
) -> None:
    admin = make_user("admin")
    with app.app_context():
        factories.setup_account()
        company = companies.list_companies()[0]
        companies.rename_company(Actor.system("test"), company, CompanyInput(name="Acme Holdings"))
    sign_in_as(page, admin)
    page.goto("/system/audit/?action=company.rename")
    row = page.locator("#audit-table tbody tr").filter(has_text="Company renamed")
    expect(row).to_have_count(1)
    # One line per event: the diff is folded, naming the fields that changed.
    change = row.locator("summary")
    expect(change).to_have_text("Name")
    expect(row.locator("ins")).to_be_hidden()
    change.click()
    expect(row.locator("del")).to_have_text("Default Company")
    expect(row.locator("ins")).to_have_text("Acme Holdings")


def test_admin_searches_users_as_they_type(page: Page, make_user) -> None:
    make_user("editor", "alice@example.com")
    make_user("viewer", "bob@example.com")
    sign_in_as(page, make_user("admin"))
    page.goto("/system/users/")
    table = page.locator("#users-table")
    expect(table.get_by_role("cell", name="bob@example.com", exact=True)).to_be_visible()
    page.get_by_role("searchbox", name="Search users").fill("ali")
    expect(table.get_by_role("cell", name="alice@example.com", exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name="bob@example.com", exact=True)).to_have_count(0)
    page.get_by_role("searchbox", name="Search users").fill("zzz")
    expect(table.get_by_text("No user's e-mail contains “zzz”.")).to_be_visible()


def test_a_refused_form_puts_the_focus_on_the_first_field_in_error(page: Page, make_user) -> None:
    sign_in_as(page, make_user("admin"))
    page.goto("/system/users/")
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Email").fill("new@example.com")
    dialog.get_by_label("Password", exact=True).fill(PASSWORD)
    dialog.get_by_label("Confirm password").fill(PASSWORD + "x")
    dialog.get_by_role("button", name="Create user").click()
    confirm = dialog.get_by_label("Confirm password")
    expect(confirm).to_be_focused()
    expect(confirm).to_have_accessible_description("The passwords do not match.")


def test_admin_sorts_users_by_a_column(page: Page, make_user) -> None:
    make_user("editor", "alice@example.com")
    make_user("viewer", "zoe@example.com")
    sign_in_as(page, make_user("admin", "boss@example.com"))
    page.goto("/system/users/")
    emails = page.locator("#users-table tbody td.name")
    expect(emails.first).to_have_text("alice@example.com")
    page.get_by_role("columnheader", name="E-mail").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-email"))
    expect(emails.first).to_have_text("zoe@example.com")
    page.get_by_role("columnheader", name="Role").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=role"))
    expect(emails.first).to_have_text("boss@example.com")  # admin sorts first
