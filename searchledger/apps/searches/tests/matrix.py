"""The searches part of the authorization matrix's world (web/tests/test_authorization.py):
offence categories, an agency-wide policy, a "vendor" system to which every searching role
has access in force, and search records for the matrix's example requests."""

from __future__ import annotations

from dataclasses import replace

from django.utils import timezone

from searchledger.apps.accounts.actions import do_assign_account, do_create_org_unit
from searchledger.apps.grants import actions as grants
from searchledger.apps.searches import actions
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.training.actions import do_acknowledge_rules
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .support import REQUEST

__all__ = ["CASE_UNIT", "SAMPLE_SEARCH_CONTEXT", "SEARCH_CASE", "build_search_world"]

# For test_example_paths_resolve_to_their_pattern.
SAMPLE_SEARCH_CONTEXT = {
    "search": 12,
    "pending": 13,
    "mine": 14,
    "case": 15,
    "policy_scope": "*/*",
    "now": "2026-01-01T00:00:00Z",
}
# The example case the world registers, in the supervisor's unit.
SEARCH_CASE = ("ICM", "WORLD-1")
CASE_UNIT = "matrix-fo"

_SEARCHING_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR)


def build_search_world(admin_actor: Actor, accounts: dict[str, int]) -> dict[str, object]:
    """Build the searches world and return the probe context it adds: ``{search}`` (the
    officer's authorised search), ``{pending}`` (the officer's request awaiting their
    supervisor), ``{mine_<role>}`` (an authorised search of each searching role's own),
    ``{mine}`` (the administrator's), ``{case}`` (an open known case in the supervisor's
    unit, to which the supervisor is assigned) and ``{now}``."""
    system = Actor.system()
    actions.do_seed_offence_categories(actor=admin_actor)
    actions.do_set_search_policy(
        org_unit_code=None,
        system_code=None,
        settings=actions.PolicySettings(
            forbidden_purposes=["immigration_civil_enforcement"],
            approval_purposes=["fugitive_offences"],
            # The matrix's example values are strings, so its request ticks no technique.
            require_conventional_techniques=False,
        ),
        actor=admin_actor,
        reason="agency baseline",
    )
    vendor = do_create_system(
        "vendor",
        SystemDetails(name="Vendor FR", owner="Vendor", kind="face_images", access_method="api"),
        actor=admin_actor,
    )
    rules = do_publish_rules(vendor.pk, text="Search only in open cases.", actor=admin_actor)
    today = timezone.localdate()
    context: dict[str, object] = {}
    for role in _SEARCHING_ROLES:
        account_id = accounts[role.value]
        grant = grants.do_request_grant(
            account_id=account_id,
            system_code="vendor",
            job_function="Investigator",
            justification="Identify suspects in open cases.",
            starts_on=today,
            expires_on=today.replace(year=today.year + 1),
            actor=admin_actor,
        )
        grants.do_approve_grant(grant.pk, actor=system, reason="needed")
        do_acknowledge_rules(rules.pk, actor=Actor(account_id=account_id, role=role))
        search = actions.do_request_search(
            replace(REQUEST, system_code="vendor"),
            actor=Actor(account_id=account_id, role=role),
        )
        context[f"mine_{role.value}"] = search.pk
    officer = Actor(account_id=accounts[Role.OFFICER.value], role=Role.OFFICER)
    pending = actions.do_request_search(
        replace(REQUEST, system_code="vendor", purpose="fugitive_offences"), actor=officer
    )
    # The supervisor's unit, so that they manage its cases.
    do_create_org_unit(
        code=CASE_UNIT, name="Matrix field office", kind="field_office", actor=admin_actor
    )
    supervisor = accounts[Role.SUPERVISOR.value]
    do_assign_account(supervisor, org_unit_code=CASE_UNIT, supervisor_id=None, actor=admin_actor)
    case = actions.do_open_case(
        org_unit_code=CASE_UNIT,
        case_system=SEARCH_CASE[0],
        number=SEARCH_CASE[1],
        actor=admin_actor,
    )
    context.update(
        search=context[f"mine_{Role.OFFICER.value}"],
        pending=pending.pk,
        mine=context[f"mine_{Role.ADMINISTRATOR.value}"],
        case=case.pk,
        now=timezone.now().isoformat(),
    )
    return context
