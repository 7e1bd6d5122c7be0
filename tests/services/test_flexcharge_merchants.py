"""FlexCharge onboarding: the switch, independent profiles, verified credentials, sites."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, FlexChargeCredentials, FlexChargeSite, Profile, ProfileMode
from portal.schemas.base import field_errors
from portal.schemas.flexcharge import CredentialsChange, ProfilesInput, SiteInput
from portal.services import flexcharge_merchants as merchants
from portal.services.errors import Conflict
from portal.services.flexcharge_access import current_token
from portal.web.registry import flexcharge, secret_box
from tests import factories
from tests.support.fake_flexcharge import FakeFlexCharge
from tests.support.flexcharge import (
    SYSTEM,
    app_on_fake_flexcharge,  # noqa: F401 (a fixture)
    credentials_input,
    fake_flexcharge,  # noqa: F401 (a fixture)
)


def events(action: str) -> list[AuditEvent]:
    """Return the audit events of an action, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_enabling_records_who_and_when_and_is_audited_once(app_context) -> None:
    customer = factories.make_customer("Acme")
    assert merchants.set_enabled(SYSTEM, customer, True)
    assert not merchants.set_enabled(SYSTEM, customer, True)
    setup = merchants.setup_of(customer)
    assert setup.enabled and setup.settings.enabled_by_label == "test"
    assert setup.settings.enabled_at is not None
    assert len(events("flexcharge.enable")) == 1
    assert merchants.set_enabled(SYSTEM, customer, False)
    assert not merchants.setup_of(customer).enabled
    assert len(events("flexcharge.disable")) == 1


def test_profiles_are_independent_and_each_change_is_audited(app_context) -> None:
    customer = factories.make_customer("Acme")
    assert merchants.setup_of(customer).mode(Profile.MIT) is ProfileMode.OFF
    data = ProfilesInput(cit_website="sandbox", cit_call_center="off", mit="production")
    merchants.set_profiles(SYSTEM, customer, data)
    setup = merchants.setup_of(customer)
    assert setup.mode(Profile.MIT) is ProfileMode.PRODUCTION
    assert setup.mode(Profile.CIT_WEBSITE) is ProfileMode.SANDBOX
    assert setup.mode(Profile.CIT_CALL_CENTER) is ProfileMode.OFF
    (event,) = events("flexcharge.profiles")
    assert event.changes == {"CIT - website": ["off", "sandbox"], "MIT": ["off", "production"]}
    # Saving the same again changes nothing and audits nothing.
    assert merchants.set_profiles(SYSTEM, customer, data) == {}
    assert len(events("flexcharge.profiles")) == 1


def test_credentials_are_verified_encrypted_masked_and_the_token_is_kept(
    app_context, fake: FakeFlexCharge
) -> None:
    customer = factories.make_customer("Acme")
    data = credentials_input(app_secret="app-secret-0123456789abcdef")
    row = merchants.save_credentials(SYSTEM, customer, "sandbox", data, flexcharge())
    assert [call.environment for call in fake.calls("/oauth2/token")] == ["sandbox"]
    assert row.app_secret_mask == "...cdef"
    assert "app-secret-0123456789abcdef" not in row.app_secret_encrypted
    assert secret_box().decrypt(row.app_secret_encrypted) == "app-secret-0123456789abcdef"
    assert row.webhook_key_mask and row.tokenization_key_mask
    (event,) = events("flexcharge.credentials")
    assert event.changes["app_secret"] == "[redacted]"
    assert "app-secret-0123456789abcdef" not in str(event.changes)
    # The verification's token is reused: no second /oauth2/token call.
    token, _ = current_token(flexcharge(), row.id)
    assert token and len(fake.calls("/oauth2/token")) == 1


