"""FlexPay Retries: one auto-retry per company and environment, enforced by the schema."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from pydantic import ValidationError
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, AutoRetry, Company
from portal.schemas.auto_retries import AutoRetryChange, AutoRetryInput
from portal.services import auto_retries, companies
from portal.services.actor import Actor
from portal.services.auto_retries import DuplicateAutoRetry
from portal.services.errors import Conflict
from tests import factories
from tests.support.refusals import refused_fields

ACTOR = Actor.system("test")


def count_rules() -> int:
    """Return how many auto-retries exist."""
    return db.session.scalar(select(func.count()).select_from(AutoRetry)) or 0


@pytest.mark.services
@pytest.mark.usefixtures("app_context")
def test_default_company_gets_one_rule_per_environment_and_the_third_is_refused() -> None:
    factories.make_auto_retry("Prod retries", environment="production")
    factories.make_auto_retry("Sandbox retries", environment="sandbox", status="inactive")
    with pytest.raises(DuplicateAutoRetry) as raised:
        factories.make_auto_retry("Again", environment="production")
    assert raised.value.message == (
        "Default Company already has an auto-retry for Production: “Prod retries”. "
        "FlexPay Retries can be enabled once per company and environment."
    )
    assert raised.value.field == "environment"
    assert count_rules() == 2


@pytest.mark.usefixtures("app_context")
def test_another_company_has_its_own_pair() -> None:
    factories.make_auto_retry(environment="production")
    acme = factories.make_company("Acme")
    factories.make_auto_retry(environment="production", company=acme)
    assert count_rules() == 2


@pytest.mark.usefixtures("app_context")
def test_add_audits_the_rule() -> None:
    rule = factories.make_auto_retry("Prod retries", status="inactive")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_retry.add"))
    assert event.object_id == str(rule.id)
    assert event.changes == {
        "name": "Prod retries",
        "company": "Default Company",
        "environment": "production",
        "status": "inactive",
    }


@pytest.mark.parametrize(
    ("name", "company_id", "environment", "status", "field"),
    [
        ("", None, "production", "active", "name"),
        ("y" * 101, None, "production", "active", "name"),
        ("Retries", 424_242, "production", "active", "company_id"),
        ("Retries", None, "live", "active", "environment"),
        ("Retries", None, "production", "paused", "status"),
    ],
)
@pytest.mark.usefixtures("app_context")
def test_bad_input_is_refused_and_nothing_is_saved(
    name, company_id, environment, status, field
) -> None:
    company = factories.default_company()
    data = {
        "name": name,
        "company_id": company.id if company_id is None else company_id,
        "environment": environment,
        "status": status,
    }
    refused = refused_fields(lambda: auto_retries.add_auto_retry(ACTOR, AutoRetryInput(**data)))
    assert refused == {field}
    assert count_rules() == 0


@pytest.mark.usefixtures("app_context")
def test_update_changes_name_and_status_and_audits_the_difference() -> None:
    rule = factories.make_auto_retry("Prod retries")
    change = AutoRetryChange(name="Live retries", status="inactive")
    auto_retries.update_auto_retry(ACTOR, rule, change)
    assert (rule.name, rule.status) == ("Live retries", "inactive")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_retry.update"))
    assert event.changes == {
        "name": ["Prod retries", "Live retries"],
        "status": ["active", "inactive"],
    }
    with pytest.raises(ValidationError):
        AutoRetryChange(name=" ", status="active")
    db.session.refresh(rule)
    assert rule.name == "Live retries"


@pytest.mark.usefixtures("app_context")
def test_delete_audits_and_frees_the_pair() -> None:
    rule = factories.make_auto_retry("Prod retries")
    auto_retries.delete_auto_retry(ACTOR, rule)
    assert count_rules() == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_retry.delete"))
    factories.make_auto_retry("Prod retries again")
    assert count_rules() == 1


@pytest.mark.services
@pytest.mark.usefixtures("app_context")
def test_a_company_with_an_auto_retry_cannot_be_deleted() -> None:
    acme = factories.make_company("Acme")
    factories.make_auto_retry(company=acme)
    with pytest.raises(Conflict, match="in use"):
        companies.delete_company(ACTOR, acme)
    assert db.session.scalar(select(Company).where(Company.name == "Acme")) is not None


@pytest.mark.services
def test_concurrent_adds_for_the_same_pair_give_exactly_one_rule(app: Flask) -> None:
    with app.app_context():
        company_id = factories.default_company().id
    workers = 4
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def add(number: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                data = AutoRetryInput(
                    name=f"Retries {number}",
                    company_id=company_id,
                    environment="production",
                    status="active",
                )
                auto_retries.add_auto_retry(ACTOR, data)
                outcome = "added"
            except DuplicateAutoRetry:
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added"] + ["refused"] * (workers - 1)
    with app.app_context():
        assert count_rules() == 1


def test_free_pairs_shrink_until_every_company_has_both_environments(app_context) -> None:
    factories.setup_account()
    assert not auto_retries.all_taken()
    factories.make_auto_retry("Live", "production")
    assert [(c.name, env.value) for c, env in auto_retries.free_pairs()] == [
        ("Default Company", "sandbox")
    ]
    factories.make_auto_retry("Test", "sandbox")
    assert auto_retries.all_taken()
    factories.make_company("Europe")
    assert not auto_retries.all_taken()
