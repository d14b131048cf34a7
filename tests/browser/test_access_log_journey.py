"""Issue 5's access-log import in a real browser: an administrator sets a system's column
mapping, uploads its log, watches the import run in the background (the progress bar is
polled with htmx, then the page shows the report), sees the rejected row, and maps the
unknown account that searched to a person."""

from __future__ import annotations

import pytest

from searchledger.apps.accesslogs.models import AccessLogImport, ExternalAccount
from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .test_ledger_journey import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LOG = (
    "user,when,what,query,case\n"
    "oscar-x,2026-03-02T10:00:00Z,search,Q1,C-1\n"
    "oscar-x,2026-03-02T10:05:00Z,view,R1,\n"
    "ghost,2026-03-02 11:00:00,search,Q2,\n"
)


def test_set_the_mapping_upload_watch_progress_and_map_the_account(page, settings, tmp_path):
    settings.HOME = tmp_path / "home"
    settings.HOME.mkdir()
    settings.SEARCHLEDGER_ACCESS_LOG_SYNC = False  # the real background thread
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
        actor=Actor.system(),
        reason="bootstrap",
    )
    actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
    oscar = do_create_account(username="oscar", role=Role.OFFICER, password=PASSWORD, actor=actor)
    do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="State MVA", kind="face_images", access_method="api"),
        actor=actor,
    )
    log = tmp_path / "mirs-march.csv"
    log.write_text(LOG, encoding="utf-8")
    sign_in(page, "admin")

    page.click("nav >> text=Access logs")
    page.click("text=set one")
    page.fill("#id_account_id", "user")
    page.fill("#id_timestamp", "when")
    page.fill("#id_action", "what")
    page.fill("#id_reference", "query")
    page.fill("#id_case_ref", "case")
    page.fill("#id_search_actions", "search")
    page.click("text=Save mapping")
    page.wait_for_selector("text=Column mapping version 1 is in force.")

    page.click("text=Upload a log")
    page.set_input_files("input[type=file]", str(log))
    page.click("text=Upload and import")
    page.wait_for_selector("text=Imported 2 events (1 search)", timeout=30000)
    assert "time zone missing in timestamp 2026-03-02 11:00:00" in page.inner_text("#rejected-rows")
    imported = AccessLogImport.objects.get()
    assert imported.status == "completed"

    page.click("a[href='/access-logs/mirs/']")
    page.click("text=External accounts")
    page.select_option(
        "#person-" + str(ExternalAccount.objects.get(external_id="oscar-x").pk), "oscar"
    )
    page.click("button:text-is('Map')")
    page.wait_for_selector("text=oscar-x is mapped to oscar.")
    assert ExternalAccount.objects.get(external_id="oscar-x").account_id == oscar.pk
