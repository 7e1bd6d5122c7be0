"""The one way to read a form: values shown again, one message per control, secrets never."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from portal.schemas.companies import CompanyInput
from portal.schemas.external_integrations import ExternalIntegrationChange
from portal.services.errors import Conflict
from portal.web.forms import RETYPE_MESSAGE, ask_to_retype, choices, flag, read, shown


def test_a_valid_form_carries_the_model_and_the_values_typed() -> None:
    form = read(CompanyInput, MultiDict({"name": "  Acme   Pay ", "csrf_token": "x"}))
    assert form.valid and form.model.name == "Acme Pay"
    assert form.values == {"name": "  Acme   Pay "}  # shown again as typed


def test_a_refused_form_has_one_message_per_control_and_no_model() -> None:
    form = read(CompanyInput, MultiDict({"name": ""}))
    assert not form.valid and form.model is None
    assert form.errors == {"name": "Enter a name."}


def test_a_secret_is_validated_but_never_shown_again() -> None:
    posted = MultiDict({"name": "Main", "secret": "sk_test_" + "a" * 24, "active": ""})
    form = read(ExternalIntegrationChange, posted)
    assert form.valid and form.model.secret.get_secret_value().startswith("sk_test_")
    assert "secret" not in form.values


def test_a_switch_tells_unchecked_from_absent() -> None:
    assert flag(MultiDict([("active", "")]), "active", current=True) is False
    assert flag(MultiDict([("active", ""), ("active", "y")]), "active") is True
    assert flag(MultiDict(), "active", current=True) is True
    assert choices(MultiDict([("t", ""), ("t", "refund")]), "t", ["capture"]) == ["refund"]
    assert choices(MultiDict(), "t", ["capture"]) == ["capture"]


def test_a_service_refusal_lands_next_to_its_control_or_above_the_form() -> None:
    form = read(CompanyInput, MultiDict({"name": "Acme"}))
    form.refuse(Conflict("A company named “Acme” already exists.", field="name"))
    assert not form.valid and form.errors["name"].startswith("A company named")
    form.refuse(Conflict("Try again."), default_field=None)
    assert form.form_error == "Try again."


def test_typed_secrets_are_asked_again_only_on_a_refused_form() -> None:
    refused = ask_to_retype(read(CompanyInput, MultiDict({"name": ""})), ["password"])
    assert refused.errors["password"] == RETYPE_MESSAGE
    accepted = ask_to_retype(read(CompanyInput, MultiDict({"name": "A"})), ["password"])
    assert "password" not in accepted.errors


def test_control_ids_are_kebab_case_and_prefixed() -> None:
    assert shown().control_id("company_id") == "field-company-id"
    assert shown(prefix="rename-").control_id("name") == "field-rename-name"
