"""Tests for the Connect input models, their form messages and API error codes."""

import string
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from portal.schemas.connect import (
    EXPIRY_HOURS_MAX,
    NON_FIELD_KEY,
    POSTBACK_FORMATS,
    SHARED_SECRET_LENGTH,
    TRANSACTION_TYPES,
    ConnectionConfig,
    ConnectionInput,
    CustomerInput,
    FlowInput,
    IntegrationInput,
    Terminal,
    error_code,
    field_errors,
    generate_shared_secret,
)
from tests.support.provisioning import seed_connector

CONNECTION_ID = "CO-1234-1234-1234-1234-1234-1234"


def connection(**changes: Any) -> dict[str, Any]:
    """Return valid connection data with some fields changed."""
    return {"name": "Sim", "adapter": "Simulator", "method": "Credit Card", **changes}


def flow(**changes: Any) -> dict[str, Any]:
    """Return valid flow data with some fields changed."""
    return {
        "name": "Card routing",
        "transaction_types": ["initial_debit"],
        "default_connection_id": CONNECTION_ID,
        **changes,
    }


def refuse(model: type[BaseModel], data: dict[str, Any]) -> ValidationError:
    """Validate data that must fail and return the error."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return caught.value


def errors_of(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """Return the form messages of data that must fail."""
    return field_errors(refuse(model, data))


def code_of(model: type[BaseModel], data: dict[str, Any]) -> int:
    """Return the API error code of data that must fail."""
    return error_code(refuse(model, data))


# Enumerations


def test_transaction_types_are_the_seed_values_in_order() -> None:
    """List the eleven transaction types of seed 002 in its order."""
    assert TRANSACTION_TYPES == (
        "initial_debit",
        "initial_preauthorize",
        "capture",
        "partial_capture",
        "refund",
        "partial_refund",
        "register",
        "deregister",
        "payout",
        "recurring_debit",
        "recurring_preauthorize",
    )


def test_postback_formats_are_the_seed_values() -> None:
    """List the postback formats of seed 002."""
    assert POSTBACK_FORMATS == ("inherit", "json", "xml")


# Connection: accepted shapes


def test_minimal_connection_gets_the_defaults() -> None:
    """Fill every optional field with its documented default."""
    result = ConnectionInput.model_validate(connection())
    assert result.postback_format == "inherit"
    assert result.shared_secret is None
    assert result.business_country is None
    assert result.config == ConnectionConfig()
    assert result.disabled_transaction_types == []
    assert result.terminals == []
    assert result.settings == {}
    assert result.scheduler_enabled is False
    assert result.virtual_terminal_enabled is False


def test_seed_example_is_accepted_with_camel_case_names() -> None:
    """Accept seed 002's example connector in its JSON spelling."""
    result = ConnectionInput.model_validate(seed_connector())
    assert result.business_country == "AT"
    assert result.config.language == "de"
    assert result.config.extra_data == {}
    assert result.config.api_secret == SecretStr("ljkllLkklmKLlk3")
    assert result.terminals == [Terminal(terminal_id="string", disabled=True)]


def test_secrets_are_hidden_in_repr() -> None:
    """Keep passwords and shared secrets out of reprs and logs."""
    result = ConnectionInput.model_validate(
        connection(shared_secret="topsecret", config={"password": "hunter2"})
    )
    assert "topsecret" not in repr(result)
    assert "hunter2" not in repr(result)
    assert result.shared_secret is not None
    assert result.shared_secret.get_secret_value() == "topsecret"


def test_strings_are_stripped_and_blank_optionals_become_none() -> None:
    """Strip text and give "not given" a single spelling."""
    result = ConnectionInput.model_validate(
        connection(
            name="  Sim A  ",
            api_key="   ",
            description="",
            shared_secret="  ",
            business_country=" AT ",
            config={"password": "", "language": " "},
        )
    )
    assert result.name == "Sim A"
    assert result.api_key is None
    assert result.description is None
    assert result.shared_secret is None
    assert result.business_country == "AT"
    assert result.config.password is None
    assert result.config.language is None


def test_form_checkbox_values_are_read_as_booleans() -> None:
    """Read the strings an HTML checkbox sends."""
    result = ConnectionInput.model_validate(
        connection(scheduler_enabled="on", virtual_terminal_enabled="false")
    )
    assert result.scheduler_enabled is True
    assert result.virtual_terminal_enabled is False


