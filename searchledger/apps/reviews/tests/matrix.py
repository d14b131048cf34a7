"""The reviews and findings part of the authorization matrix's world
(web/tests/test_authorization.py): an officer in the supervisor's unit with an authorised
search, a review campaign that sampled it, an empty campaign ready to close, an open finding
about the matrix's officer (owned by their supervisor) and a closed one."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.actions import do_assign_account, do_create_account
from searchledger.apps.findings.actions import FindingDraft, do_close_finding, raise_finding
from searchledger.apps.grants import actions as grants
from searchledger.apps.reviews.actions import CampaignRequest, do_open_campaign
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.matrix import CASE_UNIT
from searchledger.apps.searches.tests.support import REQUEST
from searchledger.apps.systems.models import RulesVersion
from searchledger.apps.training.actions import do_acknowledge_rules
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

__all__ = ["CHECKLIST_FORM", "SAMPLE_REVIEW_CONTEXT", "build_review_world"]

# For test_example_paths_resolve_to_their_pattern.
SAMPLE_REVIEW_CONTEXT = {
    "open_finding": 20,
    "closed_finding": 21,
    "campaign": 22,
    "empty_campaign": 23,
    "review_item": 24,
}

# A checklist that passes: every item yes, compliant.
CHECKLIST_FORM = {
    "documentation_complete": "yes",
    "purpose_allowed": "yes",
    "techniques_attested": "yes",
    "candidates_vetted": "yes",
    "lead_correctly_recorded": "yes",
    "verdict": "compliant",
    "notes": "",
}


def _finding(officer: int, ref: str) -> int:
    draft = FindingDraft(
        source="review",
        kind="documentation_incomplete",
        severity="medium",
        summary="The outcome was documented without the candidates' vetting.",
        source_ref=ref,
        subject_id=officer,
        detail={"line": 3},
    )
    with transaction.atomic():
        finding, _ = raise_finding(draft, actor=Actor.system())
    return finding.pk


def build_review_world(admin_actor: Actor, accounts: dict[str, int]) -> dict[str, object]:
    """Build the reviews world (after the searches world) and return the probe context it
    adds: ``{open_finding}``, ``{closed_finding}``, ``{campaign}``, ``{empty_campaign}`` and
    ``{review_item}`` (the sampled search in ``{campaign}``, by an officer in the
    supervisor's unit)."""
    supervisor = accounts[Role.SUPERVISOR.value]
    reviewed = do_create_account(
        username="reviewed.officer", role=Role.OFFICER, password=None, actor=admin_actor
    )
    do_assign_account(
        reviewed.pk, org_unit_code=CASE_UNIT, supervisor_id=supervisor, actor=admin_actor
    )
    today = timezone.localdate()
    grant = grants.do_request_grant(
        account_id=reviewed.pk,
        system_code="vendor",
        job_function="Investigator",
        justification="Identify suspects in open cases.",
        starts_on=today,
        expires_on=today + timedelta(days=300),
        actor=admin_actor,
    )
    grants.do_approve_grant(grant.pk, actor=Actor.system(), reason="needed")
    officer = Actor(account_id=reviewed.pk, role=Role.OFFICER)
    rules = RulesVersion.objects.filter(system__code="vendor").order_by("-pk").first()
    assert rules is not None  # published by the searches world
    do_acknowledge_rules(rules.pk, actor=officer)
    searches.do_request_search(replace(REQUEST, system_code="vendor"), actor=officer)
    campaign = do_open_campaign(
        CampaignRequest(
            org_unit_code=CASE_UNIT,
            period_start=today - timedelta(days=7),
            period_end=today,
            deadline=today + timedelta(days=30),
            random_share="0",
            seed=1,
        ),
        actor=admin_actor,
    )
    empty = do_open_campaign(
        CampaignRequest(
            org_unit_code=CASE_UNIT,
            period_start=today - timedelta(days=100),
            period_end=today - timedelta(days=90),
            deadline=today + timedelta(days=30),
            random_share="0.1",
            seed=2,
        ),
        actor=admin_actor,
    )
    item = campaign.items.get()
    matrix_officer = accounts[Role.OFFICER.value]
    closed = _finding(matrix_officer, "matrix-closed")
    do_close_finding(closed, "no_issue", note="Checked.", actor=admin_actor)
    return {
        "open_finding": _finding(matrix_officer, "matrix-open"),
        "closed_finding": closed,
        "campaign": campaign.pk,
        "empty_campaign": empty.pk,
        "review_item": item.pk,
    }
