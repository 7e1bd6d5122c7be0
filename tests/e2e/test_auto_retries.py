"""FlexPay Retries in Chromium: the tab appears with the scheduler, one rule per pair."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.e2e import sign_in_as


def test_flexpay_retries_appear_with_the_scheduler_and_hold_one_rule_per_pair(
    page: Page, make_user
) -> None:
    sign_in_as(page, make_user("admin"))
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Integrations", exact=True).click()
    expect(page.get_by_role("tab", name="API keys")).to_be_visible()
    expect(page.get_by_role("tab", name="FlexPay Retries")).to_have_count(0)

    navigation.get_by_role("link", name="Account settings").click()
    page.get_by_role("switch", name="Scheduler enabled").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Account settings saved. The scheduler is on.")).to_be_visible()

    navigation.get_by_role("link", name="Integrations", exact=True).click()
    page.get_by_role("tab", name="FlexPay Retries").click()
    expect(page.get_by_role("tab", name="FlexPay Retries")).to_have_attribute(
        "aria-selected", "true"
    )

    def add(name: str, environment: str):
        page.get_by_role("button", name="Add auto-retries").click()
        dialog = page.get_by_role("dialog", name="Add auto-retries")
        expect(dialog).to_contain_text("Do not enable it if your CRM is also scheduling")
        dialog.get_by_label("Name").fill(name)
        dialog.get_by_label("Company").select_option(label="Default Company")
        dialog.get_by_label("Environment").select_option(label=environment)
        dialog.get_by_label("Status").select_option(label="Active")
        dialog.get_by_role("button", name="Add auto-retry").click()
        return dialog

    add("Prod retries", "Production")
    expect(page.get_by_text("Auto-retry “Prod retries” added.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Prod retries")
    expect(row).to_contain_text("Production")
    expect(row).to_contain_text("Active")

    dialog = add("Second prod retries", "Production")
    expect(
        dialog.get_by_text("already has an auto-retry for Production: “Prod retries”")
    ).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row").filter(has_text="Second prod retries")).to_have_count(0)

    row.get_by_role("button", name="Edit Prod retries").click()
    editing = page.get_by_role("row").filter(has=page.get_by_label("Status"))
    expect(editing.get_by_label("Name")).to_be_focused()
    editing.get_by_label("Status").select_option(label="Inactive")
    editing.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Auto-retry “Prod retries” saved (Inactive).")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Prod retries")).to_contain_text("Inactive")

    page.get_by_role("button", name="Delete Prod retries").click()
    confirm = page.get_by_role("dialog", name="Delete auto-retry “Prod retries”?")
    confirm.get_by_role("button", name="Delete auto-retry").click()
    expect(page.get_by_text("Auto-retry “Prod retries” deleted.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Prod retries")).to_have_count(0)
