"""Tests for outbound service clients."""
