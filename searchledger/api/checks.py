"""Checks of list endpoints' query parameters, each refusal a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Sequence

from ninja.errors import HttpError

__all__ = ["OFFSET_MAX", "check_choice", "check_page"]


def check_choice(name: str, value: str | None, choices: Sequence[str]) -> None:
    """Refuse ``value`` unless it is empty or one of ``choices``."""
    if value and value not in choices:
        raise HttpError(400, f"{name}: unknown value {value!r}; one of {', '.join(choices)}")


OFFSET_MAX = 2**31 - 1
"""The largest offset a list accepts. Larger ones cannot address a row anyway, and one past
2**63 reached the database as a number it refused (a server error: SQLite's "datatype
mismatch", PostgreSQL's "bigint out of range"), found by schemathesis."""


def check_page(limit: int, offset: int, most: int) -> None:
    """Refuse a page size outside 1..``most`` or an offset outside 0..:data:`OFFSET_MAX`."""
    if not 1 <= limit <= most:
        raise HttpError(400, f"limit: between 1 and {most}")
    if offset < 0:
        raise HttpError(400, "offset: not negative")
    if offset > OFFSET_MAX:
        raise HttpError(400, f"offset: at most {OFFSET_MAX:,}")
