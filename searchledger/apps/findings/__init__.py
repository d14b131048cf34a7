"""Findings from supervisory reviews and reconciliation: severity, owner, due date,
remediation and closure."""
