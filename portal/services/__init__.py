"""Business rules: plain functions taking an explicit actor; they own the commit."""
