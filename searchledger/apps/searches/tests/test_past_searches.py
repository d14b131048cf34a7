"""Entering past searches after the fact (``do_enter_past_search``): checked as a live
request, dated from the past request, marked, and one ledger entry at the real time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.searches import actions, selectors
from searchledger.apps.searches.models import SearchRecord
from searchledger.core.searches import documentation_due

from .support import actor_for, counts, entries_since, head, request

pytestmark = pytest.mark.django_db
SOURCE = "2025 search log, page 14"


def enter(sworld, actor, *, days_ago=60, outcome=None, decision=None, **change):
    return actions.do_enter_past_search(
        request(**change),
        officer_id=sworld["searcher"].pk,
        requested_at=timezone.now() - timedelta(days=days_ago),
        outcome=outcome,
        decision=decision or actions.PastDecision(),
        actor=actor,
        source=SOURCE,
    )


def past_outcome(sworld, days_ago):
    return actions.SearchOutcome(
        searched_at=timezone.now() - timedelta(days=days_ago),
        candidates_returned=3,
        lead_derived=True,
        further_action="Interview arranged.",
        vettings=[actions.VettingInput(sworld["searcher"].pk, "match_confirmed")],
    )


def test_a_documented_past_search_and_its_one_ledger_entry(sworld, admin_actor):
    seq = head()
    before = timezone.now()
    search = enter(sworld, admin_actor, days_ago=60, outcome=past_outcome(sworld, 59))
    search.refresh_from_db()
    assert search.status == "documented"
    assert search.entered_after_the_fact is True
    assert search.entered_from == SOURCE
    assert search.requested_at < before - timedelta(days=59)
    assert search.authorised_at == search.requested_at
    assert search.documentation_due == documentation_due(
        timezone.localdate(search.requested_at), sworld["policy"].facts()
    )
    [entry] = entries_since(seq)
    assert entry["event"] == "SEARCH_ENTERED_AFTER_THE_FACT"
    data = entry["data"]
    assert data["entered_after_the_fact"] is True
    assert data["requested_at"] == search.requested_at.isoformat()
    assert search.searched_at is not None
    assert data["searched_at"] == search.searched_at.isoformat()
    assert data["status"] == "documented"
    assert data["policy_version"] == sworld["policy"].version
    assert data["verdict"] == "allow"
    assert "source" in entry["commitments"]
    assert SOURCE not in LedgerEntry.objects.get(seq=entry["seq"]).body
    # The ledger's own time is the real time of entry.
    assert LedgerEntry.objects.get(seq=entry["seq"]).recorded_at >= before
    assert verify_ledger(load_verifier()).entries == LedgerEntry.objects.count()


def test_an_undocumented_past_search_is_overdue(sworld, admin_actor):
    search = enter(sworld, admin_actor, days_ago=30)
    assert search.status == "authorised"
    mine = Account.objects.filter(pk=sworld["searcher"].pk)
    assert list(selectors.overdue_documentation(mine)) == [search]
    [item] = selectors.search_work_list(mine)
    assert item.search == search
    assert item.overdue


def test_refused_by_policy_is_kept_not_raised(sworld, admin_actor):
    search = enter(sworld, admin_actor, purpose="immigration_civil_enforcement")
    assert search.status == "refused"
    assert search.verdict == "refuse"
    with pytest.raises(ValidationError) as caught:
        enter(
            sworld,
            admin_actor,
            purpose="immigration_civil_enforcement",
            outcome=past_outcome(sworld, 59),
        )
    assert set(caught.value.message_dict) == {"outcome"}


def test_approved_and_refused_by_the_supervisor(sworld, admin_actor):
    actions.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=actions.PolicySettings(approval_required=True),
        actor=admin_actor,
        reason="approval",
    )
    boss = sworld["boss"]
    with pytest.raises(ValidationError) as caught:
        enter(sworld, admin_actor)
    assert set(caught.value.message_dict) == {"decision"}
    approved = enter(sworld, admin_actor, decision=actions.PastDecision(approved_by=boss.pk))
    assert approved.status == "authorised"
    assert approved.decided_by_id == boss.pk
    refused = enter(
        sworld,
        admin_actor,
        decision=actions.PastDecision(refused_by=boss.pk, reason="Not exhausted."),
    )
    assert refused.status == "refused"
    assert refused.decision_note == "Not exhausted."
    with pytest.raises(ValidationError) as caught:
        enter(sworld, admin_actor, decision=actions.PastDecision(refused_by=boss.pk))
    assert set(caught.value.message_dict) == {"decision"}


@pytest.mark.parametrize(
    ("days_ago", "change", "fields"),
    [
        (-1, {}, {"requested_at"}),
        (4 * 365, {}, {"requested_at"}),
        (10, {"purpose": "no_such"}, {"purpose"}),
        (-1, {"case_number": ""}, {"requested_at", "case_number"}),
    ],
)
def test_bad_entries_name_the_field_and_write_nothing(
    sworld, admin_actor, days_ago, change, fields
):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        enter(sworld, admin_actor, days_ago=days_ago, **change)
    assert fields <= set(caught.value.message_dict)
    assert counts() == before


def test_a_searched_at_before_the_request_is_named(sworld, admin_actor):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        enter(sworld, admin_actor, days_ago=10, outcome=past_outcome(sworld, 11))
    assert set(caught.value.message_dict) == {"searched_at"}
    assert counts() == before


def test_only_administrators_enter_past_searches(sworld, admin_actor):
    before = counts()
    for person in (sworld["searcher"], sworld["boss"]):
        with pytest.raises(PermissionDenied):
            enter(sworld, actor_for(person))
    assert counts() == before
    assert SearchRecord.objects.filter(entered_after_the_fact=True).count() == 0
