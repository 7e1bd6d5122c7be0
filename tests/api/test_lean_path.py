"""The JSON APIs and webhooks skip what pages need: no session, no templates, one round trip.

Their requests authenticate themselves (API key or signature), so the session cookie is
neither read nor written, and the per-key rate limit costs one storage round trip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from flask import Flask, request

from portal.web.security import NoSession
from tests.support.apps import TEST_REDIS_URL, fresh_app
from tests.support.provisioning import api_key


def api_answers(app: Flask, client) -> list:
    """Return answers of every machine blueprint: success, refusals and errors."""
    auth = {"Authorization": f"Bearer {api_key(app)}"}
    return [
        client.get("/api/v1/me", headers=auth),
        client.get("/api/v1/me"),
        client.get("/api/v1/nowhere", headers=auth),
        client.get("/api/provisioning/getConnectorSettings/Simulator", headers=auth),
        client.post("/api/provisioning/createMerchant", json={}, headers=auth),
        client.post("/api/flexcharge/webhooks/ME-0000-0000", data=b"{}"),
    ]


def test_api_answers_set_no_cookie_and_do_not_vary_on_it(app: Flask, client, login) -> None:
    login("admin")  # the client holds a signed-in session cookie, and sends it along
    answers = api_answers(app, client)
    assert [answer.status_code for answer in answers] == [200, 401, 404, 200, 422, 401]
    for answer in answers:
        assert "Set-Cookie" not in answer.headers
        assert "Cookie" not in answer.headers.get("Vary", "")
    # Pages still use the session: their answers depend on the cookie.
    assert "Cookie" in client.get("/").headers["Vary"]


def test_an_api_request_gets_a_session_that_cannot_be_written(app: Flask) -> None:
    with app.test_request_context("/api/v1/me", headers={"Cookie": "portal_session=forged"}):
        session = app.session_interface.open_session(app, request)
        assert isinstance(session, NoSession) and dict(session) == {}
        with pytest.raises(RuntimeError, match="API requests have no session"):
            session["_user_id"] = "1"
    with app.test_request_context("/"):
        assert not isinstance(app.session_interface.open_session(app, request), NoSession)


def test_every_route_under_api_authenticates_itself(app: Flask) -> None:
    """Nothing under /api/ may need the session it no longer gets."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert {rule.endpoint.split(".")[0] for rule in rules} == {
        "api",
        "provisioning",
        "flexcharge_webhooks",
    }
    for rule in rules:
        assert getattr(app.view_functions[rule.endpoint], "handles_own_auth", False), rule.rule


def test_api_answers_render_no_template(app: Flask, client) -> None:
    rendered = []
    app.context_processor(lambda: rendered.append(request.path) or {})
    api_answers(app, client)
    assert rendered == []


class CountingConnection(redis.Connection):
    """A Redis connection that counts what it sends: one send is one round trip."""

    round_trips = 0

    def send_packed_command(self, command, check_health=True):
        """Count, then send."""
        type(self).round_trips += 1
        return super().send_packed_command(command, check_health)


@pytest.fixture
def counted_app(database_url: str) -> Iterator[Flask]:
    """Return an app whose rate-limit storage connections count their round trips."""
    yield from fresh_app(
        database_url, RATELIMIT_STORAGE_OPTIONS={"connection_class": CountingConnection}
    )


@pytest.mark.services
@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis (TEST_REDIS_URL)")
def test_an_api_request_costs_one_redis_round_trip(counted_app: Flask) -> None:
    client = counted_app.test_client()
    auth = {"Authorization": f"Bearer {api_key(counted_app)}"}
    # The first requests connect, load the limit's script and verify the key.
    for _ in range(3):
        assert client.get("/api/v1/me", headers=auth).status_code == 200
    before = CountingConnection.round_trips
    for _ in range(10):
        assert client.get("/api/v1/me", headers=auth).status_code == 200
    assert CountingConnection.round_trips - before == 10
