"""JSON APIs: API-key authentication, JSON errors only, never the session cookie."""
