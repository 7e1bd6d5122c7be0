"""Every page and dialog at 1440 and 390 px: nothing scrolls sideways, axe-core finds nothing.

axe-core itself runs in every browser test (tests/support/a11y.py); this tour makes sure every
page and every dialog state is seen at both widths: each dialog opened as its own page and as
a modal, saved empty (its refusal), and every confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.support.a11y import check_now
from tests.support.e2e import DESKTOP, PHONE, assert_fits, sign_in_as, wait_for_htmx
from tests.support.fake_stripe import FakeStripe
from tests.support.showcase import ADMIN, Dialog, Showcase, seed
from tests.support.stripe_app import stripe_app

WIDTHS = {"1440": DESKTOP, "390": PHONE}


@pytest.fixture
def app(database_url: str, fake: FakeStripe) -> Iterator[Flask]:
    """Serve the portal with STRIPE_API_BASE pointing at the fake Stripe."""
    yield from stripe_app(database_url, fake.base_url)


@pytest.fixture
def showcase(app: Flask) -> Showcase:
    """Fill the database with a small, realistic account."""
    return seed(app)


def signed_in(new_page, width: str, color_scheme: str = "light") -> Page:
    """Return a page of the given width, signed in as the showcase's administrator."""
    page = new_page(viewport=WIDTHS[width], color_scheme=color_scheme)
    sign_in_as(page, ADMIN)
    return page


def refuse_empty(page: Page, dialog, spec: Dialog) -> None:
    """Empty the dialog's form, save it, and see the message next to the field."""
    if spec.clear:
        dialog.get_by_label(spec.clear, exact=True).fill("")
    dialog.get_by_role("button", name=spec.save, exact=True).click()
    invalid = dialog.locator('[aria-invalid="true"]').first
    expect(invalid).to_be_focused()
    expect(invalid).to_have_accessible_description(re.compile(r"\w"))
    expect(dialog.locator(".field-error").first).to_be_visible()


@pytest.mark.parametrize(
    ("width", "scheme"), [("1440", "light"), ("390", "light"), ("1440", "dark")]
)
def test_every_page_fits_the_screen(new_page, showcase: Showcase, width: str, scheme: str) -> None:
    page = signed_in(new_page, width, scheme)
    for name, url in showcase.pages.items():
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("navigation", name="Breadcrumb")).to_be_visible()
        assert_fits(page, name)
        check_now(page, f"the {name} page")


def test_the_navigation_opens_from_its_menu_button_on_a_phone(new_page, showcase: Showcase) -> None:
    page = signed_in(new_page, "390")
    page.goto(showcase.pages["connect"])
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(navigation).to_be_visible()
    assert_fits(page, "the open navigation")
    navigation.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1, name="Users")).to_be_visible()
    expect(navigation).to_be_hidden()
    # The account links wait behind their own button.
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    page.get_by_role("button", name="Account").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_dialog_opened_as_a_page_shows_its_refusal(
    new_page, showcase: Showcase, width: str
) -> None:
    page = signed_in(new_page, width)
    for spec in showcase.dialogs:
        page.goto(spec.url)
        dialog = page.get_by_role("dialog", name=spec.name)
        expect(dialog).to_be_visible()
        assert_fits(page, spec.url)
        # Saved with an error, the form stays open with its messages.
        refuse_empty(page, dialog, spec)
        expect(dialog).to_be_visible()
        assert_fits(page, f"{spec.url} refused")
        check_now(page, f"{spec.name} refused, as a page")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_dialog_as_a_modal_and_every_confirmation(
    new_page, showcase: Showcase, width: str
) -> None:
    page = signed_in(new_page, width)
    page.goto(showcase.pages["connect"])
    for spec in showcase.dialogs:
        wait_for_htmx(page)
        page.evaluate("(url) => htmx.ajax('GET', url, {target: '#modal-root'})", spec.url)
        dialog = page.get_by_role("dialog", name=spec.name)
        expect(dialog).to_be_visible()
        refuse_empty(page, dialog, spec)
        assert_fits(page, f"{spec.name} refused, as a modal")
        check_now(page, f"{spec.name} refused, as a modal")
        dialog.get_by_role("button", name="Close", exact=True).click()
        expect(page.locator("dialog")).to_have_count(0)
    # The one dialog that follows a save: a new API key, shown once.
    page.goto(showcase.pages["api-keys"])
    page.get_by_role("button", name="Generate API key").click()
    dialog = page.get_by_role("dialog", name="Generate API key")
    dialog.get_by_label("Name").fill(f"Key at {width}")
    dialog.get_by_role("button", name="Generate").click()
    shown = page.get_by_role("dialog", name="API key generated")
    expect(shown).to_be_visible()
    assert_fits(page, "API key generated")
    check_now(page, "API key generated")
    shown.get_by_role("button", name="Close").click()
    expect(page.locator("dialog")).to_have_count(0)
    for title, url in showcase.confirms:
        page.goto(url)  # as a page of its own
        expect(page.get_by_role("dialog")).to_be_visible()
        check_now(page, f"{title}, as a page")
        page.goto(showcase.pages["connect"])
        wait_for_htmx(page)
        page.evaluate("(url) => htmx.ajax('GET', url, {target: '#modal-root'})", url)
        expect(page.get_by_role("dialog")).to_be_visible()
        assert_fits(page, title)
        check_now(page, f"{title}, as a modal")
        page.keyboard.press("Escape")
        expect(page.locator("dialog")).to_have_count(0)
