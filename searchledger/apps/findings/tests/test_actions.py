"""Findings: raising (the contract reconciliation and reviews call), and the lifecycle."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.actions import do_deactivate_account
from searchledger.apps.findings import actions
from searchledger.apps.findings.models import Finding
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.support import (
    actor_for,
    entries_since,
    events_since,
    head,
    request,
)
from searchledger.core.actor import Actor
from searchledger.core.reviews import Severity, finding_due

DRAFT = actions.FindingDraft(
    source="reconciliation",
    kind="undocumented_search",
    severity="high",
    summary="An external search by Searcher with no documented search.",
    source_ref="import:abc:line:17",
    detail={"external_account": "jdoe7", "line": 17, "timestamp": "2026-03-02T10:00:00Z"},
)


def draft(fworld, **change):
    return replace(DRAFT, subject_id=fworld["searcher"].pk, system_id=fworld["system"].pk, **change)


def raise_as_system(d):
    with transaction.atomic():
        return actions.raise_finding(d, actor=Actor.system())


def test_raising_routes_to_the_supervisor_and_writes_one_entry(fworld):
    start = head()
    finding, created = raise_as_system(draft(fworld))
    assert created
    assert finding.owner == fworld["boss"]
    assert finding.org_unit == fworld["unit"]
    assert finding.status == "open"
    assert finding.due == finding_due(timezone.localdate(), Severity.HIGH)
    assert events_since(start) == ["FINDING_RAISED"]
    entry = entries_since(start)[0]
    assert entry["data"]["owner"] == fworld["boss"].pk
    assert entry["data"]["subject"] == fworld["searcher"].pk
    assert entry["data"]["system"] == "mirs"
    body = json.dumps(entry)
    assert "jdoe7" not in body
    assert "Searcher with no documented" not in body
    assert set(entry["commitments"]) == {"summary", "source_ref", "detail"}


def test_raising_the_same_source_ref_again_writes_nothing(fworld):
    first, _ = raise_as_system(draft(fworld))
    start = head()
    again, created = raise_as_system(draft(fworld, summary="something else"))
    assert (again.pk, created) == (first.pk, False)
    assert head() == start
    # The same reference from the other source is another finding.
    _, created = raise_as_system(draft(fworld, source="review"))
    assert created


def test_a_subject_without_an_active_supervisor_is_unassigned(fworld, admin_actor):
    do_deactivate_account(fworld["boss"].pk, actor=admin_actor, reason="left")
    finding, _ = raise_as_system(draft(fworld))
    assert finding.owner is None
    nobody, _ = raise_as_system(replace(DRAFT, source_ref="x"))
    assert nobody.owner is None
    assert nobody.subject is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "gossip"}, "source"),
        ({"kind": "Not A Slug"}, "kind"),
        ({"severity": "dire"}, "severity"),
        ({"summary": "  "}, "summary"),
        ({"summary": "two\nlines"}, "summary"),
        ({"source_ref": ""}, "source_ref"),
        ({"subject_id": 999999}, "subject"),
        ({"system_id": 999999}, "system"),
        ({"search_id": 999999}, "search"),
        ({"org_unit_id": 999999}, "org_unit"),
        ({"detail": {"x": 1.5}}, "detail"),
        ({"due": timezone.localdate() - timedelta(days=1)}, "due"),
    ],
)
def test_bad_drafts_name_the_field_and_write_nothing(fworld, change, field):
    start = head()
    with pytest.raises(ValidationError) as caught:
        raise_as_system(replace(DRAFT, **change))
    assert field in caught.value.message_dict
    assert head() == start
    assert not Finding.objects.exists()


def test_a_search_fills_in_subject_system_and_unit(fworld):
    search = searches.do_request_search(request(), actor=actor_for(fworld["searcher"]))
    finding, _ = raise_as_system(replace(DRAFT, search_id=search.pk, source_ref="s"))
    assert finding.subject == fworld["searcher"]
    assert finding.system == fworld["system"]
    assert finding.org_unit == fworld["unit"]
    assert finding.owner == fworld["boss"]


def test_do_raise_finding_by_hand_is_permission_and_scope_checked(fworld):
    start = head()
    for who in ("searcher", "overseer", "other_supervisor"):
        with pytest.raises(PermissionDenied):
            actions.do_raise_finding(draft(fworld, source="review"), actor=actor_for(fworld[who]))
    assert head() == start
    finding = actions.do_raise_finding(
        draft(fworld, source="review", source_ref=""), actor=actor_for(fworld["boss"])
    )
    assert finding.source_ref.startswith("manual-")
    assert finding.raised_by == fworld["boss"]
    assert events_since(start) == ["FINDING_RAISED"]
    with pytest.raises(ValidationError):
        actions.do_raise_finding(
            draft(fworld, source="review", source_ref=finding.source_ref),
            actor=actor_for(fworld["auditor"]),
        )
    assert events_since(start) == ["FINDING_RAISED"]


def test_the_lifecycle(fworld):
    finding, _ = raise_as_system(draft(fworld))
    boss, auditor = actor_for(fworld["boss"]), actor_for(fworld["auditor"])
    start = head()
    actions.do_record_remediation(finding.pk, "Retrained on documentation.", actor=boss)
    actions.do_close_finding(finding.pk, "remediated", note="Documented late.", actor=boss)
    actions.do_reopen_finding(finding.pk, reason="More searches found.", actor=auditor)
    actions.do_assign_finding(finding.pk, fworld["supervisor"].pk, actor=auditor)
    actions.do_assign_finding(finding.pk, None, actor=auditor)
    actions.do_close_finding(finding.pk, "confirmed_misuse", note="Referred.", actor=auditor)
    assert events_since(start) == [
        "FINDING_REMEDIATION_RECORDED",
        "FINDING_CLOSED",
        "FINDING_REOPENED",
        "FINDING_ASSIGNED",
        "FINDING_ASSIGNED",
        "FINDING_CLOSED",
    ]
    finding.refresh_from_db()
    assert (finding.status, finding.resolution, finding.owner) == (
        "closed",
        "confirmed_misuse",
        None,
    )
    body = json.dumps(entries_since(start))
    assert "Retrained" not in body
    assert "Referred" not in body


def test_lifecycle_refusals_write_nothing(fworld):
    finding, _ = raise_as_system(draft(fworld))
    start = head()
    with pytest.raises(PermissionDenied):  # about themself
        actions.do_record_remediation(finding.pk, "x", actor=actor_for(fworld["searcher"]))
    with pytest.raises(PermissionDenied):  # read-only
        actions.do_close_finding(
            finding.pk, "no_issue", note="x", actor=actor_for(fworld["overseer"])
        )
    with pytest.raises(PermissionDenied):  # another unit
        actions.do_close_finding(
            finding.pk, "no_issue", note="x", actor=actor_for(fworld["other_supervisor"])
        )
    boss = actor_for(fworld["boss"])
    with pytest.raises(ValidationError) as caught:
        actions.do_close_finding(finding.pk, "remediated", note="x", actor=boss)
    assert "resolution" in caught.value.message_dict
    with pytest.raises(ValidationError):
        actions.do_close_finding(finding.pk, "no_issue", note=" ", actor=boss)
    with pytest.raises(ValidationError):
        actions.do_reopen_finding(finding.pk, reason="x", actor=boss)
    with pytest.raises(ValidationError):  # the subject cannot own it
        actions.do_assign_finding(finding.pk, fworld["searcher"].pk, actor=boss)
    with pytest.raises(ValidationError):  # another unit's supervisor
        actions.do_assign_finding(finding.pk, fworld["other_supervisor"].pk, actor=boss)
    assert head() == start


def test_escalation_goes_to_the_owners_supervisor_once(fworld):
    today = timezone.localdate()
    finding, _ = raise_as_system(draft(fworld, due=today))
    queued, _ = raise_as_system(replace(DRAFT, source_ref="nobody", due=today))
    later, _ = raise_as_system(draft(fworld, source_ref="later"))
    start = head()
    with pytest.raises(PermissionDenied):
        actions.do_escalate_overdue_findings(actor=actor_for(fworld["auditor"]), today=today)
    assert actions.do_escalate_overdue_findings(actor=Actor.system(), today=today) == []
    tomorrow = today + timedelta(days=1)
    done = actions.do_escalate_overdue_findings(actor=Actor.system(), today=tomorrow)
    assert [f.pk for f in done] == [finding.pk, queued.pk]
    assert events_since(start) == ["FINDING_ESCALATED", "FINDING_ESCALATED"]
    finding.refresh_from_db()
    assert finding.escalated_to == fworld["supervisor"]  # boss's own supervisor
    assert finding.owner == fworld["boss"]
    assert actions.do_escalate_overdue_findings(actor=Actor.system(), today=tomorrow) == []
    assert events_since(start) == ["FINDING_ESCALATED", "FINDING_ESCALATED"]
    assert later.escalated_at is None


def test_export_is_logged(fworld):
    finding, _ = raise_as_system(draft(fworld))
    start = head()
    with pytest.raises(PermissionDenied):
        actions.do_log_findings_export(
            [finding.pk], system_id=None, actor=actor_for(fworld["searcher"]), channel="web"
        )
    actions.do_log_findings_export(
        [finding.pk],
        system_id=fworld["system"].pk,
        actor=actor_for(fworld["overseer"]),
        channel="web",
    )
    assert events_since(start) == ["FINDING_EXPORTED"]
