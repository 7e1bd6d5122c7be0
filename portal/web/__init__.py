"""What every blueprint shares: htmx helpers, access decorators, forms, errors, headers."""
