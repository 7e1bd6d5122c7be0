"""Connect views of a customer's "FlexCharge" tab: the switch, profiles, credentials and sites.

Admins and editors change; viewers read. Every form works without JavaScript (a real action
and method); htmx opens the dialogs and swaps a site's row in place.
"""

from __future__ import annotations

from flask import abort, flash, render_template, request, url_for

from portal.connect import bp
from portal.connect.helpers import CUSTOMER
from portal.models import Customer, Environment, FlexChargeSite, Profile, ProfileMode
from portal.schemas.flexcharge import CredentialsChange, CredentialsInput, ProfilesInput, SiteInput
from portal.services import customers, deliveries
from portal.services import flexcharge_merchants as merchants
from portal.web import registry
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import Form, ask_to_retype, read, shown
from portal.web.htmx import hx_redirect
from portal.web.responses import confirm, dialog, done, row_or_redirect, submit

FLEXCHARGE = CUSTOMER + "/flexcharge"
CREDENTIALS = FLEXCHARGE + "/credentials/<environment>"
SITE = FLEXCHARGE + "/sites/<int:site_id>"
CREDENTIAL_SECRETS = ("app_secret", "tokenization_key", "webhook_key")


def tab_url(customer: Customer) -> str:
    """Return the URL of the customer's FlexCharge tab."""
    return url_for("connect.flexcharge", customer_id=customer.public_id)


@bp.get(FLEXCHARGE)
def flexcharge(customer_id: str):
    """Show the FlexCharge tab: who enabled it, the profiles, credentials, sites, failures."""
    customer = customers.get_customer(customer_id)
    setup = merchants.setup_of(customer)
    return render_template(
        "connect/flexcharge.html",
        customer=customer,
        current=None,
        tab="flexcharge",
        setup=setup,
        profiles=list(Profile),
        modes=ProfileMode.choices(),
        environments=list(Environment),
        profiles_form=shown({profile.value: setup.mode(profile).value for profile in Profile}),
        failed=deliveries.failed_deliveries(customer_id=customer.id),
    )


def _switch(customer_id: str, enabled: bool):
    """Switch FlexCharge on or off for the customer and come back to the tab."""
    customer = customers.get_customer(customer_id)
    changed = merchants.set_enabled(current_actor(), customer, enabled)
    state = "enabled" if enabled else "disabled"
    if changed:
        return done(f"FlexCharge {state} for {customer.name}.", tab_url(customer))
    return done(f"FlexCharge was already {state}.", tab_url(customer))


@bp.post(FLEXCHARGE + "/enable")
@writer_required
def enable_flexcharge(customer_id: str):
    """Enable FlexCharge for the customer."""
    return _switch(customer_id, True)


@bp.post(FLEXCHARGE + "/disable")
@writer_required
def disable_flexcharge(customer_id: str):
    """Disable FlexCharge for the customer; its settings are kept."""
    return _switch(customer_id, False)


@bp.post(FLEXCHARGE + "/profiles")
@writer_required
def update_profiles(customer_id: str):
    """Set "CIT - website", "CIT - call center" and "MIT", each Off, Sandbox or Production."""
    customer = customers.get_customer(customer_id)
    form = read(ProfilesInput, request.form)
    if not form.valid:
        flash(" ".join(dict.fromkeys(form.errors.values())), "error")
        return hx_redirect(tab_url(customer))
    changed = merchants.set_profiles(current_actor(), customer, form.model)
    return done("Profiles saved." if changed else "Profiles unchanged.", tab_url(customer))


# Credentials ------------------------------------------------------------------------------


def _environment(value: str) -> str:
    """Return a known environment from the URL, or 404."""
    if value not in {env.value for env in Environment}:
        abort(404)
    return value


def credentials_dialog(customer: Customer, environment: str, form: Form, status: int = 200):
    """Render one environment's credentials dialog (secrets masked; empty keeps them)."""
    stored = merchants.setup_of(customer).credentials.get(environment)
    return dialog(
        "connect/_flexcharge_credentials_form.html",
        status,
        customer=customer,
        environment=Environment(environment),
        stored=stored,
        form=form,
    )


@bp.get(CREDENTIALS + "/edit")
@writer_required
def edit_credentials(customer_id: str, environment: str):
    """Show the credentials form of an environment."""
    customer = customers.get_customer(customer_id)
    environment = _environment(environment)
    stored = merchants.setup_of(customer).credentials.get(environment)
    values = {
        "mid": stored.mid if stored else "",
        "app_key": stored.app_key if stored else "",
        "site_id": (stored.site_id or "") if stored else "",
    }
    return credentials_dialog(customer, environment, shown(values))


