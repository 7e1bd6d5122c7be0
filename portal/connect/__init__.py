"""connect blueprint."""
