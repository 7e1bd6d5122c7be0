"""FlexCharge's webhooks, authenticated by their HMAC signature (no session, no API key)."""
