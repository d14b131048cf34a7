"""The oversight part of the authorization matrix's world (web/tests/test_authorization.py):
a memorandum with a recommendation awaiting a response, one the agency concurred with and
one milestone of its plan, and a finding to link as evidence."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from searchledger.apps.findings.actions import FindingDraft, raise_finding
from searchledger.apps.oversight import actions
from searchledger.core.actor import Actor

__all__ = ["SAMPLE_OVERSIGHT_CONTEXT", "build_oversight_world"]

# For test_example_paths_resolve_to_their_pattern.
SAMPLE_OVERSIGHT_CONTEXT = {"memo": 31, "recommendation": 32, "concurred": 33, "milestone": 34}


def build_oversight_world(admin_actor: Actor, owner_id: int) -> dict[str, object]:
    """Build the register's world; return ``{memo}``, ``{recommendation}`` (awaiting a
    response), ``{concurred}`` (concurred with), ``{milestone}`` (of its plan, not done)
    and ``{finding}`` (an open finding, not linked)."""
    today = timezone.localdate()
    memo = actions.do_record_memo(
        body="DHS CRCL",
        reference="Complaint No. MATRIX-1",
        title="Use of facial recognition databases",
        issued_on=today - timedelta(days=30),
        recommendations=["Document every search.", "Audit searches periodically."],
        actor=admin_actor,
    )
    first, second = memo.recommendations.order_by("number")
    actions.do_respond_to_recommendation(
        second.pk, response="concur", reasons="", responded_on=today, actor=admin_actor
    )
    milestone = actions.do_add_milestone(
        second.pk,
        description="Issue the audit directive.",
        owner_id=owner_id,
        due_on=today + timedelta(days=60),
        actor=admin_actor,
    )
    with transaction.atomic():
        finding, _ = raise_finding(
            FindingDraft(
                source="review",
                kind="documentation_incomplete",
                severity="medium",
                summary="A search without its report-of-investigation number.",
                source_ref="matrix-oversight-1",
            ),
            actor=admin_actor,
        )
    return {
        "memo": memo.pk,
        "recommendation": first.pk,
        "concurred": second.pk,
        "milestone": milestone.pk,
        "finding": finding.pk,
    }
