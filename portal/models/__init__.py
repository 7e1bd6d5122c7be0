"""Models, one module per aggregate; importing this package registers them all."""

from portal.models.audit import AuditEvent
from portal.models.base import Base
from portal.models.company import DEFAULT_COMPANY_NAME, Company
from portal.models.connect import Connection, Customer, Flow, Integration, IntegrationType
from portal.models.settings import SETTINGS_ID, AccountSettings
from portal.models.user import Role, User, UserSession

__all__ = [
    "DEFAULT_COMPANY_NAME",
    "SETTINGS_ID",
    "AccountSettings",
    "AuditEvent",
    "Base",
    "Company",
    "Connection",
    "Customer",
    "Flow",
    "Integration",
    "IntegrationType",
    "Role",
    "User",
    "UserSession",
]
