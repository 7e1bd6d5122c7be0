"""Clients for outbound calls to third-party services."""
