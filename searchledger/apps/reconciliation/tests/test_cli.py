"""The ``searchledger reconcile`` command: a summary table, phases on stderr, refusals
with their reasons and exit 2."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from searchledger.apps.reconciliation.models import ReconciliationRun
from searchledger.cli import main

pytestmark = pytest.mark.django_db


def test_reconcile_prints_the_summary(sworld, import_log, admin, capsys):
    now = timezone.now()
    import_log([("ghost", now - timedelta(minutes=5), "search", "Q1", "")], {})
    today = timezone.localdate()
    args = ["reconcile", "mirs", "--from", str(today - timedelta(days=1)), "--to", str(today)]
    code = main([*args, "--tolerance", "10", "--actor", "admin"])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = ReconciliationRun.objects.get()
    assert run.parameters["tolerance_minutes"] == 10
    assert f"reconciliation {run.pk} of mirs" in out
    assert "unknown_account" in out
    assert "total                            1" in out
    assert run.digest in out
    assert "matching against" in err


def test_reconcile_refusals_exit_2_with_the_reason(sworld, admin, capsys):
    code = main(["reconcile", "mirs", "--from", "2026-03-02", "--to", "2026-03-01"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "ends before it starts" in err
    code = main(
        ["reconcile", "mirs", "--from", "2026-03-01", "--to", "2026-03-01", "--actor", "sup"]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert "may not" in err
    assert ReconciliationRun.objects.count() == 0