def test_numeric_setting_values_become_text() -> None:
    """Accept seed 002's numeric setting value as text."""
    result = ConnectionInput.model_validate(connection(settings={"tx:expiration-minutes": 100}))
    assert result.settings == {"tx:expiration-minutes": "100"}


def test_description_may_span_lines_but_names_may_not() -> None:
    """Allow line breaks in descriptions only."""
    result = ConnectionInput.model_validate(connection(description="one\ntwo"))
    assert result.description == "one\ntwo"
    assert errors_of(ConnectionInput, connection(name="Sim\nA")) == {
        "name": "Name contains invalid characters."
    }
    assert code_of(ConnectionInput, connection(name="Sim\x00A")) == 1004


# Connection: seed 002 limits at the boundary and one past it


def test_name_of_three_characters_is_accepted() -> None:
    """Accept a name at seed 002's minimum of three characters."""
    assert ConnectionInput.model_validate(connection(name="abc")).name == "abc"


def test_name_of_two_characters_is_refused() -> None:
    """Refuse a name one character short of the minimum."""
    assert errors_of(ConnectionInput, connection(name="ab")) == {
        "name": "Name must be at least 3 characters."
    }


def test_name_is_measured_after_stripping() -> None:
    """Refuse a name padded with spaces to reach the minimum."""
    assert "name" in errors_of(ConnectionInput, connection(name=" ab "))


@pytest.mark.parametrize("field", ["name", "method"])
def test_name_and_method_are_limited_to_100(field: str) -> None:
    """Accept 100 characters and refuse 101."""
    ConnectionInput.model_validate(connection(**{field: "x" * 100}))
    assert errors_of(ConnectionInput, connection(**{field: "x" * 101})) == {
        field: f"{field.capitalize()} must be at most 100 characters."
    }


def test_the_adapter_is_one_of_the_registry() -> None:
    """Refuse an adapter the registry does not know (1002), and an over-long one (1003)."""
    for adapter in ("Simulator", "MetaConnector"):
        assert ConnectionInput.model_validate(connection(adapter=adapter)).adapter == adapter
    exc = refuse(ConnectionInput, connection(adapter="Stripe"))
    assert field_errors(exc) == {"adapter": "Adapter must be one of: MetaConnector, Simulator."}
    assert error_code(exc) == 1002
    assert code_of(ConnectionInput, connection(adapter="x" * 101)) == 1003


