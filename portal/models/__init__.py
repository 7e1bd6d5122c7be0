"""Models, one module per aggregate; importing this package registers them all."""

from portal.models.api_key import ApiKey
from portal.models.audit import AuditEvent
from portal.models.auto_retry import AutoRetry, AutoRetryStatus
from portal.models.base import Base
from portal.models.company import DEFAULT_COMPANY_NAME, Company
from portal.models.environment import Environment
from portal.models.external_integration import ENCRYPTED, ExternalIntegration
from portal.models.settings import SETTINGS_ID, AccountSettings
from portal.models.user import Role, User, UserSession

__all__ = [
    "DEFAULT_COMPANY_NAME",
    "ENCRYPTED",
    "SETTINGS_ID",
    "AccountSettings",
    "ApiKey",
    "AuditEvent",
    "AutoRetry",
    "AutoRetryStatus",
    "Base",
    "Company",
    "Environment",
    "ExternalIntegration",
    "Role",
    "User",
    "UserSession",
]
