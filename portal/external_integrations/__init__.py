"""external integrations blueprint."""
