"""Persistence for reconciliation. Rows change only through ``reconciliation.actions``."""

from __future__ import annotations

__all__: list[str] = []
