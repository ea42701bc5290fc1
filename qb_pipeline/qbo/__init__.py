"""The QuickBooks Online client: plain Python, no Dagster."""
