"""Oversight recommendations: the pure rules of the register.

An oversight body (a civil-rights office, an inspector general) issues a memorandum with
numbered recommendations and asks for the agency's response within a period (the CRCL memo
of 30 September 2022 asked for one within 120 days). For each recommendation the agency
concurs, partially concurs or does not concur, with its reasons; where it concurs it sets
out an action plan of milestones, each with an owner and a due date. The recommendation is
*open, unresolved* until the oversight body accepts a plan, *open, resolved* while the plan
is carried out, and *closed* once the body closes it (implemented or not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum, unique

__all__ = [
    "DEFAULT_RESPONSE_DAYS",
    "Closure",
    "RecommendationStatus",
    "Response",
    "ResponseFacts",
    "response_due",
    "response_errors",
]

DEFAULT_RESPONSE_DAYS = 120
MAX_RESPONSE_DAYS = 3650


@unique
class Response(StrEnum):
    """The agency's answer to one recommendation."""

    PENDING = "pending"
    CONCUR = "concur"
    PARTIALLY_CONCUR = "partially_concur"
    NON_CONCUR = "non_concur"


@unique
class RecommendationStatus(StrEnum):
    """Where a recommendation stands, in the words oversight bodies use."""

    OPEN_UNRESOLVED = "open_unresolved"
    OPEN_RESOLVED = "open_resolved"
    CLOSED = "closed"


@unique
class Closure(StrEnum):
    """How a closed recommendation ended."""

    IMPLEMENTED = "implemented"
    NOT_IMPLEMENTED = "not_implemented"
    SUPERSEDED = "superseded"


def response_due(issued_on: date, days: int) -> date:
    """The date the agency's response is due: ``days`` calendar days after issue."""
    if not 1 <= days <= MAX_RESPONSE_DAYS:
        raise ValueError(f"a response period of {days} days is not between 1 and 3650")
    return issued_on + timedelta(days=days)


@dataclass(frozen=True)
class ResponseFacts:
    """A proposed response to a recommendation."""

    response: Response
    reasons: str
    responded_on: date
    issued_on: date


def response_errors(facts: ResponseFacts) -> dict[str, str]:
    """Why a response cannot be recorded, by field (empty when it can)."""
    errors: dict[str, str] = {}
    if facts.response is Response.PENDING:
        errors["response"] = "record concur, partially concur or non-concur"
    if facts.response in {Response.NON_CONCUR, Response.PARTIALLY_CONCUR} and not (
        facts.reasons.strip()
    ):
        errors["reasons"] = "a non-concurrence (full or partial) must give its reasons"
    if facts.responded_on < facts.issued_on:
        errors["responded_on"] = "the response cannot predate the memorandum"
    return errors