@bp.post(CREDENTIALS)
@writer_required
def save_credentials(customer_id: str, environment: str):
    """Verify the credentials with FlexCharge (POST /oauth2/token), then save them."""
    customer = customers.get_customer(customer_id)
    environment = _environment(environment)
    stored = merchants.setup_of(customer).credentials.get(environment)
    form = read(CredentialsChange if stored else CredentialsInput, request.form)
    typed = [name for name in CREDENTIAL_SECRETS if request.form.get(name, "").strip()]
    label = Environment(environment).label
    return submit(
        form,
        lambda data: merchants.save_credentials(
            current_actor(), customer, environment, data, registry.flexcharge()
        ),
        lambda _: done(f"{label} credentials verified and saved.", tab_url(customer)),
        lambda form, status: credentials_dialog(
            customer, environment, ask_to_retype(form, typed), status
        ),
    )


# Sites ------------------------------------------------------------------------------------


def site_dialog(customer: Customer, site: FlexChargeSite | None, form: Form, status: int = 200):
    """Render the Add site / Edit site dialog."""
    return dialog(
        "connect/_flexcharge_site_form.html", status, customer=customer, site=site, form=form
    )


@bp.get(FLEXCHARGE + "/sites/new")
@writer_required
def new_site(customer_id: str):
    """Show the Add site form."""
    customer = customers.get_customer(customer_id)
    values = {"url": "", "descriptor": "", "site_id": "", "enabled": True}
    return site_dialog(customer, None, shown(values))


@bp.post(FLEXCHARGE + "/sites")
@writer_required
def create_site(customer_id: str):
    """Add a website to the customer."""
    customer = customers.get_customer(customer_id)
    return submit(
        read(SiteInput, request.form),
        lambda data: merchants.add_site(current_actor(), customer, data),
        lambda site: done(f"Site {site.url} added.", tab_url(customer)),
        lambda form, status: site_dialog(customer, None, form, status),
        default_field="url",
    )


def _site_scope(customer_id: str, site_id: int) -> tuple[Customer, FlexChargeSite]:
    """Load the customer and its site; 404 when the site is another customer's."""
    customer = customers.get_customer(customer_id)
    return customer, merchants.get_site(customer, site_id)


def _site_values(site: FlexChargeSite) -> dict:
    """Return a site's values as its form shows them."""
    return {
        "url": site.url,
        "descriptor": site.descriptor,
        "site_id": site.site_id or "",
        "enabled": site.enabled,
    }


@bp.get(SITE + "/edit")
@writer_required
def edit_site(customer_id: str, site_id: int):
    """Show a site's edit form."""
    customer, site = _site_scope(customer_id, site_id)
    return site_dialog(customer, site, shown(_site_values(site)))


@bp.post(SITE)
@writer_required
def update_site(customer_id: str, site_id: int):
    """Save a site's changes."""
    customer, site = _site_scope(customer_id, site_id)
    return submit(
        read(SiteInput, request.form, current=_site_values(site)),
        lambda data: merchants.update_site(current_actor(), site, data),
        lambda site: done(f"Site {site.url} updated.", tab_url(customer)),
        lambda form, status: site_dialog(customer, site, form, status),
        default_field="url",
    )


def _site_switch(customer_id: str, site_id: int, enabled: bool):
    """Switch a site on or off; answer with its row, or the tab."""
    customer, site = _site_scope(customer_id, site_id)
    merchants.set_site_enabled(current_actor(), site, enabled)
    flash(f"Site {site.url} switched {'on' if enabled else 'off'}.", "success")
    return row_or_redirect(
        "connect/_flexcharge_site_row.html", tab_url(customer), customer=customer, site=site
    )


@bp.post(SITE + "/enable")
@writer_required
def enable_site(customer_id: str, site_id: int):
    """Switch a site on: its transactions go to FlexCharge again."""
    return _site_switch(customer_id, site_id, True)


@bp.post(SITE + "/disable")
@writer_required
def disable_site(customer_id: str, site_id: int):
    """Switch a site off: its transactions are recorded but not sent."""
    return _site_switch(customer_id, site_id, False)


@bp.route(SITE + "/delete", methods=["GET", "POST"])
@writer_required
def delete_site(customer_id: str, site_id: int):
    """Ask, then delete a site; its transactions keep their URL and descriptor."""
    customer, site = _site_scope(customer_id, site_id)
    if request.method == "GET":
        return confirm(
            f"Delete site {site.url}?",
            "Transactions already received keep the URL and descriptor they were sent with; "
            "new transactions naming this site will be refused.",
            "Delete site",
            tab_url(customer),
        )
    url = site.url
    merchants.delete_site(current_actor(), site)
    return done(f"Site {url} deleted.", tab_url(customer))
