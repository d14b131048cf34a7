"""Persistence for findings. Rows change only through ``findings.actions``."""

from __future__ import annotations

__all__: list[str] = []
