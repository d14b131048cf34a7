"""The demo scenario, loaded the way `make demo` loads it: every record through the actions,
the ledger verifies, and reconciling the state dashboard's access log finds exactly what the
demo planted in it, nothing more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.oversight.models import Recommendation
from searchledger.apps.reconciliation.models import Discrepancy, ReconciliationRun
from searchledger.demo import load_demo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_home(tmp_path: Path, settings) -> Path:  # pytest-django's fixture
    settings.HOME = str(tmp_path)
    return tmp_path


def test_the_demo_loads_verifies_and_reconciliation_finds_what_was_planted(demo_home) -> None:
    said = list(load_demo())
    assert said[0].startswith("created 42 accounts")
    assert any(line.startswith("access log:") for line in said)
    assert verify_ledger(load_verifier()).entries > 1500

    key = json.loads((Path(settings.HOME) / "demo" / "md-dashboard-mirs-planted.json").read_text())
    [run] = ReconciliationRun.objects.all()
    found = list(Discrepancy.objects.filter(run=run))

    def kinds(kind: str) -> list[Discrepancy]:
        return [d for d in found if d.kind == kind]

    assert sorted(d.search_id or 0 for d in kinds("no_external_event")) == key["no_external_event"]
    assert [d.search_id for d in kinds("case_mismatch")] == key["case_mismatch"]
    assert [d.search_id for d in kinds("searched_after_refusal")] == key["searched_after_refusal"]
    [unknown] = kinds("unknown_account")
    assert unknown.external_account == key["unknown_account"]["account"]
    undocumented = sorted(
        (d.external_account, d.detail["time"]) for d in kinds("undocumented_search")
    )
    assert undocumented == sorted((u["account"], u["time"]) for u in key["undocumented_search"])
    # The only other discrepancy: the planted late-night search is also out of hours.
    late = max(key["undocumented_search"], key=lambda u: u["time"][11:])
    assert [(d.external_account, d.detail["time"]) for d in kinds("out_of_hours")] == [
        (late["account"], late["time"])
    ]
    assert {d.kind for d in found} == {
        "no_external_event",
        "case_mismatch",
        "searched_after_refusal",
        "unknown_account",
        "undocumented_search",
        "out_of_hours",
    }
    # Each discrepancy raised its finding; the CRCL memo is in the register.
    assert Finding.objects.filter(source="reconciliation").count() == len(found)
    assert (
        Recommendation.objects.filter(memo__reference="Complaint No. 20-05-ICE-0474").count() == 3
    )
    # Loading again changes nothing.
    assert next(iter(load_demo())) == "demo scenario already loaded"
