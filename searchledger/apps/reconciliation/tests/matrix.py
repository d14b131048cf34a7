"""The reconciliation part of the authorization matrix's world
(web/tests/test_authorization.py): one run over the access-logs world's import of mirs's
log (1 March 2026), which finds its unknown account and raises the finding."""

from __future__ import annotations

from datetime import date

from searchledger.apps.reconciliation.actions import do_reconcile
from searchledger.core.actor import Actor

__all__ = ["RECONCILE_FORM", "SAMPLE_RECONCILIATION_CONTEXT", "build_reconciliation_world"]

# For test_example_paths_resolve_to_their_pattern.
SAMPLE_RECONCILIATION_CONTEXT = {"recon_run": 24}

# Reconciling the same day again: the findings exist already, so only the run's entry.
RECONCILE_FORM = {"system": "mirs", "start": "2026-03-01", "end": "2026-03-01", "tolerance": "30"}


def build_reconciliation_world(admin_actor: Actor) -> dict[str, object]:
    """Build the reconciliation world (after the access-logs world) and return the probe
    context it adds: ``{recon_run}``."""
    day = date(2026, 3, 1)
    run = do_reconcile("mirs", start=day, end=day, actor=admin_actor)
    assert run.counts["unknown_account"] == 1, run.counts
    return {"recon_run": run.pk}
