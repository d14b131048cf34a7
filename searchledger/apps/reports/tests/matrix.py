"""The reports part of the authorization matrix's world (web/tests/test_authorization.py):
one published transparency report, so that its public pages (HTML, CSV, PDF) can be
probed, and the form that publishes another."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.core.actor import Actor

__all__ = ["PUBLISH_FORM", "SAMPLE_REPORT_CONTEXT", "build_report_world"]

# For test_example_paths_resolve_to_their_pattern.
SAMPLE_REPORT_CONTEXT = {"published_report": 41}

# Publishing today's report (the world's ledger has entries today); {today} is filled in.
PUBLISH_FORM = {
    "publish-start": "{today}",
    "publish-end": "{today}",
    "publish-threshold": "5",
    "publish-agency_title": "Example Agency",
}


def build_report_world(admin_actor: Actor) -> dict[str, object]:
    """Publish a report of the last week and return the probe context it adds:
    ``{published_report}``."""
    today = timezone.localdate()
    published = do_publish_transparency_report(
        today - timedelta(days=6), today, 5, agency_title="Example Agency", actor=admin_actor
    )
    return {"published_report": published.pk}
