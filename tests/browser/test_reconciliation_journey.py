"""Issue 5's reconciliation journey in a real browser: an administrator uploads a system's
access log, reconciles it, sees the discrepancies (an officer's undocumented search and an
unknown account), opens the officer's finding and resolves it."""

from __future__ import annotations

import pytest

from searchledger.apps.accesslogs.actions import do_map_external_account, do_set_column_mapping
from searchledger.apps.accesslogs.models import ExternalAccount
from searchledger.apps.accesslogs.tests.conftest import HEADER, MAPPING
from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
)
from searchledger.apps.findings.models import Finding
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .test_ledger_journey import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LOG = HEADER + (
    "oscar-x,2026-03-02T10:00:00Z,search,Q1,C-1\n"
    "ghost,2026-03-02T11:00:00Z,search,Q2,\n"
    "oscar-x,2026-03-02T11:30:00Z,login,,\n"
)


def _set_up() -> tuple[Actor, int]:
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
        actor=Actor.system(),
        reason="bootstrap",
    )
    actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
    do_create_org_unit(code="bal", name="Baltimore", kind="field_office", actor=actor)
    sam = do_create_account(
        username="sam", role=Role.SUPERVISOR, password=None, actor=actor, reason="test"
    )
    oscar = do_create_account(
        username="oscar", role=Role.OFFICER, password=None, actor=actor, reason="test"
    )
    do_assign_account(sam.pk, org_unit_code="bal", supervisor_id=None, actor=actor)
    do_assign_account(oscar.pk, org_unit_code="bal", supervisor_id=sam.pk, actor=actor)
    do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="State MVA", kind="face_images", access_method="api"),
        actor=actor,
    )
    do_set_column_mapping("mirs", MAPPING, actor=actor)
    return actor, oscar.pk


def test_upload_reconcile_open_the_finding_and_resolve_it(page, settings, tmp_path):
    settings.HOME = tmp_path / "home"
    settings.HOME.mkdir()
    settings.SEARCHLEDGER_ACCESS_LOG_SYNC = True
    admin, oscar = _set_up()
    log = tmp_path / "mirs-march.csv"
    log.write_text(LOG, encoding="utf-8")
    sign_in(page, "admin")

    page.goto(page.base + "/access-logs/mirs/upload/")
    page.set_input_files("input[type=file]", str(log))
    page.click("text=Upload and import")
    page.wait_for_selector("text=Imported 3 events (2 searches)", timeout=30000)
    external = ExternalAccount.objects.get(system__code="mirs", external_id="oscar-x")
    do_map_external_account(external.pk, oscar, actor=admin)

    page.click("nav >> text=Reconciliation")
    page.click("text=Reconcile a system")
    page.select_option("#id_system", "mirs")
    page.fill("#id_start", "2026-03-02")
    page.fill("#id_end", "2026-03-02")
    page.fill("#id_tolerance", "30")
    page.click("button:text-is('Reconcile')")
    page.wait_for_selector("#digest")
    undocumented = page.locator('table[data-kind="undocumented_search"]')
    assert "oscar" in undocumented.inner_text()
    assert "oscar-x" in undocumented.inner_text()
    assert "ghost" in page.locator('table[data-kind="unknown_account"]').inner_text()

    # htmx: only one kind.
    page.select_option("#id_kind", "unknown_account")
    # (A selector, not wait_for_function: the Content-Security-Policy refuses the eval
    # Playwright would poll a predicate with.)
    page.wait_for_selector('table[data-kind="undocumented_search"]', state="detached")

    page.select_option("#id_kind", "undocumented_search")
    page.wait_for_selector('table[data-kind="undocumented_search"]')
    page.locator('table[data-kind="undocumented_search"] a[href^="/findings/"]').first.click()
    page.wait_for_selector("#finding-status")
    assert "Open" in page.inner_text("#finding-status")
    page.select_option("#id_resolution", "confirmed_misuse")
    page.fill("#id_note", "Oscar ran the search without documenting it; retrained.")
    page.click("text=Close the finding")
    page.wait_for_selector("#finding-status.usa-alert--success")
    finding = Finding.objects.get(kind="undocumented_search")
    assert finding.status == "closed"
    assert finding.subject_id == oscar