@pytest.mark.parametrize("field", ["name", "adapter", "method"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_blank_mandatory_text_counts_as_missing(field: str, value: str | None) -> None:
    """Report a blank mandatory field as required, with code 1005."""
    exc = refuse(ConnectionInput, connection(**{field: value}))
    assert field_errors(exc) == {field: f"{field.capitalize()} is required."}
    assert error_code(exc) == 1005


def test_shared_secret_of_50_characters_is_accepted() -> None:
    """Accept a shared secret at seed 002's maximum."""
    result = ConnectionInput.model_validate(connection(shared_secret="s" * 50))
    assert result.shared_secret == SecretStr("s" * 50)


def test_shared_secret_of_51_characters_is_refused() -> None:
    """Refuse a shared secret one past the maximum."""
    exc = refuse(ConnectionInput, connection(shared_secret="s" * 51))
    assert field_errors(exc) == {"shared_secret": "Shared secret must be at most 50 characters."}
    assert error_code(exc) == 1003
    assert "s" * 51 not in str(field_errors(exc))


def test_business_country_upper_case_pair_is_accepted() -> None:
    """Accept an ISO 3166-1 alpha-2 code."""
    result = ConnectionInput.model_validate(connection(business_country="AT"))
    assert result.business_country == "AT"


@pytest.mark.parametrize("value", ["at", "AUT", "A", "A1", "Ät"])
def test_business_country_other_shapes_are_refused(value: str) -> None:
    """Refuse anything but two upper-case letters, with code 1003."""
    exc = refuse(ConnectionInput, connection(business_country=value))
    assert field_errors(exc) == {
        "business_country": (
            "Business country must be two upper-case letters (ISO 3166-1 alpha-2)."
        )
    }
    assert error_code(exc) == 1003


def test_language_lower_case_pair_is_accepted() -> None:
    """Accept an ISO 639-1 code."""
    result = ConnectionInput.model_validate(connection(config={"language": "de"}))
    assert result.config.language == "de"


@pytest.mark.parametrize("value", ["DE", "deu", "d", "De"])
def test_language_other_shapes_are_refused(value: str) -> None:
    """Refuse anything but two lower-case letters, reported under config."""
    exc = refuse(ConnectionInput, connection(config={"language": value}))
    assert field_errors(exc) == {
        "config.language": "Language must be two lower-case letters (ISO 639-1)."
    }
    assert error_code(exc) == 1003


def test_every_transaction_type_can_be_disabled() -> None:
    """Accept all eleven transaction types at once."""
    result = ConnectionInput.model_validate(
        connection(disabled_transaction_types=list(TRANSACTION_TYPES))
    )
    assert tuple(result.disabled_transaction_types) == TRANSACTION_TYPES


def test_unknown_transaction_type_is_refused() -> None:
    """Name the unknown value in the message, with code 1002."""
    exc = refuse(ConnectionInput, connection(disabled_transaction_types=["refund", "foo"]))
    assert field_errors(exc) == {"disabled_transaction_types": "Unknown transaction type: foo."}
    assert error_code(exc) == 1002


def test_duplicate_transaction_types_are_refused() -> None:
    """Refuse a transaction type listed twice."""
    exc = refuse(
        ConnectionInput,
        connection(disabled_transaction_types=["refund", "capture", "refund"]),
    )
    assert field_errors(exc) == {
        "disabled_transaction_types": "Transaction type listed more than once: refund."
    }
    assert error_code(exc) == 1002


@pytest.mark.parametrize("value", POSTBACK_FORMATS)
def test_postback_formats_are_accepted(value: str) -> None:
    """Accept each postback format of seed 002."""
    result = ConnectionInput.model_validate(connection(postback_format=value))
    assert result.postback_format == value


def test_postback_format_yaml_is_refused() -> None:
    """Refuse a postback format outside the list, with code 1002."""
    exc = refuse(ConnectionInput, connection(postback_format="yaml"))
    assert field_errors(exc) == {
        "postback_format": "Postback format must be one of: inherit, json, xml."
    }
    assert error_code(exc) == 1002


def test_terminals_with_distinct_ids_are_accepted() -> None:
    """Accept terminals whose ids differ."""
    result = ConnectionInput.model_validate(
        connection(terminals=[{"terminal_id": "ID-0001"}, {"terminal_id": "ID-0002"}])
    )
    assert [t.terminal_id for t in result.terminals] == ["ID-0001", "ID-0002"]
    assert result.terminals[0].disabled is False


def test_terminals_with_duplicate_ids_are_refused() -> None:
    """Refuse two terminals with the same id, even when spaced differently."""
    exc = refuse(
        ConnectionInput,
        connection(terminals=[{"terminal_id": "ID-0001"}, {"terminal_id": " ID-0001 "}]),
    )
    assert field_errors(exc) == {"terminals": "Terminal ID listed more than once: ID-0001."}
    assert error_code(exc) == 1002


def test_terminal_error_is_reported_on_its_row() -> None:
    """Point at the terminal row that failed."""
    exc = refuse(
        ConnectionInput,
        connection(terminals=[{"terminal_id": "ok"}, {"terminal_id": " "}]),
    )
    assert field_errors(exc) == {"terminals.1.terminal_id": "Terminal ID is required."}
    assert error_code(exc) == 1005


def test_terminal_id_is_limited_to_100() -> None:
    """Accept a 100-character terminal id and refuse 101."""
    Terminal.model_validate({"terminal_id": "t" * 100})
    assert errors_of(Terminal, {"terminal_id": "t" * 101}) == {
        "terminal_id": "Terminal ID must be at most 100 characters."
    }


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("api_key", 255),
        ("public_integration_key", 255),
        ("description", 500),
        ("alias", 100),
    ],
)
def test_optional_text_limits(field: str, limit: int) -> None:
    """Accept each optional text at its limit and refuse one past it."""
    ConnectionInput.model_validate(connection(**{field: "x" * limit}))
    message = errors_of(ConnectionInput, connection(**{field: "x" * (limit + 1)}))
    assert message[field].endswith(f"must be at most {limit} characters.")


