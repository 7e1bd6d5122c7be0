"""settings blueprint: the account settings page."""
