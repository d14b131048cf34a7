"""Set-up for reconciliation tests with a database: the searches' world (a unit, its
supervisor ``boss`` and officer ``searcher``, both able to search mirs), a private home for
the event files, mirs's log mapping, and a helper that imports a log of given rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from searchledger.apps.accesslogs.actions import (
    do_import_access_log,
    do_map_external_account,
    do_set_column_mapping,
)
from searchledger.apps.accesslogs.models import AccessLogImport, ExternalAccount
from searchledger.apps.accesslogs.tests.conftest import HEADER, MAPPING
from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.searches.tests.conftest import sworld  # noqa: F401  # the shared fixture

Row = tuple[str, datetime, str, str, str]  # account, time, action, query, case


@pytest.fixture(autouse=True)
def home(tmp_path: Path, settings) -> Path:
    """Event files go under a private home directory."""
    settings.HOME = tmp_path / "home"
    settings.HOME.mkdir()
    settings.SEARCHLEDGER_ACCESS_LOG_SYNC = True
    return settings.HOME


@pytest.fixture
def import_log(sworld, admin_actor, tmp_path) -> Callable[..., AccessLogImport]:  # noqa: F811
    """Import a mirs log of ``rows`` and map external accounts to people by ``links``."""
    do_set_column_mapping("mirs", MAPPING, actor=admin_actor)

    def run(rows: list[Row], links: dict[str, int], name: str = "mirs.csv") -> AccessLogImport:
        text = HEADER + "".join(
            f"{account},{when.isoformat()},{action},{query},{case}\n"
            for account, when, action, query, case in rows
        )
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        log = do_import_access_log("mirs", path, original_name=name, actor=admin_actor)
        assert log.failure == ""
        for external_id, person in links.items():
            external = ExternalAccount.objects.get(system__code="mirs", external_id=external_id)
            if external.account_id != person:
                do_map_external_account(external.pk, person, actor=admin_actor)
        return log

    return run