def test_an_empty_secret_on_edit_keeps_the_stored_one_and_is_verified_with_it(
    app_context, fake: FakeFlexCharge
) -> None:
    customer = factories.make_customer("Acme")
    first = merchants.save_credentials(
        SYSTEM, customer, "production", credentials_input(), flexcharge()
    )
    secret = first.app_secret_encrypted
    change = CredentialsChange(mid=first.mid, app_key="renamed-key", app_secret="")
    row = merchants.save_credentials(SYSTEM, customer, "production", change, flexcharge())
    assert row.app_key == "renamed-key" and row.app_secret_encrypted == secret
    assert [c.body["AppKey"] for c in fake.calls("/oauth2/token")][-1] == "renamed-key"


@pytest.mark.parametrize(
    ("switch", "error", "message"),
    [
        (
            None,
            merchants.CredentialsRefused,
            "FlexCharge Sandbox refused the App key and App secret (400)",
        ),
        (
            lambda f: f.fail("/oauth2/token", 503),
            merchants.FlexChargeUnreachable,
            "it answered 503",
        ),
        (
            lambda f: f.slow("/oauth2/token", 3),
            merchants.FlexChargeUnreachable,
            "did not answer within",
        ),
        (
            lambda f: f.refuse_connections(),
            merchants.FlexChargeUnreachable,
            "it refused the connection",
        ),
    ],
    ids=["rejected", "5xx", "slow", "refused"],
)
def test_credentials_flexcharge_refuses_or_cannot_check_are_not_saved_and_the_failure_is_audited(
    app_context, fake: FakeFlexCharge, switch, error, message
) -> None:
    customer = factories.make_customer("Acme")
    secret = "denied-secret-000000" if switch is None else "app-secret-000000000"
    if switch:
        switch(fake)
    with pytest.raises(error) as raised:
        merchants.save_credentials(
            SYSTEM, customer, "sandbox", credentials_input(app_secret=secret), flexcharge()
        )
    assert message in raised.value.message
    assert secret not in raised.value.message
    assert db.session.scalar(select(func.count()).select_from(FlexChargeCredentials)) == 0
    (event,) = events("flexcharge.credentials")
    assert event.outcome == "failure" and secret not in str(event.changes)


def test_sites_are_unique_by_host_and_descriptor_and_switch_on_and_off(app_context) -> None:
    customer = factories.make_customer("Acme")
    site = merchants.add_site(
        SYSTEM, customer, SiteInput(url="https://Shop.Example.com/", descriptor="SHOP  EX")
    )
    assert (site.host, site.descriptor, site.enabled) == ("shop.example.com", "SHOP EX", True)
    with pytest.raises(Conflict) as same_host:
        merchants.add_site(
            SYSTEM, customer, SiteInput(url="http://shop.example.com/x", descriptor="Other")
        )
    assert same_host.value.field == "url"
    with pytest.raises(Conflict) as same_descriptor:
        merchants.add_site(
            SYSTEM, customer, SiteInput(url="https://two.example.com", descriptor="shop ex")
        )
    assert same_descriptor.value.field == "descriptor"
    # Another merchant may use the same site.
    merchants.add_site(
        SYSTEM,
        factories.make_customer("Other"),
        SiteInput(url="https://shop.example.com", descriptor="SHOP EX"),
    )
    assert merchants.set_site_enabled(SYSTEM, site, False)
    assert not merchants.set_site_enabled(SYSTEM, site, False)
    assert not db.session.get(FlexChargeSite, site.id).enabled
    assert len(events("flexcharge.site.disable")) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "shop.example.com"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"descriptor": "   "}, "descriptor"),
        ({"descriptor": "x" * 101}, "descriptor"),
        ({"site_id": "not-a-guid"}, "site_id"),
        ({"descriptor": "A\x00B"}, "descriptor"),
    ],
)
def test_site_input_is_refused_with_a_message_per_field(fields, field) -> None:
    data = {"url": "https://shop.example.com", "descriptor": "SHOP", **fields}
    with pytest.raises(ValidationError) as raised:
        SiteInput.model_validate(data)
    assert field in field_errors(raised.value)
