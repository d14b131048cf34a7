"""The search workflow through the actions: request, approval, outcome, ROI, cancellation,
with the exact ledger entries, the e-mail, the work lists and every refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import scoped_accounts
from searchledger.apps.grants import actions as grants
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.searches import actions, selectors
from searchledger.apps.searches.models import OffenceCategory, SearchRecord, SearchVetting
from searchledger.apps.searches.offences import SEED_CATEGORIES
from searchledger.core.roles import Role
from searchledger.core.searches import documentation_due

from .support import (
    actor_for,
    counts,
    entries_since,
    events_since,
    head,
    make_searcher,
    request,
)

pytestmark = pytest.mark.django_db


def approval_policy(sworld, admin_actor, **settings):
    return actions.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=actions.PolicySettings(approval_required=True, **settings),
        actor=admin_actor,
        reason="fugitive operations need approval",
    )


def outcome(sworld, **change):
    values: dict[str, Any] = {
        "searched_at": timezone.now(),
        "candidates_returned": 4,
        "lead_derived": True,
        "further_action": "Surveillance of the address; interview planned.",
        "vettings": [
            actions.VettingInput(sworld["searcher"].pk, "match_confirmed", "tattoo on left hand")
        ],
    }
    values.update(change)
    return actions.SearchOutcome(**values)


def test_an_allowed_request_is_authorised_at_once_and_recorded(sworld):
    officer = sworld["searcher"]
    start = head()
    search = actions.do_request_search(request(), actor=actor_for(officer))
    assert search.status == "authorised"
    assert search.verdict == "allow"
    assert search.policy_version == 1
    assert search.documentation_due == documentation_due(
        timezone.localdate(), sworld["policy"].facts()
    )
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_REQUESTED"
    assert entry["object"] == {"type": "searches.searchrecord", "id": str(search.pk)}
    assert entry["data"] == {
        "officer": officer.pk,
        "system": "mirs",
        "status": "authorised",
        "policy": sworld["policy"].pk,
        "policy_version": 1,
        "org_unit": "bal-fug",
        "purpose": "robbery",
        "case_system": "ICM",
        "lead_posture": "advances_existing",
        "techniques_tried": ["government_databases", "open_source"],
        "probe_source": "surveillance_still",
        "probe_lawfully_obtained": True,
        "attested_not_protected": True,
        "verdict": "allow",
        "reasons": [],
        "documentation_due": search.documentation_due.isoformat(),
    }
    assert set(entry["commitments"]) == {
        "case_number",
        "justification",
        "techniques_notes",
        "probe_source_notes",
    }
    body = LedgerEntry.objects.get(seq=start).body
    assert "BAL-2026-0042" not in body
    assert "Bank robbery" not in body
    assert mail.outbox == []


def test_the_whole_journey_with_approval(sworld, admin_actor, django_capture_on_commit_callbacks):
    officer, boss = sworld["searcher"], sworld["boss"]
    approval_policy(sworld, admin_actor)
    start = head()
    with django_capture_on_commit_callbacks(execute=True):
        search = actions.do_request_search(request(), actor=actor_for(officer))
    assert search.status == "pending_approval"
    assert search.documentation_due is None
    assert [m.to for m in mail.outbox] == [["boss@agency.example"]]
    assert "awaits your approval" in mail.outbox[0].subject
    assert list(selectors.pending_approvals(actor_for(boss))) == [search]
    assert list(selectors.pending_approvals(admin_actor)) == [search]
    assert list(selectors.pending_approvals(actor_for(sworld["supervisor"]))) == []
    assert list(selectors.pending_approvals(actor_for(officer))) == []

    with django_capture_on_commit_callbacks(execute=True):
        actions.do_approve_search(search.pk, actor=actor_for(boss), reason="open robbery case")
    search = SearchRecord.objects.get(pk=search.pk)
    assert search.status == "authorised"
    assert search.decided_by == boss
    assert search.documentation_due is not None
    assert mail.outbox[-1].to == ["searcher@agency.example"]
    assert "approved" in mail.outbox[-1].subject
    assert "open robbery case" in mail.outbox[-1].body
    assert list(selectors.pending_approvals(actor_for(boss))) == []

    colleague = make_searcher(sworld, admin_actor, "second", supervisor=boss)
    actions.do_document_outcome(
        search.pk,
        outcome(
            sworld,
            vettings=[
                actions.VettingInput(officer.pk, "match_confirmed", "scar"),
                actions.VettingInput(colleague.pk, "match_confirmed"),
            ],
        ),
        actor=actor_for(officer),
    )
    actions.do_record_roi_number(search.pk, "ROI-2026-118", actor=actor_for(officer))
    search.refresh_from_db()
    assert search.status == "documented"
    assert search.lead_derived is True
    assert search.roi_number == "ROI-2026-118"
    assert [(v.vetter_id, v.result) for v in search.vettings.all()] == [
        (officer.pk, "match_confirmed"),
        (colleague.pk, "match_confirmed"),
    ]
    entries = entries_since(start)
    assert [e["event"] for e in entries if e["object"]["type"] == "searches.searchrecord"] == [
        "SEARCH_REQUESTED",
        "SEARCH_APPROVED",
        "SEARCH_OUTCOME_DOCUMENTED",
        "SEARCH_ROI_RECORDED",
    ]
    requested = entries[0]
    assert requested["data"]["verdict"] == "needs_approval"
    assert requested["data"]["reasons"] == ["approval_required"]
    assert requested["data"]["policy_version"] == 1
    documented = next(e for e in entries if e["event"] == "SEARCH_OUTCOME_DOCUMENTED")
    assert documented["data"]["vettings"] == [
        {"vetter": officer.pk, "result": "match_confirmed"},
        {"vetter": colleague.pk, "result": "match_confirmed"},
    ]
    assert documented["data"]["lead_derived"] is True
    assert documented["data"]["late"] is False
    assert set(documented["commitments"]) == {"further_action", "vetting_0_notes"}
    assert "ROI-2026-118" not in LedgerEntry.objects.get(seq=entries[-1]["seq"]).body
    assert verify_ledger(load_verifier()).entries == LedgerEntry.objects.count()


def test_refusal_by_the_supervisor_tells_the_officer_why(
    sworld, admin_actor, django_capture_on_commit_callbacks
):
    approval_policy(sworld, admin_actor)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    boss = actor_for(sworld["boss"])
    with pytest.raises(ValidationError) as info:
        actions.do_refuse_search(search.pk, actor=boss, reason="  ")
    assert "reason" in info.value.message_dict
    start = head()
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_refuse_search(search.pk, actor=boss, reason="use the booking photo first")
    assert events_since(start) == ["SEARCH_REFUSED"]
    assert mail.outbox[-1].to == ["searcher@agency.example"]
    assert "refused" in mail.outbox[-1].subject
    assert "use the booking photo first" in mail.outbox[-1].body
    with pytest.raises(ValidationError, match="not awaiting approval"):
        actions.do_approve_search(search.pk, actor=boss)
    with pytest.raises(ValidationError, match="only an authorised search"):
        actions.do_document_outcome(search.pk, outcome(sworld), actor=actor_for(sworld["searcher"]))


def test_only_the_officers_supervisor_or_an_administrator_decides(sworld, admin, admin_actor):
    approval_policy(sworld, admin_actor)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    before = counts()
    # The officer, a colleague, the supervisor of the unit above (not the direct
    # supervisor), and another office's supervisor.
    colleague = make_searcher(sworld, admin_actor, "peer", supervisor=sworld["boss"])
    before = counts()
    for who in (sworld["searcher"], colleague, sworld["supervisor"], sworld["other_supervisor"]):
        with pytest.raises(PermissionDenied):
            actions.do_approve_search(search.pk, actor=actor_for(who))
        with pytest.raises(PermissionDenied):
            actions.do_refuse_search(search.pk, actor=actor_for(who), reason="no")
    assert counts() == before
    actions.do_approve_search(search.pk, actor=admin_actor, reason="on the boss's leave")
    # No one decides on their own request, not even an administrator.
    own = make_searcher(sworld, admin_actor, "chief", role=admin.role_enum)
    own_search = actions.do_request_search(request(), actor=actor_for(own))
    with pytest.raises(PermissionDenied, match="own search request"):
        actions.do_approve_search(own_search.pk, actor=actor_for(own))


def test_a_lapsed_grant_is_refused_with_the_access_reasons(sworld, admin_actor):
    lapsed = make_searcher(
        sworld, admin_actor, "lapsed", supervisor=sworld["boss"], trained_days_ago=400
    )
    before = counts()
    start = head()
    with pytest.raises(actions.SearchRefused) as info:
        actions.do_request_search(request(), actor=actor_for(lapsed))
    [message] = info.value.message_dict["system"]
    assert message.startswith("Training lapsed on")
    assert "Privacy training" in message
    refused = info.value.search
    assert refused.status == "refused"
    assert refused.decision_reasons == [
        {"field": "system", "code": "no_access", "message": message}
    ]
    assert counts() == (before[0] + 1, before[1] + 1, before[2])
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_REQUEST_REFUSED"
    assert entry["data"]["verdict"] == "refuse"
    assert entry["data"]["reasons"] == ["no_access"]
    assert entry["data"]["policy_version"] == 1
    assert entry["data"]["documentation_due"] is None
    # A refused request is never documented.
    with pytest.raises(ValidationError, match="only an authorised search"):
        actions.do_document_outcome(refused.pk, outcome(sworld), actor=actor_for(lapsed))


def test_approval_asks_the_access_rule_again(sworld, admin_actor):
    approval_policy(sworld, admin_actor)
    officer = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(officer))
    grant = AccessGrant.objects.get(account=officer, status="approved")
    grants.do_revoke_grant(grant.pk, actor=admin_actor, reason="transferred")
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_approve_search(search.pk, actor=actor_for(sworld["boss"]))
    assert info.value.message_dict == {"system": ["The access grant was revoked."]}
    assert counts() == before
    assert SearchRecord.objects.get(pk=search.pk).status == "pending_approval"


def test_an_outcome_posted_twice_is_refused(sworld):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    actions.do_document_outcome(search.pk, outcome(sworld), actor=officer)
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_document_outcome(search.pk, outcome(sworld, lead_derived=False), actor=officer)
    assert "already documented" in info.value.message_dict["search"][0]
    assert counts() == before
    assert SearchRecord.objects.get(pk=search.pk).lead_derived is True


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"vettings": []}, "lead_derived", "never recorded as leads"),
        (
            {"vettings": [actions.VettingInput(0, "match_confirmed")]},
            "vettings",
            "no active account",
        ),
        ({"candidates_returned": 0}, "vettings", "no candidates to vet"),
        ({"candidates_returned": -2}, "candidates_returned", "negative"),
        ({"further_action": ""}, "further_action", "further action"),
        ({"searched_at": timezone.now() + timedelta(days=2)}, "searched_at", "future"),
        ({"searched_at": timezone.now() - timedelta(days=30)}, "searched_at", "before it was"),
    ],
)
def test_bad_outcomes_name_the_field_and_write_nothing(sworld, change, field, words):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_document_outcome(search.pk, outcome(sworld, **change), actor=officer)
    assert words in " ".join(info.value.message_dict[field])
    assert counts() == before
    assert SearchRecord.objects.get(pk=search.pk).status == "authorised"


def test_an_unknown_vetting_result_is_named(sworld):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    bad = [actions.VettingInput(sworld["searcher"].pk, "probably")]
    with pytest.raises(ValidationError) as info:
        actions.do_document_outcome(search.pk, outcome(sworld, vettings=bad), actor=officer)
    assert "unknown value 'probably'" in info.value.message_dict["vettings"][0]


def test_results_without_a_lead_need_no_vetting(sworld):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    start = head()
    actions.do_document_outcome(
        search.pk,
        outcome(
            sworld, vettings=[], lead_derived=False, further_action="None: no candidate vetted"
        ),
        actor=officer,
    )
    [entry] = entries_since(start)
    assert entry["data"]["vettings"] == []
    assert entry["data"]["lead_derived"] is False
    assert SearchVetting.objects.count() == 0


def test_only_the_officer_documents_the_outcome(sworld, admin_actor):
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    for who in (actor_for(sworld["boss"]), admin_actor):
        with pytest.raises(PermissionDenied, match="only the officer"):
            actions.do_document_outcome(search.pk, outcome(sworld), actor=who)


def test_overdue_documentation_on_the_officers_and_supervisors_work_lists(sworld, admin_actor):
    officer, boss = sworld["searcher"], sworld["boss"]
    late = actions.do_request_search(request(), actor=actor_for(officer))
    done = actions.do_request_search(request(), actor=actor_for(officer))
    actions.do_document_outcome(done.pk, outcome(sworld), actor=actor_for(officer))
    due = late.documentation_due
    assert due is not None
    mine = Account.objects.filter(pk=officer.pk)
    assert list(selectors.overdue_documentation(mine, due)) == []
    assert list(selectors.overdue_documentation(mine, due + timedelta(days=1))) == [late]
    for supervisor in (boss, sworld["supervisor"]):
        scope = scoped_accounts(actor_for(supervisor))
        assert list(selectors.overdue_documentation(scope, due + timedelta(days=1))) == [late]
    other = scoped_accounts(actor_for(sworld["other_supervisor"]))
    assert list(selectors.overdue_documentation(other, due + timedelta(days=1))) == []


def test_late_documentation_is_marked_late_on_the_ledger(sworld):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    SearchRecord.objects.filter(pk=search.pk).update(
        documentation_due=timezone.localdate() - timedelta(days=1)
    )
    start = head()
    actions.do_document_outcome(search.pk, outcome(sworld), actor=officer)
    assert entries_since(start)[0]["data"]["late"] is True


def test_cancel(sworld, admin_actor):
    approval_policy(sworld, admin_actor)
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    with pytest.raises(ValidationError) as info:
        actions.do_cancel_search(search.pk, actor=officer, reason="")
    assert "reason" in info.value.message_dict
    with pytest.raises(PermissionDenied):
        actions.do_cancel_search(
            search.pk, actor=actor_for(sworld["other_supervisor"]), reason="not yours"
        )
    start = head()
    actions.do_cancel_search(search.pk, actor=officer, reason="suspect arrested")
    assert events_since(start) == ["SEARCH_CANCELLED"]
    assert list(selectors.pending_approvals(actor_for(sworld["boss"]))) == []
    with pytest.raises(ValidationError, match="cannot cancel"):
        actions.do_cancel_search(search.pk, actor=officer, reason="again")


def test_roi_number(sworld):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    with pytest.raises(ValidationError) as info:
        actions.do_record_roi_number(search.pk, "ROI 1; x", actor=officer)
    assert "roi_number" in info.value.message_dict
    with pytest.raises(PermissionDenied):
        actions.do_record_roi_number(
            search.pk, "ROI-1", actor=actor_for(sworld["other_supervisor"])
        )
    with pytest.raises(PermissionDenied):
        actions.do_record_roi_number(search.pk, "ROI-1", actor=actor_for(sworld["officer"]))
    # The supervisor may record it for their officer.
    actions.do_record_roi_number(search.pk, "ROI-1", actor=actor_for(sworld["boss"]))
    before = counts()
    with pytest.raises(ValidationError, match="already has"):
        actions.do_record_roi_number(search.pk, "ROI-2", actor=officer)
    assert counts() == before


def test_mail_goes_only_after_commit(sworld, admin_actor, django_capture_on_commit_callbacks):
    approval_policy(sworld, admin_actor)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))

    def approve_then_fail():
        with transaction.atomic():
            actions.do_approve_search(search.pk, actor=actor_for(sworld["boss"]))
            raise RuntimeError("something after the approval failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        approve_then_fail()
    assert callbacks == []
    assert mail.outbox == []
    assert SearchRecord.objects.get(pk=search.pk).status == "pending_approval"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.do_approve_search(search.pk, actor=actor_for(sworld["boss"]))
    assert mail.outbox == []  # not yet: the transaction has not committed
    assert len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["searcher@agency.example"]]


def test_list_searches_follows_scope(sworld, admin_actor):
    officer = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(officer))
    other = actions.do_request_search(request(purpose="homicide"), actor=actor_for(sworld["boss"]))
    assert list(selectors.list_searches(actor_for(officer))) == [search]
    assert set(selectors.list_searches(actor_for(sworld["boss"]))) == {search, other}
    assert set(selectors.list_searches(actor_for(sworld["supervisor"]))) == {search, other}
    assert list(selectors.list_searches(actor_for(sworld["other_supervisor"]))) == []
    assert list(
        selectors.list_searches(admin_actor, selectors.SearchFilters(purpose="homicide"))
    ) == [other]
    filters = selectors.SearchFilters(status="authorised", officer_id=officer.pk)
    assert list(selectors.list_searches(admin_actor, filters)) == [search]
    assert selectors.access_search_by_id(search.pk, actor_for(officer)) == search
    with pytest.raises(PermissionDenied):
        selectors.access_search_by_id(other.pk, actor_for(officer))


def test_seeding_offence_categories_once(sworld, admin_actor):
    assert OffenceCategory.objects.count() == len(SEED_CATEGORIES)
    groups = set(OffenceCategory.objects.values_list("group", flat=True))
    assert groups == {"nibrs_a", "nibrs_b", "agency"}
    start = head()
    assert actions.do_seed_offence_categories(actor=admin_actor) == []
    assert head() == start
    with pytest.raises(PermissionDenied):
        actions.do_seed_offence_categories(actor=actor_for(sworld["boss"]))
    actions.do_create_offence_category(
        code="wildlife_smuggling", label="Wildlife smuggling", group="agency", actor=admin_actor
    )
    assert events_since(start) == ["SEARCH_PURPOSE_CREATED"]
    with pytest.raises(ValidationError) as info:
        actions.do_create_offence_category(
            code="wildlife_smuggling", label="", group="nope", actor=admin_actor
        )
    assert set(info.value.message_dict) == {"code", "label", "group"}


def test_a_search_run_before_its_approval_is_flagged(sworld, admin_actor):
    approval_policy(sworld, admin_actor)
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    ran = timezone.now()
    actions.do_approve_search(search.pk, actor=actor_for(sworld["boss"]))
    start = head()
    actions.do_document_outcome(search.pk, outcome(sworld, searched_at=ran), actor=officer)
    assert entries_since(start)[0]["data"]["searched_before_authorisation"] is True


def test_the_work_list_shows_outcomes_due_and_overdue(sworld):
    officer = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(officer))
    due = search.documentation_due
    assert due is not None
    mine = Account.objects.filter(pk=officer.pk)
    far_before = due - timedelta(days=10)
    assert selectors.search_work_list(mine, far_before) == []
    [item] = selectors.search_work_list(mine, due)
    assert (item.due_on, item.overdue, item.search) == (due, False, search)
    assert item.what == f"Document the outcome of search {search.pk}: searcher → MIRS"
    [late] = selectors.search_work_list(
        scoped_accounts(actor_for(sworld["boss"])), due + timedelta(days=1)
    )
    assert late.overdue
    actions.do_document_outcome(search.pk, outcome(sworld), actor=actor_for(officer))
    assert selectors.search_work_list(mine, due + timedelta(days=1)) == []


def test_auditors_do_not_vet(sworld, make_account):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    auditor = make_account("aud", Role.AUDITOR)
    vettings = [actions.VettingInput(auditor.pk, "match_confirmed")]
    with pytest.raises(ValidationError) as info:
        actions.do_document_outcome(search.pk, outcome(sworld, vettings=vettings), actor=officer)
    assert info.value.message_dict["vettings"] == ["aud (auditor) does not vet search results"]


def test_every_view_and_export_is_a_ledger_entry(sworld, admin_actor):
    officer = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(officer))
    start = head()
    actions.do_log_search_view(search.pk, actor=actor_for(sworld["supervisor"]), channel="web")
    actions.do_log_search_view(search.pk, actor=admin_actor, channel="api", probe_image=True)
    actions.do_log_search_export([search.pk], actor=admin_actor, channel="export")
    assert events_since(start) == ["SEARCH_VIEWED", "SEARCH_PROBE_VIEWED", "SEARCH_EXPORTED"]
    viewed = entries_since(start)[0]
    assert viewed["actor"] == sworld["supervisor"].pk
    assert viewed["data"]["channel"] == "web"
    # Someone outside the record's scope is refused and leaves no entry.
    before = head()
    with pytest.raises(PermissionDenied):
        actions.do_log_search_view(
            search.pk, actor=actor_for(sworld["other_supervisor"]), channel="web"
        )
    with pytest.raises(ValueError, match="channel"):
        actions.do_log_search_view(search.pk, actor=admin_actor, channel="fax")
    assert head() == before
