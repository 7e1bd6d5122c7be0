"""audit blueprint."""
