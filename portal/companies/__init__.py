"""companies blueprint."""
