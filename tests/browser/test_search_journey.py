"""Issue 4's journey in a real browser: under a policy that needs approval, an officer
requests a search, their supervisor approves it, the officer documents the outcome, and the
search appears in the unit view with every step in its history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
)
from searchledger.apps.grants.actions import do_approve_grant, do_request_grant
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import SearchRecord
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.training.actions import do_acknowledge_rules
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .test_ledger_journey import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _set_up() -> None:
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
        actor=Actor.system(),
        reason="bootstrap",
    )
    actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
    do_create_org_unit(code="bal", name="Baltimore", kind="field_office", actor=actor)
    sam = do_create_account(
        username="sam",
        role=Role.SUPERVISOR,
        password=PASSWORD,
        full_name="Sam Supervisor",
        actor=actor,
        reason="test",
    )
    oscar = do_create_account(
        username="oscar",
        role=Role.OFFICER,
        password=PASSWORD,
        full_name="Oscar Officer",
        actor=actor,
        reason="test",
    )
    do_assign_account(sam.pk, org_unit_code="bal", supervisor_id=None, actor=actor)
    do_assign_account(oscar.pk, org_unit_code="bal", supervisor_id=sam.pk, actor=actor)
    system = do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="State MVA", kind="face_images", access_method="api"),
        actor=actor,
    )
    rules = do_publish_rules(system.pk, text="Search only in open cases.", actor=actor)
    today = timezone.localdate()
    grant = do_request_grant(
        account_id=oscar.pk,
        system_code="mirs",
        job_function="Deportation officer",
        justification="Identify subjects of open fugitive cases.",
        starts_on=today,
        expires_on=today + timedelta(days=365),
        actor=actor,
    )
    do_approve_grant(grant.pk, actor=actor, reason="needed")
    do_acknowledge_rules(rules.pk, actor=Actor(account_id=oscar.pk, role=Role.OFFICER))
    actions.do_seed_offence_categories(actor=actor)
    actions.do_set_search_policy(
        org_unit_code=None,
        system_code=None,
        settings=actions.PolicySettings(approval_required=True),
        actor=actor,
        reason="every search needs a supervisor's approval",
    )


def test_request_approve_document_and_see_it_in_the_unit_view(page):
    _set_up()

    # The officer requests a search; the policy sends it to the supervisor.
    sign_in(page, "oscar")
    page.click("nav >> text=Searches")
    page.click("text=Request a search")
    page.select_option("#id_system", "mirs")
    page.fill("#id_case_system", "ICM")
    page.fill("#id_case_number", "BAL-2026-0042")
    page.select_option("#id_purpose", "robbery")
    page.fill("#id_justification", "Bank robbery on 3 Nov; suspect on the branch camera.")
    page.select_option("#id_lead_posture", "advances_existing")
    page.check("#id_techniques_tried_0")
    page.fill("#id_techniques_notes", "NCIC and county records: no name.")
    page.select_option("#id_probe_source", "surveillance_still")
    page.check("#id_probe_lawfully_obtained")
    page.check("#id_attested_not_protected")
    page.click("button:has-text('Request the search')")
    page.wait_for_selector("text=awaits your supervisor's approval")
    search = SearchRecord.objects.get()
    assert search.status == "pending_approval"
    page.click("button:has-text('Sign out')")

    # The supervisor finds it on the work list and approves it.
    sign_in(page, "sam")
    page.goto(f"{page.base}/grants/work/")
    page.click(f"tr:has-text('Decide the search request {search.pk}') >> text=Open")
    page.click("button:has-text('Approve')")
    page.wait_for_selector(f"text=Search {search.pk} approved.")
    page.click("button:has-text('Sign out')")

    # The officer documents the outcome, vetted by the supervisor.
    sign_in(page, "oscar")
    page.click("nav >> text=Searches")
    page.click(f"#search-table >> a:text-is('{search.pk}')")
    page.click("a.usa-button:has-text('Document the outcome')")
    page.fill("#id_candidates_returned", "2")
    page.select_option("#id_vetter_1", label="sam")
    page.select_option("#id_result_1", "match_confirmed")
    page.check("#id_lead_derived")
    page.fill("#id_further_action", "Interview planned at the address.")
    page.click("button:has-text('Record the outcome')")
    page.wait_for_selector(f"text=The outcome of search {search.pk} is documented.")
    search.refresh_from_db()
    assert (search.status, search.candidates_returned, search.lead_derived) == (
        "documented",
        2,
        True,
    )
    page.click("button:has-text('Sign out')")

    # The supervisor sees it in the unit view (filtered in place) and its whole history.
    sign_in(page, "sam")
    page.click("nav >> text=Searches")
    page.click("text=All searches you may see")
    page.select_option("#id_purpose", "burglary")
    page.wait_for_selector("#search-table >> text=No searches.")
    page.select_option("#id_purpose", "robbery")
    page.wait_for_selector("#search-table >> text=BAL-2026-0042")
    page.click(f"#search-table >> a:text-is('{search.pk}')")
    history = page.inner_text("#history")
    steps = [
        ("SEARCH_REQUESTED", "oscar"),
        ("SEARCH_APPROVED", "sam"),
        ("SEARCH_OUTCOME_DOCUMENTED", "oscar"),
    ]
    lines = history.splitlines()
    for event, who in steps:
        assert any(event in line and who in line for line in lines), (event, history)
    order = [next(i for i, line in enumerate(lines) if event in line) for event, _ in steps]
    assert order == sorted(order)
    assert "SEARCH_VIEWED" in lines[-1]
    assert "sam" in lines[-1]
    assert "sam: Match confirmed" in page.inner_text("#outcome")
