"""Supervisory review campaigns: a sample of a unit's searches for a period, reviewed
against a checklist."""
