"""The oversight register: a memo and its recommendations, responses, action plans, evidence
and status, each change with exactly one ledger entry whose texts are commitments; bad input
refused naming the field, with nothing written; and the pages, from the CRCL memo's case."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.findings.actions import FindingDraft, raise_finding
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.oversight import actions, selectors
from searchledger.apps.oversight.models import Milestone, OversightMemo, Recommendation
from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.core.actor import Actor
from searchledger.core.oversight import Response, ResponseFacts, response_due, response_errors
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ISSUED = TODAY - timedelta(days=200)
CRCL_TEXTS = [
    "(b) (5) redacted in the public version: ERO documentation of searches.",
    "(b) (5) redacted in the public version: ERO supervisory audits and training.",
    "HSI should ensure it is fulfilling its audit requirements, including reviewing "
    "instances where FRS is accessed and used.",
]


def _entries_since(seq: int) -> list[dict[str, Any]]:
    return [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=seq).order_by("seq")]


def _head() -> int:
    return LedgerEntry.objects.count()


def _memo(admin_actor: Actor, **change: object) -> OversightMemo:
    values: dict[str, object] = {
        "body": "DHS CRCL",
        "reference": "Complaint No. 20-05-ICE-0474",
        "title": "Recommendations regarding ICE's use of facial recognition databases",
        "issued_on": ISSUED,
        "recommendations": CRCL_TEXTS,
    }
    values.update(change)
    return actions.do_record_memo(**values, actor=admin_actor)  # type: ignore[arg-type]  # test kwargs


def _recs(memo: OversightMemo) -> list[Recommendation]:
    return list(memo.recommendations.order_by("number"))


# --------------------------------------------------------------------------- pure rules


def test_the_response_is_due_120_days_after_issue_by_default() -> None:
    assert response_due(date(2022, 9, 30), 120) == date(2023, 1, 28)
    with pytest.raises(ValueError, match="between 1 and 3650"):
        response_due(date(2022, 9, 30), 0)


@pytest.mark.parametrize(
    ("response", "reasons", "errors"),
    [
        (Response.CONCUR, "", set()),
        (Response.NON_CONCUR, "", {"reasons"}),
        (Response.PARTIALLY_CONCUR, "  ", {"reasons"}),
        (Response.NON_CONCUR, "Existing policy covers it.", set()),
        (Response.PENDING, "", {"response"}),
    ],
)
def test_response_rules(response: Response, reasons: str, errors: set[str]) -> None:
    facts = ResponseFacts(response, reasons, date(2023, 1, 30), date(2022, 9, 30))
    assert set(response_errors(facts)) == errors


# --------------------------------------------------------------------------- actions


def test_recording_a_memo_writes_one_entry_with_texts_as_commitments(admin_actor) -> None:
    start = _head()
    memo = _memo(admin_actor)
    assert memo.response_due_on == ISSUED + timedelta(days=120)
    assert [r.number for r in _recs(memo)] == [1, 2, 3]
    [entry] = _entries_since(start)
    assert entry["event"] == "OVERSIGHT_MEMO_RECORDED"
    assert entry["data"] == {
        "body": "DHS CRCL",
        "reference": "Complaint No. 20-05-ICE-0474",
        "issued_on": ISSUED.isoformat(),
        "response_due_on": memo.response_due_on.isoformat(),
        "recommendations": 3,
    }
    assert set(entry["commitments"]) == {
        "title",
        "recommendation_1",
        "recommendation_2",
        "recommendation_3",
    }
    assert "HSI should ensure" not in json.dumps(entry)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": " "}, "body"),
        ({"reference": ""}, "reference"),
        ({"recommendations": []}, "recommendations"),
        ({"recommendations": ["One.", "  "]}, "recommendations"),
        ({"issued_on": TODAY + timedelta(days=1)}, "issued_on"),
        ({"response_days": 0}, "response_days"),
    ],
)
def test_a_bad_memo_is_refused_naming_the_field(admin_actor, change, field) -> None:
    start = _head()
    with pytest.raises(ValidationError) as caught:
        _memo(admin_actor, **change)
    assert field in caught.value.message_dict
    assert _head() == start
    assert not OversightMemo.objects.exists()


def test_the_same_reference_twice_is_refused(admin_actor) -> None:
    _memo(admin_actor)
    with pytest.raises(ValidationError, match="already in the register"):
        _memo(admin_actor)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPERVISOR, Role.OVERSIGHT])
def test_only_auditors_and_administrators_keep_the_register(admin_actor, make_account, role):
    memo = _memo(admin_actor)
    someone = make_account(f"someone-{role.value}", role)
    actor = Actor(account_id=someone.pk, role=role)
    start = _head()
    with pytest.raises(PermissionDenied):
        _memo(actor, reference="Another")
    with pytest.raises(PermissionDenied):
        actions.do_respond_to_recommendation(
            _recs(memo)[0].pk, response="concur", reasons="", responded_on=TODAY, actor=actor
        )
    assert _head() == start


def test_the_crcl_case_from_response_to_closure(admin_actor, make_account) -> None:
    """ICE concurred with recommendation 3 and did not concur with 1 and 2 (30 Jan 2023);
    the plan for 3 is carried out and closed, with a finding linked as evidence."""
    memo = _memo(admin_actor)
    first, second, third = _recs(memo)
    owner = make_account("hsi.audit.lead", Role.SUPERVISOR)
    start = _head()
    for rec in (first, second):
        actions.do_respond_to_recommendation(
            rec.pk,
            response="non_concur",
            reasons="ERO has no access to facial recognition since July 2021.",
            responded_on=ISSUED + timedelta(days=122),
            actor=admin_actor,
        )
    actions.do_respond_to_recommendation(
        third.pk,
        response="concur",
        reasons="",
        responded_on=ISSUED + timedelta(days=122),
        actor=admin_actor,
    )
    milestone = actions.do_add_milestone(
        third.pk,
        description="Quarterly supervisory review of every HSI search.",
        owner_id=owner.pk,
        due_on=TODAY - timedelta(days=5),
        actor=admin_actor,
    )
    summary = selectors.access_memo_by_id(memo.pk)
    assert summary.overdue_milestones == 1
    assert not summary.response_overdue  # every recommendation has its response
    actions.do_change_recommendation_status(
        third.pk,
        status="open_resolved",
        note="CRCL accepted the plan.",
        on=TODAY,
        actor=admin_actor,
    )
    with transaction.atomic():
        finding, _ = raise_finding(
            FindingDraft(
                source="review",
                kind="documentation_incomplete",
                severity="low",
                summary="Quarterly review found one search without its ROI number.",
                source_ref="crcl-case-1",
            ),
            actor=admin_actor,
        )
    actions.do_link_finding(third.pk, finding.pk, actor=admin_actor)
    actions.do_complete_milestone(
        milestone.pk, evidence="Q1 review campaign closed.", done_on=TODAY, actor=admin_actor
    )
    actions.do_change_recommendation_status(
        third.pk,
        status="closed",
        closure="implemented",
        note="CRCL closed recommendation 3.",
        on=TODAY,
        actor=admin_actor,
    )
    events = [e["event"] for e in _entries_since(start)]
    assert events == [
        "OVERSIGHT_RESPONSE_RECORDED",
        "OVERSIGHT_RESPONSE_RECORDED",
        "OVERSIGHT_RESPONSE_RECORDED",
        "OVERSIGHT_MILESTONE_ADDED",
        "OVERSIGHT_STATUS_CHANGED",
        "FINDING_RAISED",
        "OVERSIGHT_EVIDENCE_LINKED",
        "OVERSIGHT_MILESTONE_DONE",
        "OVERSIGHT_STATUS_CHANGED",
    ]
    late = _entries_since(start)[0]
    assert late["data"]["late"] is True  # 122 days > 120
    third.refresh_from_db()
    assert (third.status, third.closure, third.closed_on) == ("closed", "implemented", TODAY)
    assert list(third.findings.all()) == [finding]
    assert selectors.access_memo_by_id(memo.pk).overdue_milestones == 0
    # Closed stays closed.
    with pytest.raises(ValidationError, match="already closed"):
        actions.do_change_recommendation_status(
            third.pk, status="open_resolved", note="again", on=TODAY, actor=admin_actor
        )
    with pytest.raises(ValidationError, match="closed"):
        actions.do_respond_to_recommendation(
            third.pk, response="non_concur", reasons="x", responded_on=TODAY, actor=admin_actor
        )


def test_plans_follow_concurrence_and_resolution_needs_one(admin_actor, admin) -> None:
    first = _recs(_memo(admin_actor))[0]
    with pytest.raises(ValidationError) as caught:
        actions.do_add_milestone(
            first.pk, description="x", owner_id=admin.pk, due_on=TODAY, actor=admin_actor
        )
    assert "recommendation" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        actions.do_change_recommendation_status(
            first.pk, status="open_resolved", note="n", on=TODAY, actor=admin_actor
        )
    assert "status" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        actions.do_change_recommendation_status(
            first.pk, status="closed", closure="", note="n", on=TODAY, actor=admin_actor
        )
    assert "closure" in caught.value.message_dict
    assert not Milestone.objects.exists()


def test_bad_milestone_and_evidence_input(admin_actor, admin) -> None:
    rec = _recs(_memo(admin_actor))[2]
    actions.do_respond_to_recommendation(
        rec.pk, response="concur", reasons="", responded_on=TODAY, actor=admin_actor
    )
    start = _head()
    with pytest.raises(ValidationError) as caught:
        actions.do_add_milestone(
            rec.pk,
            description=" ",
            owner_id=999_999,
            due_on=ISSUED - timedelta(days=1),
            actor=admin_actor,
        )
    assert set(caught.value.message_dict) == {"description", "owner", "due_on"}
    milestone = actions.do_add_milestone(
        rec.pk, description="Train.", owner_id=admin.pk, due_on=TODAY, actor=admin_actor
    )
    with pytest.raises(ValidationError) as caught:
        actions.do_complete_milestone(
            milestone.pk, evidence="", done_on=TODAY + timedelta(days=1), actor=admin_actor
        )
    assert set(caught.value.message_dict) == {"evidence", "done_on"}
    with pytest.raises(ValidationError, match="no finding"):
        actions.do_link_finding(rec.pk, 999_999, actor=admin_actor)
    assert _head() == start + 1


# --------------------------------------------------------------------------- pages


def test_the_pages_record_a_memo_and_a_response(role_clients) -> None:
    auditor = role_clients[Role.AUDITOR.value]
    created = auditor.post(
        "/oversight/new/",
        {
            "body": "DHS CRCL",
            "reference": "Complaint No. 20-05-ICE-0474",
            "title": "Facial recognition databases",
            "issued_on": ISSUED.isoformat(),
            "response_days": "120",
            "recommendations": "\r\n\r\n".join(CRCL_TEXTS),
        },
    )
    assert created.status_code == 302
    memo = OversightMemo.objects.get()
    assert created["Location"] == f"/oversight/{memo.pk}/"
    assert [r.text for r in _recs(memo)] == CRCL_TEXTS
    third = _recs(memo)[2]
    refused = auditor.post(
        f"/oversight/recommendations/{third.pk}/respond/",
        {"response": "non_concur", "reasons": "", "responded_on": TODAY.isoformat()},
    )
    assert refused.status_code == 200
    assert "must give its reasons" in refused.content.decode()
    done = auditor.post(
        f"/oversight/recommendations/{third.pk}/respond/",
        {"response": "concur", "reasons": "", "responded_on": TODAY.isoformat()},
    )
    assert done.status_code == 302
    # Everyone reads the register; only keepers see the forms.
    page = role_clients[Role.OFFICER.value].get(f"/oversight/{memo.pk}/").content.decode()
    assert "HSI should ensure it is fulfilling its audit requirements" in page
    assert "Concur" in page
    assert "Record the response" not in page
    listing = role_clients[Role.OVERSIGHT.value].get("/oversight/").content.decode()
    assert "Complaint No. 20-05-ICE-0474" in listing
    assert "response overdue" in listing  # recommendations 1 and 2 still pending


def test_a_published_report_is_linked_as_evidence(admin_actor) -> None:
    rec = _recs(_memo(admin_actor))[2]
    report = do_publish_transparency_report(
        ISSUED, TODAY, 5, agency_title="Demo field office", actor=admin_actor
    )
    start = _head()
    actions.do_link_report(rec.pk, report.pk, actor=admin_actor)
    [entry] = _entries_since(start)
    assert (entry["event"], entry["data"]["report"]) == ("OVERSIGHT_EVIDENCE_LINKED", report.pk)
    assert list(rec.reports.all()) == [report]
    with pytest.raises(ValidationError, match="already linked"):
        actions.do_link_report(rec.pk, report.pk, actor=admin_actor)
    with pytest.raises(ValidationError, match="no published report"):
        actions.do_link_report(rec.pk, 999_999, actor=admin_actor)
    page = selectors.access_memo_by_id(rec.memo_id)
    assert [list(r.reports.all()) for r in page.recommendations][2] == [report]
