"""Card numbers and CVVs never reach the database file, the job store or the logs (PCI DSS).

The bytes of the SQLite database (and its WAL), of Huey's SQLite job store and of every log
record are searched after declines that were evaluated, queued, refused and failed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal.extensions import db
from tests import factories
from tests.support.apps import TEST_DATABASE_URL
from tests.support.fake_flexcharge import FakeFlexCharge
from tests.support.flexcharge import (
    bearer,
    declined_body,
    fake_flexcharge,  # noqa: F401 (a fixture)
    flexcharge_app,
    onboard,
    run_jobs,
)

NUMBER = "4111111111111111"
OTHER_NUMBER = "5555555555554444"
CVV = "9713"

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="reads the bytes of the SQLite database file"
)


@pytest.fixture
def jobs_file(tmp_path: Path) -> Path:
    """Return where Huey's SQLite store goes for this test."""
    return tmp_path / "jobs.db"


@pytest.fixture
def app(database_url: str, fake: FakeFlexCharge, jobs_file: Path) -> Iterator[Flask]:
    """Return an app on the SQLite file, with Huey on a SQLite file too."""
    yield from flexcharge_app(database_url, fake, JOBS_STORE=f"sqlite:///{jobs_file}")


def encodings(text: str) -> list[bytes]:
    """Return the ways a digit string could sit in a file."""
    return [text.encode(), text.encode("utf-16-le"), text.encode("utf-16-be")]


def test_no_card_number_or_cvv_in_the_database_the_job_store_or_the_logs(
    app: Flask, client, fake: FakeFlexCharge, jobs_file: Path, database_url: str, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        merchant = onboard().public_id
        key = bearer(factories.make_api_key("CRM", "sandbox").plaintext)
    url = "/api/v1/transactions"

    def decline(**overrides):
        body = declined_body(merchant, **overrides)
        body["card"]["cvv"] = CVV
        return client.post(url, json=body, headers=key)

    assert decline().status_code == 201  # tokenized, then evaluated
    fake.slow("/evaluate", 3)
    assert decline().status_code == 201  # evaluate queued with the token
    fake.slow("/evaluate", 0)
    fake.fail("/tokenize", 500)
    assert decline().status_code == 201  # tokenize failed: nothing may be queued with the card
    fake.fail("/transmit", 400)
    assert decline(number=OTHER_NUMBER).status_code == 201
    luhn = declined_body(merchant, number="4111111111111112")
    assert client.post(url, json=luhn, headers=key).status_code == 422
    approved_with_number = declined_body(merchant, transaction={"status": "approved"})
    assert client.post(url, json=approved_with_number, headers=key).status_code == 422
    run_jobs(app)
    # Four cards went to /tokenize (one refused with 500); three evaluations, one retried.
    assert [call.status for call in fake.calls("/tokenize")] == [200, 200, 500, 200]
    assert len(fake.calls("/evaluate")) == 4

    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # close connections so the WAL's content is on disk to read
    database_path = Path(database_url.removeprefix("sqlite:///"))
    files = [database_path, *database_path.parent.glob(database_path.name + "-*")]
    files += [jobs_file, *jobs_file.parent.glob(jobs_file.name + "-*")]
    assert jobs_file.exists() and database_path.exists()
    for path in files:
        content = path.read_bytes()
        for secret in (*encodings(NUMBER), *encodings(OTHER_NUMBER)):
            assert secret not in content, path
        assert b"verification_value" not in content and b'"cvv"' not in content, path
    assert CVV.encode() not in jobs_file.read_bytes()
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    tokenization_key = fake.calls("/tokenize")[0].query["environment"][0]
    for secret in (NUMBER, OTHER_NUMBER, "4111111111111112", tokenization_key):
        assert secret not in logged
    # Four digits also turn up inside timestamps, durations and hex request ids ("…1234.9713…"):
    # the CVV counts as logged where it stands as a value of its own.
    assert not re.search(rf"(?<![\w.]){CVV}(?![\w.])", logged)
