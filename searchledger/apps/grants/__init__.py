"""Access grants: who may search which external system, and why."""
