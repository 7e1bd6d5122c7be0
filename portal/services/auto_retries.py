"""FlexPay Retries: auto-retry rules, at most one per company and environment."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AutoRetry, Company, Environment
from portal.schemas.auto_retries import AutoRetryChange, AutoRetryInput
from portal.services import audit
from portal.services.actor import Actor
from portal.services.companies import company_from_list, list_companies
from portal.services.errors import Conflict
from portal.services.persistence import add_audited, delete_audited, get_or_not_found


class DuplicateAutoRetry(Conflict):
    """The company already has an auto-retry in that environment."""


def list_auto_retries() -> list[AutoRetry]:
    """Return every auto-retry, oldest first."""
    return list(db.session.scalars(select(AutoRetry).order_by(AutoRetry.id)))


#: Why "Add auto-retries" is offered no more: every pair already has its rule.
ALL_TAKEN = (
    "Every company already has an auto-retry for Production and for Sandbox: "
    "FlexPay Retries can be enabled once per company and environment."
)


def free_pairs() -> list[tuple[Company, Environment]]:
    """Return the (company, environment) pairs that have no auto-retry yet."""
    taken = {
        tuple(row)
        for row in db.session.execute(select(AutoRetry.company_id, AutoRetry.environment))
    }
    return [
        (company, env)
        for company in list_companies()
        for env in Environment
        if (company.id, env.value) not in taken
    ]


def all_taken() -> bool:
    """Tell whether every company has an auto-retry in every environment."""
    return not free_pairs()


def get_auto_retry(auto_retry_id: int) -> AutoRetry:
    """Return the auto-retry or raise NotFound."""
    return get_or_not_found(AutoRetry, auto_retry_id, "That auto-retry does not exist.")


def add_auto_retry(actor: Actor, data: AutoRetryInput) -> AutoRetry:
    """Add an auto-retry; the schema refuses a second one for the same company and environment."""
    company = company_from_list(data.company_id)
    env = Environment(data.environment)
    company_id, company_name = company.id, company.name
    rule = AutoRetry(
        name=data.name, company_id=company_id, environment=env.value, status=data.status
    )
    add_audited(
        actor,
        rule,
        "auto_retry.add",
        lambda: _duplicate(company_id, company_name, env),
        changes={
            "name": data.name,
            "company": company_name,
            "environment": env.value,
            "status": data.status,
        },
    )
    db.session.commit()
    return rule


def _duplicate(company_id: int, company_name: str, env: Environment) -> DuplicateAutoRetry:
    """Explain the refused insert by naming the rule that already holds the pair."""
    existing = db.session.scalar(
        select(AutoRetry).where(
            AutoRetry.company_id == company_id, AutoRetry.environment == env.value
        )
    )
    holder = f"“{existing.name}”" if existing else "another auto-retry"
    return DuplicateAutoRetry(
        f"{company_name} already has an auto-retry for {env.label}: {holder}. "
        "FlexPay Retries can be enabled once per company and environment.",
        field="environment",
    )


def update_auto_retry(actor: Actor, rule: AutoRetry, data: AutoRetryChange) -> AutoRetry:
    """Rename the rule and switch it on or off."""
    changes = audit.diff(
        {"name": rule.name, "status": rule.status}, {"name": data.name, "status": data.status}
    )
    if not changes:
        return rule
    rule.name = data.name
    rule.status = data.status
    audit.record(actor, "auto_retry.update", rule, changes=changes)
    db.session.commit()
    return rule


def delete_auto_retry(actor: Actor, rule: AutoRetry) -> None:
    """Delete the rule; the scheduler stops retrying for that company and environment."""
    changes = {"company": rule.company.name, "environment": rule.environment}
    gone = "That auto-retry was deleted meanwhile."
    delete_audited(actor, rule, "auto_retry.delete", gone, changes=changes)
    db.session.commit()
