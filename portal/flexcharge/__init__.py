"""FlexCharge under Connect: the report of transactions, and retrying failed deliveries."""
