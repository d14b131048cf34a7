"""Issue 3's journey in a real browser: an administrator grants access, the officer
acknowledges the rules of behaviour, and the grant comes into force."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
)
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.training.actions import do_create_course, do_record_completion
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .test_ledger_journey import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_grants_officer_acknowledges_grant_in_force(page):
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
        actor=Actor.system(),
        reason="bootstrap",
    )
    actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
    do_create_org_unit(code="bal", name="Baltimore", kind="field_office", actor=actor)
    officer = do_create_account(
        username="oscar",
        role=Role.OFFICER,
        password=PASSWORD,
        full_name="Oscar Officer",
        actor=actor,
        reason="test",
    )
    do_assign_account(officer.pk, org_unit_code="bal", supervisor_id=admin.pk, actor=actor)
    do_create_course(
        code="privacy",
        name="Privacy training",
        provider="agency",
        valid_for_days=365,
        actor=actor,
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
        actor=actor,
    )
    do_publish_rules(
        system.pk, text="Search only to advance an existing lead in an open case.", actor=actor
    )
    do_record_completion(
        officer.pk,
        course_code="privacy",
        completed_on=timezone.localdate(),
        evidence="LMS-1",
        actor=actor,
    )

    # The administrator requests and approves access for the officer.
    sign_in(page, "admin")
    page.click("nav >> text=Access")
    page.click("text=Request access")
    page.select_option("#id_account", str(officer.pk))
    page.select_option("#id_system", "mirs")
    page.fill("#id_job_function", "Deportation officer")
    page.fill("#id_justification", "Identify subjects of open fugitive cases from leads.")
    page.fill("#id_starts_on", timezone.localdate().isoformat())
    page.fill("#id_expires_on", (timezone.localdate() + timedelta(days=365)).isoformat())
    page.click("button:has-text('Request access')")
    page.wait_for_selector("text=awaits a decision")
    page.click("button:has-text('Approve')")
    page.wait_for_selector("text=Grant approved.")
    # Approved, but the officer has not acknowledged the rules: not in force yet.
    assert "have not been acknowledged" in page.inner_text("#grant-standing")
    grant = AccessGrant.objects.get(account=officer, system=system)
    assert grant.status == "approved"
    page.click("button:has-text('Sign out')")

    # The officer reads and acknowledges the rules; the grant comes into force.
    sign_in(page, "oscar")
    page.click("nav >> text=Systems")
    page.click("text=MIRS")
    assert "not in force" in page.inner_text("#my-access")
    page.click("button:has-text('I have read and will follow version 1')")
    page.wait_for_selector("text=You acknowledged version 1 of the rules.")
    assert "in force — you may search MIRS" in page.inner_text("#my-access")
    page.goto(f"{page.base}/grants/{grant.pk}/")
    assert "In force" in page.inner_text("#grant-standing")
    history = page.inner_text("#history")
    assert "GRANT_REQUESTED" in history
    assert "GRANT_APPROVED" in history
