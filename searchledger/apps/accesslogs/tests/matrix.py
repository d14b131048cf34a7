"""The access-logs part of the authorization matrix's world
(web/tests/test_authorization.py): a column mapping for "mirs", one completed import of a
small log (with one rejected row, so that it has a rejects report) and its two external
accounts, one of them mapped to the officer."""

from __future__ import annotations

import tempfile
from pathlib import Path

from searchledger.apps.accesslogs.actions import (
    do_import_access_log,
    do_map_external_account,
    do_set_column_mapping,
)
from searchledger.apps.accesslogs.models import ExternalAccount
from searchledger.core.accesslogs import MappingSpec
from searchledger.core.actor import Actor

__all__ = ["ACCESS_LOG_MAPPING_FORM", "SAMPLE_ACCESSLOG_CONTEXT", "build_accesslog_world"]

# For test_example_paths_resolve_to_their_pattern.
SAMPLE_ACCESSLOG_CONTEXT = {"log_import": 21, "external": 22, "mapped_external": 23}

# A mapping form that differs from the world's mapping, so that saving it is a new version.
ACCESS_LOG_MAPPING_FORM = {
    "format": "csv",
    "delimiter": ",",
    "encoding": "utf-8",
    "account_id": "user",
    "timestamp": "when",
    "action": "what",
    "reference": "query",
    "naive_timezone": "America/New_York",
    "search_actions": "search, lookup",
}

_LOG = (
    "user,when,what,query\n"
    "stranger,2026-03-01T10:00:00Z,search,Q1\n"
    "known,2026-03-01T11:00:00Z,search,Q2\n"
    "known,not a time,search,Q3\n"
)


def build_accesslog_world(admin_actor: Actor, officer_id: int) -> dict[str, object]:
    """Build the access-logs world and return the probe context it adds: ``{log_import}``
    (a completed import of mirs's log), ``{external}`` (an unmapped external account that
    searched) and ``{mapped_external}`` (one mapped to the officer)."""
    do_set_column_mapping(
        "mirs",
        MappingSpec(
            account_column="user",
            timestamp_column="when",
            action_column="what",
            reference_column="query",
            search_actions=("search",),
        ),
        actor=admin_actor,
    )
    source = Path(tempfile.mkdtemp(prefix="matrix-log-")) / "mirs.csv"
    source.write_text(_LOG, encoding="utf-8")
    log = do_import_access_log("mirs", source, original_name="mirs.csv", actor=admin_actor)
    assert log.status == "completed", log.failure
    stranger = ExternalAccount.objects.get(system__code="mirs", external_id="stranger")
    known = ExternalAccount.objects.get(system__code="mirs", external_id="known")
    do_map_external_account(known.pk, officer_id, actor=admin_actor)
    return {"log_import": log.pk, "external": stranger.pk, "mapped_external": known.pk}
