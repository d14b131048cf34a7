"""PostgreSQL: deciding or documenting a search, or deciding a grant, locks that record and
nothing it refers to; changing an account, a system or a purpose locks its row FOR NO KEY
UPDATE, which records referring to it do not wait for.

A request inserts a search record that refers to the officer, the system, the policy and
the purpose; PostgreSQL checks those foreign keys at COMMIT (Django's constraints are
deferred), taking FOR KEY SHARE on each referenced row, after the request took the ledger
head. An action that locked the record with the joined rows FOR UPDATE and then waited for
the head deadlocked against it: the load scenario (bench/load_scenario.py) saw 500s with
"deadlock detected" under 50 users. Here another transaction holds FOR KEY SHARE on those
rows, as the request's checks do, and the action must not wait for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from searchledger.apps.accounts.actions import do_assign_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.grants import actions as grants
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import OffenceCategory, SearchPolicy
from searchledger.apps.systems.actions import do_publish_rules
from searchledger.apps.systems.models import ExternalSystem

from .support import actor_for, request

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def rows_key_shared(*rows: Model) -> Iterator[None]:
    """Hold FOR KEY SHARE on ``rows`` in another transaction, with a short lock timeout on
    ours, so that an action that would wait for them fails instead of hanging."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole transactions")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other:
        for row in rows:
            table = type(row)._meta.db_table
            other.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR KEY SHARE', [row.pk])  # noqa: S608  # table names from the models
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
            other.rollback()


def test_documenting_an_outcome_does_not_lock_the_rows_the_record_refers_to(sworld):
    searcher = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(searcher))
    assert search.status == "authorised"
    referred = [
        Account.objects.get(pk=searcher.pk),
        ExternalSystem.objects.get(code="mirs"),
        SearchPolicy.objects.get(pk=search.policy_id),
        OffenceCategory.objects.get(pk=search.purpose_id),
    ]
    outcome = actions.SearchOutcome(
        searched_at=timezone.now(),
        candidates_returned=0,
        lead_derived=False,
        further_action="No lead.",
        vettings=[],
    )
    with rows_key_shared(*referred):
        documented = actions.do_document_outcome(search.pk, outcome, actor=actor_for(searcher))
    assert documented.status == "documented"


def test_deciding_a_grant_does_not_lock_the_account_or_the_system(world, admin_actor):
    officer = world["officer"]
    today = timezone.localdate()
    grant = grants.do_request_grant(
        account_id=officer.pk,
        system_code="mirs",
        job_function="Investigator",
        justification="Identify suspects in open cases.",
        starts_on=today,
        expires_on=today + timedelta(days=30),
        actor=admin_actor,
    )
    with rows_key_shared(Account.objects.get(pk=officer.pk), world["system"]):
        approved = grants.do_approve_grant(grant.pk, actor=admin_actor, reason="needed")
    assert approved.status == "approved"


def test_changing_an_account_a_system_or_a_purpose_does_not_wait_for_records_referring_to_them(
    sworld, admin_actor
):
    searcher = sworld["searcher"]
    system = ExternalSystem.objects.get(code="mirs")
    purpose = OffenceCategory.objects.get(code="robbery")
    with rows_key_shared(Account.objects.get(pk=searcher.pk), system, purpose):
        do_assign_account(
            searcher.pk,
            org_unit_code="bal-fug",
            supervisor_id=sworld["boss"].pk,
            job_title="Senior investigator",
            actor=admin_actor,
        )
        do_publish_rules(
            system.pk, text="Version 2: search only for open cases.", actor=admin_actor
        )
        actions.do_retire_offence_category("robbery", actor=admin_actor)
    assert Account.objects.get(pk=searcher.pk).job_title == "Senior investigator"
