"""users blueprint."""
