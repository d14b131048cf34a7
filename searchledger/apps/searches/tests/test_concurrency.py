"""Two sessions documenting the same outcome at the same moment: exactly one wins.

Runs on whichever database the suite uses: PostgreSQL serialises the two on the record's
row lock (``SELECT ... FOR UPDATE``), SQLite on ``BEGIN IMMEDIATE``. The data must be
committed for the other threads' connections to see it, hence ``transaction=True``.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import SearchRecord, SearchVetting

from .support import actor_for, request

ATTEMPTS = 4


@pytest.mark.django_db(transaction=True)
def test_an_outcome_posted_twice_at_once_is_recorded_once(sworld):
    officer = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(officer))
    start = LedgerEntry.objects.count()
    barrier = threading.Barrier(ATTEMPTS)
    results: list[str] = []

    def post(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            actions.do_document_outcome(
                search.pk,
                actions.SearchOutcome(
                    searched_at=timezone.now(),
                    candidates_returned=n + 1,
                    lead_derived=True,
                    further_action=f"attempt {n}",
                    vettings=[actions.VettingInput(officer.pk, "match_confirmed")],
                ),
                actor=actor_for(officer),
            )
            results.append("ok")
        except ValidationError as error:
            results.append(" ".join(error.message_dict["search"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == ATTEMPTS
    assert results.count("ok") == 1
    assert all("already documented" in r for r in results if r != "ok")
    assert LedgerEntry.objects.count() == start + 1
    assert SearchVetting.objects.filter(search=search).count() == 1
    assert SearchRecord.objects.get(pk=search.pk).status == "documented"
    assert verify_ledger(load_verifier()).entries == LedgerEntry.objects.count()
