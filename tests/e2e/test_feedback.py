"""Feedback while the portal works: busy buttons, and toasts with an icon and a dismiss."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.support.apps import fresh_app
from tests.support.e2e import sign_in_as
from tests.support.fake_stripe import SLOW_SECONDS, FakeStripe
from tests.support.stripe_app import stripe_key


@pytest.fixture
def app(database_url: str, fake: FakeStripe) -> Iterator[Flask]:
    """Serve the portal against the fake Stripe, waiting longer than the fake holds an answer."""
    yield from fresh_app(
        database_url, STRIPE_API_BASE=fake.base_url, STRIPE_TIMEOUT=SLOW_SECONDS + 2
    )


def test_buttons_that_wait_on_stripe_are_busy_until_it_answers(
    page: Page, make_user, fake: FakeStripe
) -> None:
    sign_in_as(page, make_user("admin"))
    page.goto("/system/external-integrations/")

    # An htmx save: the dialog's button is disabled and marked busy while Stripe is asked.
    page.get_by_role("button", name="Add Integration").click()
    dialog = page.get_by_role("dialog", name="Add Integration")
    dialog.get_by_label("Integration").select_option(label="Stripe")
    dialog.get_by_label("Name").fill("Held")
    dialog.get_by_label("Secret key").fill(stripe_key("held"))
    fake.hold()
    save = dialog.get_by_role("button", name="Save Integration")
    save.click()
    expect(save).to_be_disabled()
    expect(save).to_have_attribute("aria-busy", "true")
    fake.release()
    expect(page.get_by_text("Stripe integration “Held” added.")).to_be_visible()

    # A plain form post (Verify key now) is busy too until the next page arrives. The page
    # reads the button's state itself, right after the click: Playwright would wait for the
    # next page first, and the server is holding it until the fake Stripe is released.
    page.get_by_role("link", name="Held", exact=True).click()
    fake.hold()
    state = page.get_by_role("button", name="Verify key now").evaluate(
        """button => new Promise((done) => {
             button.click();
             setTimeout(() => done([button.disabled, button.getAttribute("aria-busy")]), 0);
           })"""
    )
    assert state == [True, "true"]
    fake.release()
    expect(page.get_by_text("Stripe accepted the secret key of “Held”.")).to_be_visible()
    expect(page.get_by_role("button", name="Verify key now")).to_be_enabled()


def test_toasts_say_their_kind_and_errors_stay_until_dismissed(page: Page, make_user) -> None:
    sign_in_as(page, make_user("admin"))
    page.goto("/account/companies/")
    page.get_by_label("Company name").fill("Acme Europe")
    page.get_by_role("button", name="Add company").click()
    success = page.locator(".toast-success").filter(has_text="Company “Acme Europe” added.")
    expect(success).to_be_visible()
    expect(success.locator("svg.icon")).to_have_count(2)  # its kind's, and the dismiss button's
    success.get_by_role("button", name="Dismiss").click()
    expect(success).to_have_count(0)

    # An error toast (here: a request the server refuses) stays until it is dismissed.
    page.evaluate("htmx.ajax('GET', '/account/companies/999999/edit', {target: '#modal-root'})")
    error = page.get_by_role("alert").filter(has_text="That item no longer exists.")
    expect(error).to_be_visible()
    expect(error).to_have_class("toast toast-error")
    error.get_by_role("button", name="Dismiss").click()
    expect(error).to_have_count(0)
