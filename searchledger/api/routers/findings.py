"""Finding endpoints (read-only), for integrations that follow findings up: ``GET
/api/findings`` lists the findings the caller may see (supervisors: their own and their
scope's; auditors, oversight and administrators: all), soonest due first, filtered like the
finding list. The summary is included; the detail (external account ids, file hashes) is
left to the finding's page. ``400`` names a filter that is not valid."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from searchledger.api.auth import allow
from searchledger.api.checks import check_choice, check_page
from searchledger.api.schemas import answers
from searchledger.apps.findings import selectors
from searchledger.apps.web.permissions import actor_from_request
from searchledger.core.reviews import FindingStatus, Severity
from searchledger.core.roles import Permission

__all__ = ["router"]

router = Router(tags=["findings"])

_LIMIT_MAX = 500


class FindingOut(Schema):
    """One finding, without its detail."""

    id: int
    source: str = Field(description="review or reconciliation.")
    kind: str = Field(description="What was found, e.g. undocumented_search.")
    severity: str = Field(description="low, medium, high or critical.")
    status: str = Field(description="open, remediation_recorded or closed.")
    summary: str
    subject_id: int | None = Field(description="The account the finding is about, if known.")
    system: str | None = Field(description="The external system's code, if any.")
    search_id: int | None
    owner_id: int | None = Field(description="Who works it; null: the auditors' queue.")
    due: date
    raised_at: datetime
    resolution: str = Field(description="How it was closed; empty while not closed.")
    escalated_at: datetime | None


class FindingQuery(Schema):
    """Filters: every one optional."""

    status: str = Field("", description="open, remediation_recorded, closed or active.")
    severity: str = ""
    kind: str = ""
    system: str = Field("", description="A system's code.")
    overdue: bool = False
    limit: int = 100
    offset: int = 0


@router.get(
    "/findings",
    response=answers({200: list[FindingOut]}, 400, 422),
    auth=allow(Permission.VIEW_FINDINGS),
)
def list_findings(request: HttpRequest, query: Query[FindingQuery]) -> list[FindingOut]:
    """The findings you may see, soonest due first, filtered."""
    check_choice("status", query.status, [*(s.value for s in FindingStatus), "active"])
    check_choice("severity", query.severity, [s.value for s in Severity])
    check_page(query.limit, query.offset, _LIMIT_MAX)
    found = selectors.list_findings(
        actor_from_request(request),
        selectors.FindingFilters(
            status=query.status,
            severity=query.severity,
            kind=query.kind,
            system_code=query.system,
            overdue=query.overdue,
        ),
    )[query.offset : query.offset + query.limit]
    return [
        FindingOut(
            id=f.pk,
            source=f.source,
            kind=f.kind,
            severity=f.severity,
            status=f.status,
            summary=f.summary,
            subject_id=f.subject_id,
            system=f.system.code if f.system else None,
            search_id=f.search_id,
            owner_id=f.owner_id,
            due=f.due,
            raised_at=f.raised_at,
            resolution=f.resolution,
            escalated_at=f.escalated_at,
        )
        for f in found
    ]
