"""The bulk import page and the import-csv command."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from searchledger.apps.accounts.models import Account
from searchledger.apps.bulk.parsing import DEFAULT_MAX_BYTES
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.cli import main

pytestmark = pytest.mark.django_db

HEADER = "username,full_name,email,role,org_unit,supervisor,job_title\n"
GOOD = HEADER + "n.one,Nia One,n1@example.gov,officer,,,Officer\n"
BAD = GOOD + "n.two,Nia Two,n2@example.gov,wizard,,,Officer\n"


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.force_login(admin)
    return client


def upload(client, text: str | bytes, *, dry_run: bool):
    data = text.encode() if isinstance(text, str) else text
    form = {"kind": "people", "file": SimpleUploadedFile("people.csv", data, "text/csv")}
    if dry_run:
        form["dry_run"] = "on"
    return client.post("/bulk/", form)


def test_bad_rows_are_listed_with_line_numbers_and_nothing_is_written(admin_client):
    before = LedgerEntry.objects.count()
    response = upload(admin_client, BAD, dry_run=False)
    assert response.status_code == 200
    page = response.content.decode()
    assert "line 3, column role: &#x27;wizard&#x27; is not one of" in page
    assert "nothing was written" in page
    assert LedgerEntry.objects.count() == before
    assert not Account.objects.filter(username="n.one").exists()


def test_dry_run_then_apply(admin_client):
    before = LedgerEntry.objects.count()
    assert "no errors; would create" in upload(admin_client, GOOD, dry_run=True).content.decode()
    assert LedgerEntry.objects.count() == before
    assert "import applied" in upload(admin_client, GOOD, dry_run=False).content.decode()
    assert Account.objects.filter(username="n.one").exists()
    again = upload(admin_client, GOOD, dry_run=False).content.decode()
    assert "already" in again


def test_oversized_upload_is_refused_before_parsing(admin_client):
    before = LedgerEntry.objects.count()
    response = upload(admin_client, b"x" * (DEFAULT_MAX_BYTES + 1), dry_run=True)
    assert "the limit is" in response.content.decode()
    assert LedgerEntry.objects.count() == before


def test_import_csv_command(admin, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text(BAD)
    assert main(["import-csv", "people", str(path), "--actor", "admin", "--apply"]) == 2
    assert "line 3, column role" in capsys.readouterr().out
    path.write_text(GOOD)
    assert main(["import-csv", "people", str(path), "--actor", "admin"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert not Account.objects.filter(username="n.one").exists()
    assert main(["import-csv", "people", str(path), "--actor", "admin", "--apply"]) == 0
    assert Account.objects.filter(username="n.one").exists()
    assert main(["import-csv", "people", str(tmp_path / "missing.csv"), "--actor", "admin"]) == 2
