"""Account Settings > Integrations > API keys: generate (shown once), list and delete."""
