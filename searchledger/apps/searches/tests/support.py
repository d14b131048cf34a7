"""Helpers shared by search tests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.utils import timezone

from searchledger.apps.accounts.actions import do_assign_account, do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.grants import actions as grants
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import SearchRecord, SearchVetting
from searchledger.apps.training.actions import do_acknowledge_rules, do_record_completion
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

REQUEST = actions.SearchRequest(
    system_code="mirs",
    purpose="robbery",
    case_system="ICM",
    case_number="BAL-2026-0042",
    lead_posture="advances_existing",
    techniques_tried=["government_databases", "open_source"],
    probe_source="surveillance_still",
    probe_lawfully_obtained=True,
    attested_not_protected=True,
    techniques_notes="NCIC and county records: no name for the person on the bank video.",
    justification="Bank robbery on 3 Nov; suspect seen on the branch camera.",
)


def actor_for(account: Account) -> Actor:
    return Actor(account_id=account.pk, role=Role(account.role))


def entries_since(seq: int) -> list[dict[str, Any]]:
    return [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=seq).order_by("seq")]


def events_since(seq: int) -> list[str]:
    return [e["event"] for e in entries_since(seq)]


def head() -> int:
    return LedgerEntry.objects.count()


def counts() -> tuple[int, int, int]:
    return LedgerEntry.objects.count(), SearchRecord.objects.count(), SearchVetting.objects.count()


def request(**change: Any) -> actions.SearchRequest:
    return replace(REQUEST, **change)


def make_searcher(
    world,
    admin_actor: Actor,
    username: str,
    *,
    role: Role = Role.OFFICER,
    unit: str = "bal-fug",
    supervisor: Account | None = None,
    trained_days_ago: int = 0,
    email: str = "",
) -> Account:
    """A person in ``unit`` with a grant to mirs in force (training done ``trained_days_ago``
    days ago, rules acknowledged)."""
    person = do_create_account(
        username=username,
        role=role,
        password=None,
        full_name=username.title(),
        email=email,
        actor=admin_actor,
        reason="test",
    )
    do_assign_account(
        person.pk,
        org_unit_code=unit,
        supervisor_id=supervisor.pk if supervisor else None,
        actor=admin_actor,
    )
    today = timezone.localdate()
    grant = grants.do_request_grant(
        account_id=person.pk,
        system_code="mirs",
        job_function="Investigator",
        justification="Identify suspects in open robbery cases from surveillance stills.",
        starts_on=today - timedelta(days=30),
        expires_on=today + timedelta(days=300),
        actor=admin_actor,
    )
    grants.do_approve_grant(grant.pk, actor=admin_actor, reason="needed")
    do_record_completion(
        person.pk,
        course_code="privacy",
        completed_on=today - timedelta(days=trained_days_ago),
        evidence="certificate",
        actor=admin_actor,
    )
    do_acknowledge_rules(world["rules"].pk, actor=actor_for(person))
    person.refresh_from_db()
    return person
