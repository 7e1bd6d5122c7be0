"""integrations blueprint."""
