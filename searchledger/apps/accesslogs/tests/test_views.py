"""The access-log pages: upload (synchronous and in a background thread), the import's
report and progress, the rejects download, resuming, the mapping form, the accounts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from searchledger.apps.accesslogs.models import AccessLogImport, ExternalAccount, ImportStatus
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.roles import Role

from .conftest import HEADER

pytestmark = pytest.mark.django_db

GOOD = HEADER + (
    "alice,2026-03-01T10:00:00Z,search,Q1,\n"
    "admin,2026-03-01T11:00:00Z,search,Q2,\n"
    '=HYPERLINK("x"),never,search,Q3,\n'
)


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def upload(client: Client, content: str | bytes, name: str = "mirs.csv", strict: bool = False):
    data = content.encode() if isinstance(content, str) else content
    form: dict[str, object] = {"file": SimpleUploadedFile(name, data, "text/csv")}
    if strict:
        form["strict"] = "on"
    return client.post("/access-logs/mirs/upload/", form)


def test_upload_shows_the_report_with_rejected_rows_and_the_neutralised_download(
    mirs, admin_client
):
    response = upload(admin_client, GOOD, name="../../mirs.csv")
    log = AccessLogImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/access-logs/imports/{log.pk}/"
    assert log.status == ImportStatus.COMPLETED
    assert log.original_name == "mirs.csv"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Imported 2 events (2 searches)" in page
    assert "timestamp never is not an ISO 8601 date and time" in page
    download = admin_client.get(f"/access-logs/imports/{log.pk}/rejects.csv")
    body = b"".join(download.streaming_content).decode()
    assert '\'=HYPERLINK(""x"")' in body
    assert log.formula_cells == 1
    # The import read the spool copy, removed once the import completed.
    assert "/access-logs/spool/" in log.source_path
    assert not Path(log.source_path).exists()


def test_an_oversized_upload_points_to_the_command_line(mirs, admin_client, settings):
    settings.SEARCHLEDGER_MAX_LOG_UPLOAD_BYTES = 100
    before = LedgerEntry.objects.count()
    response = upload(admin_client, GOOD)
    page = response.content.decode()
    assert response.status_code == 200
    assert "the web upload limit is 100 bytes" in page
    assert "searchledger import-log SYSTEM FILE" in page
    assert LedgerEntry.objects.count() == before
    assert not AccessLogImport.objects.exists()


def test_reuploading_the_same_file_is_refused_on_the_form(mirs, admin_client, home):
    upload(admin_client, GOOD)
    first = AccessLogImport.objects.get()
    response = upload(admin_client, GOOD)
    assert response.status_code == 200
    assert f"as import {first.pk} on" in response.content.decode()
    assert AccessLogImport.objects.count() == 1
    # Neither the imported copy nor the refused one is kept.
    assert list((home / "access-logs" / "spool").iterdir()) == []


def test_a_failed_import_shows_why_and_resumes_after_the_mapping_is_fixed(mirs, admin_client):
    upload(admin_client, HEADER + "alice,2026-03-01 10:00:00,search,Q1,\n", strict=True)
    log = AccessLogImport.objects.get()
    page = admin_client.get(f"/access-logs/imports/{log.pk}/").content.decode()
    assert "strict mode: 1 row rejected" in page
    assert "Resume this import" in page
    assert Path(log.source_path).is_file()  # kept for the resume
    form = {
        "format": "csv",
        "delimiter": ",",
        "encoding": "utf-8",
        "account_id": "user",
        "timestamp": "when",
        "action": "what",
        "reference": "query",
        "case_ref": "case",
        "naive_timezone": "Europe/Paris",
        "search_actions": "search",
    }
    assert admin_client.post("/access-logs/mirs/mapping/", form).status_code == 302
    response = admin_client.post(f"/access-logs/imports/{log.pk}/resume/")
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.status == ImportStatus.COMPLETED
    assert str(log.first_event_at) == "2026-03-01 09:00:00+00:00"


def test_the_progress_fragment_polls_while_running_and_refreshes_when_done(
    mirs, admin_client, settings
):
    upload(admin_client, GOOD)
    log = AccessLogImport.objects.get()
    done = admin_client.get(f"/access-logs/imports/{log.pk}/progress/")
    assert done["HX-Refresh"] == "true"
    AccessLogImport.objects.filter(pk=log.pk).update(
        status=ImportStatus.RUNNING, phase="validating the records", percent=45.0
    )
    running = admin_client.get(f"/access-logs/imports/{log.pk}/progress/")
    assert "HX-Refresh" not in running
    text = running.content.decode()
    assert 'hx-trigger="every 2s"' in text
    assert "Validating the records" in text
    assert 'value="45"' in text
    page = admin_client.get(f"/access-logs/imports/{log.pk}/").content.decode()
    assert "Resume this import" not in page  # still making progress
    settings.SEARCHLEDGER_IMPORT_STALE_SECONDS = 0
    page = admin_client.get(f"/access-logs/imports/{log.pk}/").content.decode()
    assert "it was interrupted, and may be resumed" in page
    assert "Resume this import" in page


def test_the_accounts_page_lists_unknown_searchers_first_and_maps_with_a_suggestion(
    mirs, admin, admin_client
):
    upload(admin_client, GOOD)
    page = admin_client.get("/access-logs/mirs/accounts/").content.decode()
    assert '<option value="admin" selected>admin</option>' in page  # suggested by username
    external = ExternalAccount.objects.get(external_id="admin")
    response = admin_client.post(f"/access-logs/accounts/{external.pk}/map/", {"account": "admin"})
    assert response.status_code == 302
    external.refresh_from_db()
    assert external.account_id == admin.pk
    page = admin_client.get("/access-logs/mirs/accounts/").content.decode()
    assert page.index("<code>alice</code>") < page.index("<code>admin</code>")
    assert "1</strong> unmapped account searched" in page


def test_an_auditor_reads_reports_but_cannot_upload(mirs, admin_client, make_account):
    upload(admin_client, GOOD)
    auditor = Client()
    auditor.force_login(make_account("aud", Role.AUDITOR))
    log = AccessLogImport.objects.get()
    assert auditor.get(f"/access-logs/imports/{log.pk}/").status_code == 200
    assert auditor.get("/access-logs/").status_code == 200
    assert upload(auditor, GOOD.replace("Q1", "Q9")).status_code == 403
    assert (
        "Resume this import" not in auditor.get(f"/access-logs/imports/{log.pk}/").content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_the_upload_runs_in_a_background_thread_with_its_own_connection(admin, mirs, settings):
    settings.SEARCHLEDGER_ACCESS_LOG_SYNC = False
    client = Client()
    client.force_login(admin)
    response = upload(client, GOOD)
    assert response.status_code == 302
    for thread in threading.enumerate():
        if thread.name.startswith("access-log-import-"):
            thread.join(timeout=60)
    log = AccessLogImport.objects.get()
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert log.valid_events == 2


def test_mapping_accounts_from_a_csv_file_is_all_or_nothing(mirs, admin, admin_client):
    upload(admin_client, GOOD)
    before = LedgerEntry.objects.count()

    def send(text: str):
        data = SimpleUploadedFile("map.csv", text.encode(), "text/csv")
        response = admin_client.post("/access-logs/mirs/accounts/upload/", {"file": data})
        assert response.status_code == 302
        return admin_client.get(response["Location"]).content.decode()

    page = send("external_id,username\nalice,admin\nnobody,admin\nadmin,ghost\n")
    assert "Nothing was mapped" in page
    assert "line 3: no account &#x27;nobody&#x27; in mirs&#x27;s logs" in page
    assert "line 4: no person with username &#x27;ghost&#x27;" in page
    assert LedgerEntry.objects.count() == before
    page = send("external_id,username\nalice,admin\nadmin,admin\n")
    assert "2 accounts mapped." in page
    assert LedgerEntry.objects.count() == before + 2
    assert set(ExternalAccount.objects.values_list("account_id", flat=True)) == {admin.pk}
    page = send("external_id,username\nalice,admin\n")
    assert "0 accounts mapped." in page
