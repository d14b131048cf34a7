"""Set-up for review tests: the findings tests' world (``boss`` supervises ``searcher`` in
the unit bal-fug; ``supervisor`` supervises ``boss``; an auditor and oversight)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from searchledger.apps.findings.tests.conftest import fworld  # noqa: F401  # the shared fixture
from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.reviews import actions
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.conftest import sworld  # noqa: F401  # the shared fixture
from searchledger.apps.searches.tests.support import actor_for, request
from searchledger.apps.searches.tests.test_workflow import outcome

ALL_YES = {
    "documentation_complete": "yes",
    "purpose_allowed": "yes",
    "techniques_attested": "yes",
    "candidates_vetted": "yes",
    "lead_correctly_recorded": "yes",
}


@pytest.fixture
def rworld(fworld):  # noqa: F811  # uses the imported fixture
    """``fworld`` plus searches by ``searcher`` today: ``no_outcome`` (authorised),
    ``clean`` (documented with its ROI number), ``no_roi`` (documented without),
    ``refused`` (a forbidden purpose) and ``retry`` (the same case just after)."""
    officer = actor_for(fworld["searcher"])
    no_outcome = searches.do_request_search(request(case_number="A-1"), actor=officer)
    clean = searches.do_request_search(request(case_number="B-1"), actor=officer)
    searches.do_document_outcome(clean.pk, outcome(fworld), actor=officer)
    searches.do_record_roi_number(clean.pk, "ROI-1", actor=officer)
    no_roi = searches.do_request_search(request(case_number="C-1"), actor=officer)
    searches.do_document_outcome(no_roi.pk, outcome(fworld), actor=officer)
    with pytest.raises(searches.SearchRefused) as refusal:
        searches.do_request_search(
            request(case_number="D-1", purpose="immigration_civil_enforcement"), actor=officer
        )
    retry = searches.do_request_search(request(case_number="D-1"), actor=officer)
    return {
        **fworld,
        "no_outcome": no_outcome,
        "clean": clean,
        "no_roi": no_roi,
        "refused": refusal.value.search,
        "retry": retry,
    }


def campaign(**change):
    today = timezone.localdate()
    values: dict[str, Any] = {
        "org_unit_code": "bal-fug",
        "period_start": today - timedelta(days=7),
        "period_end": today,
        "deadline": today + timedelta(days=30),
        "random_share": "0",
        "seed": 7,
    }
    values.update(change)
    return actions.CampaignRequest(**values)
