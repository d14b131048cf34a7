"""Shared set-up for grant tests: a field office, its people and the state repository."""

from __future__ import annotations

import pytest

from searchledger.apps.accounts.actions import do_assign_account, do_create_org_unit
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.training.actions import do_create_course
from searchledger.core.roles import Role

from .support import RULES


@pytest.fixture
def world(admin, admin_actor, make_account):
    """A field office with a supervisor, two officers, the state repository and its rules."""
    office = do_create_org_unit(
        code="bal", name="Baltimore field office", kind="field_office", actor=admin_actor
    )
    other = do_create_org_unit(
        code="phl", name="Philadelphia field office", kind="field_office", actor=admin_actor
    )
    supervisor = make_account("sup", Role.SUPERVISOR)
    other_supervisor = make_account("sup2", Role.SUPERVISOR)
    officer = make_account("off", Role.OFFICER)
    colleague = make_account("off2", Role.OFFICER)
    do_assign_account(supervisor.pk, org_unit_code="bal", supervisor_id=None, actor=admin_actor)
    do_assign_account(
        other_supervisor.pk, org_unit_code="phl", supervisor_id=None, actor=admin_actor
    )
    for person in (officer, colleague):
        do_assign_account(
            person.pk, org_unit_code="bal", supervisor_id=supervisor.pk, actor=admin_actor
        )
    do_create_course(
        code="privacy",
        name="Privacy training",
        provider="agency",
        valid_for_days=365,
        actor=admin_actor,
    )
    system = do_create_system(
        "mirs",
        SystemDetails(
            name="MIRS",
            owner="State MVA",
            kind="face_images",
            access_method="web_portal",
            required_course_codes=["privacy"],
        ),
        actor=admin_actor,
    )
    rules = do_publish_rules(system.pk, text=RULES, actor=admin_actor)
    for account in (supervisor, other_supervisor, officer, colleague):
        account.refresh_from_db()
    return {
        "office": office,
        "other": other,
        "supervisor": supervisor,
        "other_supervisor": other_supervisor,
        "officer": officer,
        "colleague": colleague,
        "system": system,
        "rules": rules,
    }
