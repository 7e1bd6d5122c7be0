"""FlexPay Retries: auto-retry rules, at most one per company and environment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import AutoRetry, AutoRetryStatus, Environment
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput, NotFound
from portal.services.validation import check_environment, clean_name, company_from_list


class DuplicateAutoRetry(Conflict):
    """The company already has an auto-retry in that environment."""


def check_status(value: str | None, field: str = "status") -> AutoRetryStatus:
    """Return the status, or refuse anything but Active and Inactive."""
    try:
        return AutoRetryStatus(value)
    except ValueError:
        raise InvalidInput("Choose Active or Inactive.", field=field) from None


def list_auto_retries() -> list[AutoRetry]:
    """Return every auto-retry, oldest first."""
    return list(db.session.scalars(select(AutoRetry).order_by(AutoRetry.id)))


def get_auto_retry(auto_retry_id: int) -> AutoRetry:
    """Return the auto-retry or raise NotFound."""
    rule = db.session.get(AutoRetry, auto_retry_id)
    if rule is None:
        raise NotFound("That auto-retry does not exist.")
    return rule


def add_auto_retry(
    actor: Actor,
    name: str,
    company_id: int | str | None,
    environment: str | None,
    status: str | None,
) -> AutoRetry:
    """Add an auto-retry; the schema refuses a second one for the same company and environment."""
    name = clean_name(name)
    company = company_from_list(company_id)
    env = check_environment(environment)
    state = check_status(status)
    company_id, company_name = company.id, company.name
    rule = AutoRetry(name=name, company_id=company_id, environment=env.value, status=state.value)
    db.session.add(rule)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _duplicate(company_id, company_name, env) from None
    audit.record(
        actor,
        "auto_retry.add",
        rule,
        changes={
            "name": name,
            "company": company_name,
            "environment": env.value,
            "status": state.value,
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


def update_auto_retry(actor: Actor, rule: AutoRetry, name: str, status: str | None) -> AutoRetry:
    """Rename the rule and switch it on or off."""
    name = clean_name(name)
    state = check_status(status)
    changes = audit.diff(
        {"name": rule.name, "status": rule.status}, {"name": name, "status": state.value}
    )
    if not changes:
        return rule
    rule.name = name
    rule.status = state.value
    audit.record(actor, "auto_retry.update", rule, changes=changes)
    db.session.commit()
    return rule


def delete_auto_retry(actor: Actor, rule: AutoRetry) -> None:
    """Delete the rule; the scheduler stops retrying for that company and environment."""
    audit.record(
        actor,
        "auto_retry.delete",
        rule,
        changes={"company": rule.company.name, "environment": rule.environment},
    )
    db.session.delete(rule)
    db.session.commit()
