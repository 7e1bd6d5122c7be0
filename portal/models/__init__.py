"""Models, one module per aggregate; importing this package registers them all."""

from portal.models.api_key import ApiKey
from portal.models.audit import CHAIN_HEAD_ID, GENESIS_HASH, AuditChainHead, AuditEvent
from portal.models.auto_retry import AutoRetry, AutoRetryStatus
from portal.models.base import ENCRYPTED, Base
from portal.models.company import DEFAULT_COMPANY_NAME, Company
from portal.models.connect import Connection, Customer, Flow, Integration, IntegrationType
from portal.models.environment import Environment
from portal.models.external_integration import ExternalIntegration
from portal.models.settings import SETTINGS_ID, AccountSettings
from portal.models.user import Role, User, UserSession

__all__ = [
    "CHAIN_HEAD_ID",
    "DEFAULT_COMPANY_NAME",
    "ENCRYPTED",
    "GENESIS_HASH",
    "SETTINGS_ID",
    "AccountSettings",
    "ApiKey",
    "AuditChainHead",
    "AuditEvent",
    "AutoRetry",
    "AutoRetryStatus",
    "Base",
    "Company",
    "Connection",
    "Customer",
    "Environment",
    "ExternalIntegration",
    "Flow",
    "Integration",
    "IntegrationType",
    "Role",
    "User",
    "UserSession",
]