def test_settings_entries_are_checked() -> None:
    """Report key/value problems on the mapping field, naming the entry."""
    assert errors_of(ConnectionInput, connection(settings={" ": "1"})) == {
        "settings": "Settings keys must be 1 to 100 characters."
    }
    assert errors_of(ConnectionInput, connection(settings={"k": "v" * 1001})) == {
        "settings": "Settings value for k must be at most 1000 characters."
    }
    assert errors_of(ConnectionInput, connection(config={"extra_data": {"k": {"nested": 1}}})) == {
        "config.extra_data": "Extra data value for k must be text."
    }


def test_settings_are_limited_to_100_entries() -> None:
    """Accept 100 entries and refuse 101."""
    entries = {f"k{i}": "v" for i in range(101)}
    ConnectionInput.model_validate(connection(settings=dict(list(entries.items())[:100])))
    assert errors_of(ConnectionInput, connection(settings=entries)) == {
        "settings": "Settings may have at most 100 entries."
    }


def test_unknown_fields_are_refused() -> None:
    """Refuse parameters the model does not take, with code 1006."""
    exc = refuse(ConnectionInput, connection(csrf_token="abc"))
    assert field_errors(exc) == {"csrf_token": "Unknown field."}
    assert error_code(exc) == 1006


# Flow


def test_flow_defaults() -> None:
    """Default retries and expiry to zero and re-routing to off."""
    result = FlowInput.model_validate(flow())
    assert result.retries == 0
    assert result.expiry_hours == 0
    assert result.re_route_recurring is False
    assert result.default_connection_id == CONNECTION_ID


@pytest.mark.parametrize("value", [0, 9, "9"])
def test_retries_within_range_are_accepted(value: int | str) -> None:
    """Accept retries from 0 to seed 002's maximum of 9, also as form text."""
    assert FlowInput.model_validate(flow(retries=value)).retries == int(value)


@pytest.mark.parametrize("value", [10, -1])
def test_retries_out_of_range_are_refused(value: int) -> None:
    """Refuse retries one past either end, with code 1002."""
    exc = refuse(FlowInput, flow(retries=value))
    assert field_errors(exc) == {"retries": "Retries must be between 0 and 9."}
    assert error_code(exc) == 1002


@pytest.mark.parametrize("value", ["x", 1.5, True])
def test_retries_must_be_a_whole_number(value: Any) -> None:
    """Refuse text, fractions and booleans, with code 1001 (a wrong type)."""
    exc = refuse(FlowInput, flow(retries=value))
    assert field_errors(exc) == {"retries": "Retries must be a whole number between 0 and 9."}
    assert error_code(exc) == 1001


def test_expiry_hours_bounds() -> None:
    """Accept 0 and one year of hours; refuse one more and negatives."""
    assert FlowInput.model_validate(flow(expiry_hours=0)).expiry_hours == 0
    maximum = FlowInput.model_validate(flow(expiry_hours=EXPIRY_HOURS_MAX))
    assert maximum.expiry_hours == EXPIRY_HOURS_MAX
    for value in (EXPIRY_HOURS_MAX + 1, -1):
        assert errors_of(FlowInput, flow(expiry_hours=value)) == {
            "expiry_hours": "Expiry hours must be between 0 and 8760."
        }


def test_flow_needs_at_least_one_transaction_type() -> None:
    """Treat an empty selection as missing."""
    exc = refuse(FlowInput, flow(transaction_types=[]))
    assert field_errors(exc) == {"transaction_types": "Select at least one transaction type."}
    assert error_code(exc) == 1005


def test_flow_transaction_types_are_checked() -> None:
    """Refuse unknown and repeated transaction types."""
    assert errors_of(FlowInput, flow(transaction_types=["foo"])) == {
        "transaction_types": "Unknown transaction type: foo."
    }
    assert errors_of(FlowInput, flow(transaction_types=["payout", "payout"])) == {
        "transaction_types": "Transaction type listed more than once: payout."
    }


@pytest.mark.parametrize(
    "value",
    [
        "ME-1234-1234-1234-1234-1234-1234",
        "CO-1234",
        "42",
        "co-1234-1234-1234-1234-1234-1234",
    ],
)
def test_default_connection_must_be_a_connection_id(value: str) -> None:
    """Refuse anything but a ``CO-`` public id, with code 1003."""
    exc = refuse(FlowInput, flow(default_connection_id=value))
    assert field_errors(exc) == {
        "default_connection_id": (
            "Default connection must be a connection id like CO-1234-1234-1234-1234-1234-1234."
        )
    }
    assert error_code(exc) == 1003


