"""Persistence for external access logs. Rows change only through ``accesslogs.actions``."""

from __future__ import annotations

__all__: list[str] = []
