"""API-key authentication: one 401 for every refusal, Bearer and Basic, never the cookie."""

from __future__ import annotations

import base64
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.config import Config
from gunicorn.glogging import Logger

from portal.core import api_key_tokens as tokens
from portal.services import api_keys
from portal.services.actor import Actor
from portal.web.access import is_public
from portal.web.registry import api_key_authenticator as authenticator
from tests import factories

ME = "/api/v1/me"


def bearer(key: str) -> dict[str, str]:
    """Return the Authorization header that carries the key as a bearer token."""
    return {"Authorization": f"Bearer {key}"}


def basic(username: str, password: str = "") -> dict[str, str]:
    """Return the Authorization header of HTTP Basic with the key as user name."""
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def with_checksum(body: str) -> str:
    """Return a key body completed with its valid checksum."""
    return body + tokens._checksum(body)


@pytest.fixture
def key(app: Flask) -> str:
    """Return the plaintext of a Sandbox key of "Default Company"."""
    with app.app_context():
        return factories.make_api_key("CRM", environment="sandbox").plaintext


def delete_key(app: Flask, plaintext: str) -> None:
    """Delete the key through the service, as the Delete button does."""
    with app.app_context():
        key_id = tokens.parse(plaintext).key_id
        row = next(k for k in api_keys.list_api_keys() if k.key_id == key_id)
        api_keys.delete_api_key(Actor.system("test"), row)


def refusals(app: Flask, key: str) -> dict[str, dict[str, str]]:
    """Return one request header set per reason a key is refused."""
    secret_start = len("ptl_test_") + tokens.KEY_ID_LENGTH + 1
    swapped = key[secret_start] + ("a" if key[secret_start + 1] != "a" else "b")
    wrong_secret = with_checksum(key[:secret_start] + swapped + key[secret_start + 2 : -6])
    bad_checksum = key[:-1] + ("0" if key[-1] != "0" else "1")
    with app.app_context():
        deleted = factories.make_api_key("Gone").plaintext
    delete_key(app, deleted)
    return {
        "missing": {},
        "empty bearer": {"Authorization": "Bearer "},
        "other scheme": {"Authorization": f"Token {key}"},
        "malformed": bearer("not-a-key"),
        "truncated": bearer(key[:-3]),
        "bad checksum": bearer(bad_checksum),
        "unknown": bearer(tokens.generate("sandbox").plaintext),
        "wrong secret": bearer(wrong_secret),
        "deleted": bearer(deleted),
        "basic malformed": {"Authorization": "Basic !!!"},
        "basic wrong secret": basic(wrong_secret),
        "basic key as password": basic("", key),
    }


@pytest.mark.services
def test_every_refusal_gets_the_same_401_body_and_a_challenge(
    app: Flask, client: FlaskClient, key: str
) -> None:
    bodies = set()
    for reason, headers in refusals(app, key).items():
        response = client.get(ME, headers=headers)
        assert response.status_code == 401, reason
        assert response.mimetype == "application/json", reason
        assert response.headers.getlist("WWW-Authenticate") == [
            'Bearer realm="api"',
            'Basic realm="api", charset="UTF-8"',
        ]
        assert response.headers["Cache-Control"] == "no-store"
        bodies.add(response.get_data())
    assert bodies == {
        b'{"success":false,"errorCode":1000,"errorMessage":"A valid API key is required.",'
        b'"errors":[]}'
    }


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda key: bearer(key), id="bearer"),
        pytest.param(lambda key: basic(key), id="basic"),
        pytest.param(lambda key: basic(key, "ignored"), id="basic with a password"),
    ],
)
def test_bearer_and_basic_authenticate(client: FlaskClient, key: str, headers) -> None:
    response = client.get(ME, headers=headers(key))
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "CRM"
    assert body["company"]["name"] == "Default Company"
    assert body["environment"] == "sandbox"
    assert body["key_prefix"] == key[: len("ptl_test_") + tokens.KEY_ID_LENGTH]
    assert key not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("parameter", ["api_key", "key", "access_token", "token"])
def test_a_key_in_the_query_string_is_ignored(client: FlaskClient, key: str, parameter) -> None:
    response = client.get(ME, query_string={parameter: key})
    assert response.status_code == 401


def test_the_session_cookie_never_authenticates(client: FlaskClient, login, key: str) -> None:
    login("admin")
    assert client.get("/account/integrations/").status_code == 200
    response = client.get(ME)
    assert response.status_code == 401
    assert response.mimetype == "application/json"


@pytest.mark.services
def test_the_cache_does_not_hide_a_deletion(app: Flask, client: FlaskClient, key: str) -> None:
    assert client.get(ME, headers=bearer(key)).status_code == 200
    assert client.get(ME, headers=bearer(key)).status_code == 200
    with app.app_context():
        assert authenticator().verifications == 1
        assert len(authenticator().cache) == 1
    delete_key(app, key)
    assert client.get(ME, headers=bearer(key)).status_code == 401


@pytest.mark.services
def test_a_request_records_last_used(app: Flask, client: FlaskClient, key: str) -> None:
    client.get(ME, headers=bearer(key))
    with app.app_context():
        assert api_keys.list_api_keys()[0].last_used_at is not None


def test_api_errors_are_json(client: FlaskClient, key: str) -> None:
    missing = client.get("/api/v1/nothing-here", headers=bearer(key))
    assert missing.status_code == 404
    assert missing.get_json()["success"] is False
    assert missing.get_json()["errorCode"] == 1007
    wrong_method = client.post(ME, headers=bearer(key))
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["errorCode"] == 1001


def test_every_api_endpoint_authenticates_itself_and_refuses_anonymous_requests(
    app: Flask, client: FlaskClient
) -> None:
    api_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert api_rules
    for rule in api_rules:
        view = app.view_functions[rule.endpoint]
        # Protected for the deny-by-default walk: not public, and answers its own 401.
        assert not is_public(view), rule.endpoint
        assert getattr(view, "handles_own_auth", False), rule.endpoint
        url = rule.rule.replace("<int:", "<").replace("<", "").replace(">", "")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 401, (rule.endpoint, method)
            assert response.mimetype == "application/json"


def access_log_line(tmp_path, settings: dict, key: str) -> str:
    """Return the access-log line gunicorn writes, with `settings`, for a request with the key."""
    config = Config()
    for name, value in settings.items():
        if name in config.settings:
            config.set(name, value)
    log_file = tmp_path / "access.log"
    config.set("accesslog", str(log_file))
    logger = settings.get("logger_class", Logger)(config)
    authorization = basic(key)["Authorization"]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{ME}?api_key={key}",
        "PATH_INFO": ME,
        "QUERY_STRING": f"api_key={key}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": authorization,
        "HTTP_REFERER": f"https://portal.example/connect/?q=secret-search&token={key}",
    }
    response = SimpleNamespace(status="200 OK", sent=120, headers=[])
    request = SimpleNamespace(headers=[("AUTHORIZATION", authorization)])
    logger.access(response, request, environ, timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.close()
    return log_file.read_text()


def test_the_gunicorn_access_log_never_holds_a_key(tmp_path) -> None:
    """Basic sends the key as the user name, which gunicorn's default format (%(u)s) logs."""
    key = tokens.generate("production").plaintext
    default = tmp_path / "default"
    default.mkdir()
    # gunicorn's default format leaks it: the project's gunicorn.conf.py is what keeps it out.
    assert key in access_log_line(default, {}, key)
    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    line = access_log_line(tmp_path, settings, key)
    assert f"GET {ME} HTTP/1.1" in line
    assert key not in line
    assert '"https://portal.example/connect/"' in line and "secret-search" not in line