def test_default_connection_is_required() -> None:
    """Report a missing default connection with code 1005."""
    data = flow()
    del data["default_connection_id"]
    exc = refuse(FlowInput, data)
    assert field_errors(exc) == {"default_connection_id": "Default connection is required."}
    assert error_code(exc) == 1005


def test_flow_name_bounds() -> None:
    """Accept 1 and 100 characters; refuse blank and 101."""
    FlowInput.model_validate(flow(name="x"))
    FlowInput.model_validate(flow(name="x" * 100))
    assert errors_of(FlowInput, flow(name="")) == {"name": "Name is required."}
    assert errors_of(FlowInput, flow(name="x" * 101)) == {
        "name": "Name must be at most 100 characters."
    }


# Integration and customer


def test_integration_fields_are_stripped_and_bounded() -> None:
    """Accept trimmed names up to 100 characters and refuse blanks and 101."""
    result = IntegrationInput.model_validate({"name": " Acme - Visa ", "network": " Visa "})
    assert (result.name, result.network) == ("Acme - Visa", "Visa")
    IntegrationInput.model_validate({"name": "x" * 100, "network": "y" * 100})
    assert errors_of(IntegrationInput, {"name": " ", "network": "y" * 101}) == {
        "name": "Name is required.",
        "network": "Network must be at most 100 characters.",
    }


def test_customer_name_bounds() -> None:
    """Accept 1 to 200 characters and refuse blank and 201."""
    assert CustomerInput.model_validate({"name": " A "}).name == "A"
    CustomerInput.model_validate({"name": "x" * 200})
    assert errors_of(CustomerInput, {"name": "x" * 201}) == {
        "name": "Name must be at most 200 characters."
    }
    assert errors_of(CustomerInput, {}) == {"name": "Name is required."}


# field_errors and error_code


def test_field_errors_gives_one_message_per_field() -> None:
    """Keep the first message when a field fails in several ways."""
    exc = refuse(
        ConnectionInput,
        connection(disabled_transaction_types=["foo", "bar"], name="ab"),
    )
    assert field_errors(exc) == {
        "name": "Name must be at least 3 characters.",
        "disabled_transaction_types": "Unknown transaction type: foo.",
    }


def test_field_errors_reports_non_object_input_as_non_field() -> None:
    """Put errors about the whole input under the non-field key."""
    with pytest.raises(ValidationError) as caught:
        CustomerInput.model_validate("not an object")
    assert field_errors(caught.value) == {NON_FIELD_KEY: "The submitted data is invalid."}
    assert error_code(caught.value) == 1001


def test_error_code_prefers_missing_over_other_problems() -> None:
    """Report missing parameters before malformed or out-of-range ones."""
    exc = refuse(
        ConnectionInput,
        {"name": "ab", "adapter": "Simulator", "business_country": "at", "extra": 1},
    )
    assert error_code(exc) == 1005


def test_error_code_prefers_format_over_range() -> None:
    """Report a malformed value before an out-of-range one."""
    exc = refuse(ConnectionInput, connection(name="ab", business_country="at"))
    assert error_code(exc) == 1003


def test_error_code_for_wrong_json_type_is_invalid_request() -> None:
    """Treat a value of the wrong JSON type as an invalid request (issue 10's table: 1001)."""
    assert code_of(ConnectionInput, connection(scheduler_enabled=[1])) == 1001
    assert code_of(ConnectionInput, connection(terminals="ID-0001")) == 1001


# Shared secret generation


def test_generate_shared_secret_is_30_base62_characters() -> None:
    """Produce a secret shaped like the seed example."""
    secret = generate_shared_secret()
    assert SHARED_SECRET_LENGTH == 30
    assert len(secret) == 30
    assert set(secret) <= set(string.ascii_letters + string.digits)


def test_generated_shared_secrets_differ_and_validate() -> None:
    """Draw fresh randomness and fit the shared secret limit."""
    secrets_ = {generate_shared_secret() for _ in range(100)}
    assert len(secrets_) == 100
    for secret in secrets_:
        ConnectionInput.model_validate(connection(shared_secret=secret))
