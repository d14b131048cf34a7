"""Issue 5's review journey in a real browser: a supervisor opens a review campaign for
their unit, answers the checklist of a sampled search (htmx) and raises a finding, and then
works the finding from the home page to its closure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.findings.models import Finding
from searchledger.apps.reviews.models import ReviewCampaign
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import SearchRecord
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .test_ledger_journey import sign_in
from .test_search_journey import _set_up

pytestmark = pytest.mark.django_db(transaction=True)


def _searches() -> SearchRecord:
    """The policy of the search journey needs approval: the officer's request, approved by
    the supervisor and never documented."""
    oscar = Account.objects.get(username="oscar")
    sam = Account.objects.get(username="sam")
    search = actions.do_request_search(
        actions.SearchRequest(
            system_code="mirs",
            purpose="robbery",
            case_system="ICM",
            case_number="BAL-2026-0042",
            lead_posture="advances_existing",
            techniques_tried=["government_databases"],
            probe_source="surveillance_still",
            probe_lawfully_obtained=True,
            attested_not_protected=True,
            techniques_notes="NCIC: no name.",
        ),
        actor=Actor(account_id=oscar.pk, role=Role.OFFICER),
    )
    return actions.do_approve_search(
        search.pk, actor=Actor(account_id=sam.pk, role=Role.SUPERVISOR)
    )


def test_open_a_campaign_review_a_search_and_close_the_finding(page):
    _set_up()
    search = _searches()
    today = timezone.localdate()

    sign_in(page, "sam")
    page.click("nav >> text=Reviews")
    page.click("text=Open a campaign")
    page.select_option("#id_org_unit", "bal")
    page.fill("#id_period_start", (today - timedelta(days=7)).isoformat())
    page.fill("#id_period_end", today.isoformat())
    page.fill("#id_deadline", (today + timedelta(days=14)).isoformat())
    page.fill("#id_random_share", "0")
    page.click("button:has-text('Open and draw the sample')")
    page.wait_for_selector("text=Campaign opened: 1 searches sampled.")
    campaign = ReviewCampaign.objects.get()
    assert campaign.seed_generated
    assert "no_outcome" in page.inner_text("#items")

    # The checklist: a verdict that disagrees is refused in place (htmx), then recorded.
    page.click("#items >> a:text-is('Review')")
    # USWDS draws the radios and boxes on their labels: click those, as a person does.
    for item in ("purpose_allowed", "techniques_attested"):
        page.click(f"label[for=id_{item}_0]")  # yes
    page.click("label[for=id_documentation_complete_1]")  # no
    page.click("label[for=id_candidates_vetted_2]")  # n/a
    page.click("label[for=id_lead_correctly_recorded_2]")
    page.click("label[for=id_verdict_0]")  # compliant
    page.click("button:has-text('Record the review')")
    page.wait_for_selector("#checklist >> text=not compliant")
    page.click("label[for=id_verdict_2]")  # non-compliant
    page.click("label[for=id_raise_documentation_complete]")
    page.fill("#id_notes", "No outcome a week after the search.")
    page.click("button:has-text('Record the review')")
    page.wait_for_selector("text=1 of 1 sampled searches reviewed")
    finding = Finding.objects.get()
    assert (finding.kind, finding.search_id, finding.owner_id) == (
        "documentation_incomplete",
        search.pk,
        Account.objects.get(username="sam").pk,
    )

    # The home page shows the finding; the supervisor works it to its closure.
    page.goto(page.base + "/")
    assert "You own 1 open finding" in page.inner_text("#findings-summary")
    page.click("#findings-summary >> text=See the findings")
    page.click(f"#finding-table >> a:text-is('{finding.pk}')")
    page.fill("#id_remediation", "Outcome documented; officer reminded of the deadline.")
    page.click("button:has-text('Record the remediation')")
    page.wait_for_selector("text=The remediation is recorded.")
    page.select_option("#id_resolution", "remediated")
    page.fill("#id_note", "Documented late; no misuse.")
    page.click("button:has-text('Close the finding')")
    page.wait_for_selector("text=The finding is closed.")
    history = page.inner_text("#history")
    for event in ("FINDING_RAISED", "FINDING_REMEDIATION_RECORDED", "FINDING_CLOSED"):
        assert event in history
    finding.refresh_from_db()
    assert (finding.status, finding.resolution) == ("closed", "remediated")

    # Close the campaign.
    page.goto(f"{page.base}/reviews/{campaign.pk}/")
    page.click("button:has-text('Close the campaign')")
    page.wait_for_selector("text=The campaign is closed.")
