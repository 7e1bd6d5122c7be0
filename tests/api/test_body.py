"""Reading JSON bodies: seed 002's codes, one problem per field, pointers in camelCase."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.api.body import pointer, read_json
from portal.api.errors import ApiError
from portal.schemas.connect import ConnectionInput


def refused(app: Flask, body: bytes | str) -> ApiError:
    """Read a body that must be refused; return the refusal."""
    context = app.test_request_context(data=body, content_type="application/json")
    with context, pytest.raises(ApiError) as raised:
        read_json(ConnectionInput)
    return raised.value


def test_a_body_that_is_not_json_or_not_an_object_is_1001(app: Flask) -> None:
    for body in (b"{nope", b"[1, 2]", b'"text"', b"\xff\xfe"):
        error = refused(app, body)
        assert (error.status, error.code) == (422, 1001), body


def test_every_problem_is_listed_with_its_pointer_and_the_most_fundamental_code_wins(
    app: Flask,
) -> None:
    error = refused(
        app,
        '{"name": "ab", "adapter": "Simulator", "businessCountry": "at",'
        ' "config": {"language": "DEU"}}',
    )
    assert error.code == 1005  # "method" is missing: reported before formats and ranges
    problems = {problem.pointer: problem.code for problem in error.problems}
    assert problems == {
        "/name": 1003,
        "/method": 1005,
        "/businessCountry": 1003,
        "/config/language": 1003,
    }
    assert error.message.startswith("method: ")


def test_an_unknown_field_is_1006_and_names_the_right_spelling(app: Flask) -> None:
    error = refused(app, '{"name": "Sim", "Adapter": "Simulator", "method": "Card", "APIKey": "k"}')
    by_pointer = {problem.pointer: problem for problem in error.problems}
    assert by_pointer["/APIKey"].code == 1006
    assert "did you mean “apiKey”" in by_pointer["/APIKey"].message
    assert "did you mean “adapter”" in by_pointer["/Adapter"].message


def test_control_characters_are_1004(app: Flask) -> None:
    error = refused(app, '{"name": "Sim\\u0000", "adapter": "S", "method": "M"}')
    assert (error.code, error.problems[0].pointer) == (1004, "/name")


def test_pointers_escape_free_map_keys() -> None:
    assert pointer(("settings", "tx:a/b~c")) == "/settings/tx:a~1b~0c"
    assert pointer(("terminals", 1, "terminal_id")) == "/terminals/1/terminalId"
    assert pointer(()) == ""
