"""Models, one module per aggregate; importing this package registers them all."""

from portal.models.audit import AuditEvent
from portal.models.base import Base
from portal.models.company import DEFAULT_COMPANY_NAME, Company
from portal.models.external_integration import ENCRYPTED, ExternalIntegration
from portal.models.settings import SETTINGS_ID, AccountSettings
from portal.models.user import Role, User, UserSession

__all__ = [
    "DEFAULT_COMPANY_NAME",
    "ENCRYPTED",
    "SETTINGS_ID",
    "AccountSettings",
    "AuditEvent",
    "Base",
    "Company",
    "ExternalIntegration",
    "Role",
    "User",
    "UserSession",
]
