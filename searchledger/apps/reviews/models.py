"""Persistence for supervisory review. Rows change only through ``reviews.actions``."""

from __future__ import annotations

__all__: list[str] = []
