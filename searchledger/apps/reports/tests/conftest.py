"""Set-up for report tests: the searches tests' world (a field office, a fugitive-operations
unit whose supervisor ``boss`` and officer ``searcher`` hold grants to MIRS) and, in
``rworld``, searches made through the real actions, counted by hand in ``EXPECTED``."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.searches import actions
from searchledger.apps.searches.tests.conftest import sworld  # noqa: F401  # the shared fixture
from searchledger.apps.searches.tests.support import actor_for, request

__all__ = ["EXPECTED", "rworld"]

# What rworld holds, counted by hand (every search is of MIRS and requested today).
EXPECTED = {
    "people:mirs": 2,  # boss and searcher hold grants in force; the others hold none
    "system:mirs:total": 7,
    "system:mirs:documented": 5,
    "system:mirs:authorised": 1,
    "system:mirs:cancelled": 1,
    "system:mirs:refused": 0,
    "system:mirs:pending_approval": 0,
    "purpose:robbery:total": 6,
    "purpose:homicide:total": 1,
    "leads:mirs": 2,
    "leads:total": 2,
}


def _outcome(person: Any, *, lead: bool) -> actions.SearchOutcome:
    return actions.SearchOutcome(
        searched_at=timezone.now(),
        candidates_returned=3 if lead else 0,
        lead_derived=lead,
        further_action="Interview planned." if lead else "None: no candidates came back.",
        vettings=[actions.VettingInput(person.pk, "match_confirmed")] if lead else [],
    )


@pytest.fixture
def rworld(sworld):  # noqa: F811  # uses the imported fixture
    """``sworld`` plus seven searches: the searcher's five documented robbery searches (two
    with a lead), one authorised and not yet documented, one cancelled; the boss's one
    homicide search, documented without a lead."""
    searcher, boss = sworld["searcher"], sworld["boss"]
    officer = actor_for(searcher)
    for n in range(4):
        search = actions.do_request_search(request(), actor=officer)
        actions.do_document_outcome(search.pk, _outcome(searcher, lead=n < 2), actor=officer)
    actions.do_request_search(request(), actor=officer)
    cancelled = actions.do_request_search(request(), actor=officer)
    actions.do_cancel_search(cancelled.pk, actor=officer, reason="wrong case number")
    homicide = actions.do_request_search(request(purpose="homicide"), actor=actor_for(boss))
    actions.do_document_outcome(homicide.pk, _outcome(boss, lead=False), actor=actor_for(boss))
    return sworld
