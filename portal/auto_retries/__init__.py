"""Account Settings > Integrations > FlexPay Retries: one auto-retry per company and environment."""
