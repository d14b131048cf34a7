"""Reconciliation of imported access logs against documented searches."""
