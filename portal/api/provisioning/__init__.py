"""The provisioning API (seed 002): merchants and connectors over JSON, scoped by the API key."""
