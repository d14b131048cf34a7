"""Helpers shared by grant tests."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.grants import actions
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

RULES = (
    "Search only to advance an existing lead in an open case; never for First Amendment activity."
)


def actor_for(account: Account) -> Actor:
    return Actor(account_id=account.pk, role=Role(account.role))


def events_since(seq: int) -> list[str]:
    return [json.loads(e.body)["event"] for e in LedgerEntry.objects.filter(seq__gte=seq)]


def request(world, actor, account=None):
    today = timezone.localdate()
    return actions.do_request_grant(
        account_id=(account or world["officer"]).pk,
        system_code="mirs",
        job_function="Deportation officer, fugitive operations",
        justification="Identify subjects of open fugitive cases from existing leads.",
        starts_on=today,
        expires_on=today + timedelta(days=365),
        external_account_id="MD-7781",
        actor=actor,
    )
