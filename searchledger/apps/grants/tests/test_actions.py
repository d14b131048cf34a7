"""Grants, training and rules of behaviour through the actions, and the access answer."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.grants import actions, selectors
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.systems.actions import do_publish_rules
from searchledger.apps.training.actions import (
    do_acknowledge_rules,
    do_record_completion,
)
from searchledger.core.access import Reason

from .support import RULES, actor_for, events_since, request

pytestmark = pytest.mark.django_db


def test_grant_comes_into_force_only_with_training_and_rules(world, admin_actor):
    officer, supervisor = world["officer"], world["supervisor"]
    start = LedgerEntry.objects.count()
    grant = request(world, actor_for(officer))
    decision = selectors.check_access(officer, world["system"])
    assert decision.reasons == (
        Reason.GRANT_NOT_APPROVED,
        Reason.TRAINING_MISSING,
        Reason.RULES_NOT_ACKNOWLEDGED,
    )
    actions.do_approve_grant(grant.pk, actor=actor_for(supervisor), reason="needed")
    do_record_completion(
        officer.pk,
        course_code="privacy",
        completed_on=timezone.localdate(),
        evidence="certificate 2026-113",
        actor=admin_actor,
    )
    assert selectors.check_access(officer, world["system"]).reasons == (
        Reason.RULES_NOT_ACKNOWLEDGED,
    )
    do_acknowledge_rules(world["rules"].pk, actor=actor_for(officer))
    assert selectors.check_access(officer, world["system"]).allowed
    assert events_since(start) == [
        "GRANT_REQUESTED",
        "GRANT_APPROVED",
        "TRAINING_COMPLETED",
        "TRAINING_RULES_ACKNOWLEDGED",
    ]
    requested = json.loads(LedgerEntry.objects.get(seq=start).body)
    assert "MD-7781" not in LedgerEntry.objects.get(seq=start).body
    assert set(requested["commitments"]) == {"job_function", "justification", "external_account_id"}
    # A new rules version puts the grant out of force until it is acknowledged again.
    do_publish_rules(world["system"].pk, text=RULES + " Version two.", actor=admin_actor)
    assert selectors.check_access(officer, world["system"]).reasons == (
        Reason.RULES_NOT_ACKNOWLEDGED,
    )
    assert verify_ledger(load_verifier()).entries == LedgerEntry.objects.count()


def test_only_the_supervisor_or_an_administrator_decides(world):
    grant = request(world, actor_for(world["officer"]))
    before = LedgerEntry.objects.count()
    for who in ("officer", "colleague", "other_supervisor"):
        with pytest.raises(PermissionDenied):
            actions.do_approve_grant(grant.pk, actor=actor_for(world[who]))
    assert LedgerEntry.objects.count() == before
    assert AccessGrant.objects.get(pk=grant.pk).status == "requested"


def test_no_one_approves_their_own_grant(world, admin, admin_actor):
    grant = request(world, admin_actor, account=admin)
    with pytest.raises(PermissionDenied, match="own access grant"):
        actions.do_approve_grant(grant.pk, actor=admin_actor)


def test_officer_may_request_only_for_themself(world):
    with pytest.raises(PermissionDenied):
        request(world, actor_for(world["officer"]), account=world["colleague"])
    # The supervisor of another office may not request for Baltimore's officers either.
    with pytest.raises(PermissionDenied):
        request(world, actor_for(world["other_supervisor"]))
    request(world, actor_for(world["supervisor"]))


def test_bad_requests_name_the_field_and_write_nothing(world):
    before = LedgerEntry.objects.count(), AccessGrant.objects.count()
    today = timezone.localdate()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"system_code": "nope"}, "system"),
        ({"justification": "short"}, "justification"),
        ({"job_function": " "}, "job_function"),
        ({"expires_on": today - timedelta(days=1)}, "expires_on"),
        ({"expires_on": today + timedelta(days=5000)}, "expires_on"),
        ({"account_id": 987654}, "account"),
    ]
    for change, field_name in cases:
        arguments: dict[str, Any] = {
            "account_id": world["officer"].pk,
            "system_code": "mirs",
            "job_function": "Officer",
            "justification": "Identify subjects of open cases from existing leads.",
            "starts_on": today,
            "expires_on": today + timedelta(days=30),
        }
        arguments.update(change)
        with pytest.raises(ValidationError) as info:
            actions.do_request_grant(**arguments, actor=actor_for(world["supervisor"]))
        assert field_name in info.value.message_dict
    assert (LedgerEntry.objects.count(), AccessGrant.objects.count()) == before


def test_one_open_grant_per_system(world):
    request(world, actor_for(world["officer"]))
    with pytest.raises(ValidationError, match="already has an open grant"):
        request(world, actor_for(world["officer"]))


def test_refuse_revoke_recertify(world):
    supervisor = actor_for(world["supervisor"])
    grant = request(world, actor_for(world["officer"]))
    with pytest.raises(ValidationError, match="reason"):
        actions.do_refuse_grant(grant.pk, actor=supervisor, reason=" ")
    actions.do_refuse_grant(grant.pk, actor=supervisor, reason="no open case needs it")
    assert selectors.check_access(world["officer"], world["system"]).reasons[0] is (
        Reason.GRANT_REFUSED
    )
    with pytest.raises(ValidationError, match="not awaiting a decision"):
        actions.do_approve_grant(grant.pk, actor=supervisor)
    second = request(world, actor_for(world["officer"]))
    actions.do_approve_grant(second.pk, actor=supervisor)
    new_expiry = timezone.localdate() + timedelta(days=400)
    actions.do_recertify_grant(
        second.pk, actor=supervisor, reason="still on the task force", expires_on=new_expiry
    )
    assert AccessGrant.objects.get(pk=second.pk).expires_on == new_expiry
    actions.do_revoke_grant(second.pk, actor=supervisor, reason="transferred")
    assert selectors.check_access(world["officer"], world["system"]).reasons[0] is (
        Reason.GRANT_REVOKED
    )
    with pytest.raises(ValidationError):
        actions.do_revoke_grant(second.pk, actor=supervisor, reason="again")


def test_overview_counts_in_force_lapsed_and_pending(world, admin_actor):
    officer, colleague, supervisor = world["officer"], world["colleague"], world["supervisor"]
    for person in (officer, colleague):
        grant = request(world, actor_for(supervisor), account=person)
        actions.do_approve_grant(grant.pk, actor=actor_for(supervisor))
        do_acknowledge_rules(world["rules"].pk, actor=actor_for(person))
    do_record_completion(
        officer.pk,
        course_code="privacy",
        completed_on=timezone.localdate(),
        evidence="cert 1",
        actor=admin_actor,
    )
    do_record_completion(
        colleague.pk,
        course_code="privacy",
        completed_on=timezone.localdate() - timedelta(days=400),
        evidence="cert 2",
        actor=admin_actor,
    )
    request(world, actor_for(supervisor), account=supervisor)
    summary = next(
        s for s in selectors.access_overview(Account.objects.all()) if s.system.code == "mirs"
    )
    assert [s.grant.account.username for s in summary.in_force] == ["off"]
    assert [s.grant.account.username for s in summary.lapsed] == ["off2"]
    assert summary.lapsed[0].decision.reasons == (Reason.TRAINING_LAPSED,)
    assert [g.account.username for g in summary.pending] == ["sup"]
    work = selectors.work_list(Account.objects.all())
    assert any("Training lapses (Privacy training): off2" in w.what and w.overdue for w in work)
    assert any(w.what.startswith("Decide the request: sup") for w in work)


def test_rules_acknowledgment_only_for_the_current_version(world, admin_actor):
    old = world["rules"]
    do_publish_rules(world["system"].pk, text=RULES + " Amended.", actor=admin_actor)
    with pytest.raises(ValidationError, match="not the current version"):
        do_acknowledge_rules(old.pk, actor=actor_for(world["officer"]))
    with pytest.raises(ValidationError, match="identical"):
        do_publish_rules(world["system"].pk, text=RULES + " Amended.", actor=admin_actor)


def test_completion_cannot_be_in_the_future_or_without_evidence(world, admin_actor):
    with pytest.raises(ValidationError) as info:
        do_record_completion(
            world["officer"].pk,
            course_code="privacy",
            completed_on=timezone.localdate() + timedelta(days=3),
            evidence="",
            actor=admin_actor,
        )
    assert set(info.value.message_dict) == {"completed_on", "evidence"}
