"""Register every Connect view on the blueprint the app factory mounts."""

from __future__ import annotations

from portal.connect import bp

# Importing the view modules runs their @bp decorators. Kept in the original order (customers,
# integrations, connections, flows) so the URL map is registered exactly as before.
# isort: off
from portal.connect import customer_views  # noqa: F401
from portal.connect import integration_views  # noqa: F401
from portal.connect import connection_views  # noqa: F401
from portal.connect import flow_views  # noqa: F401
from portal.connect import flexcharge_views  # noqa: F401

# isort: on

__all__ = ["bp"]
