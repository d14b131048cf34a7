"""Reads of reconciliation runs, for the pages and the CLI. Everyone who may reconcile
(``RECONCILE``: auditors and administrators) reads every run."""

from __future__ import annotations

from django.db.models import QuerySet

from searchledger.apps.authz import require
from searchledger.apps.reconciliation.models import Discrepancy, ReconciliationRun
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission

__all__ = ["REPORT_LIMIT", "access_run_by_id", "list_discrepancies", "list_runs"]

# Discrepancies shown per kind on a run's page (all of them are findings, listed there).
REPORT_LIMIT = 200


def list_runs(actor: Actor) -> QuerySet[ReconciliationRun]:
    """Every run, newest first; PermissionDenied without ``RECONCILE``."""
    require(actor, Permission.RECONCILE)
    return ReconciliationRun.objects.select_related("system", "run_by").order_by(
        "-started_at", "-pk"
    )


def access_run_by_id(run_id: int, actor: Actor) -> ReconciliationRun | None:
    """One run, or None if there is no such run; PermissionDenied without ``RECONCILE``."""
    return list_runs(actor).filter(pk=run_id).first()


def list_discrepancies(run: ReconciliationRun, kind: str | None = None) -> QuerySet[Discrepancy]:
    """A run's discrepancies in report order (kind, time), optionally of one kind."""
    rows = Discrepancy.objects.filter(run=run).select_related("person", "search", "finding")
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("kind", "time", "pk")
