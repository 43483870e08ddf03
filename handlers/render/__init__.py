"""Block Kit builders: pure functions from domain records to Slack JSON (no I/O, no clock)."""
