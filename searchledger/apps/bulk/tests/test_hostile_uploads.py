"""Hostile files at the bulk import (issue 7 item 4): archives (an Excel workbook is a
zip), images and executables are refused by their first bytes, naming what they are;
encodings and NUL bytes by the parser with their line. Nothing is written by a refused
file, and the client's file name reaches the ledger only as a commitment."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.models import LedgerEntry

from .test_views import GOOD

pytestmark = pytest.mark.django_db


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 10_000_000)
    return buffer.getvalue()


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def send(client: Client, data: bytes, name: str = "people.csv") -> str:
    form = {"kind": "people", "file": SimpleUploadedFile(name, data, "text/csv")}
    response = client.post("/bulk/", form)
    assert response.status_code == 200
    return response.content.decode().replace("&#x27;", "'")


def state() -> tuple[int, int]:
    return LedgerEntry.objects.count(), Account.objects.count()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_xlsx(), "this is a ZIP archive, not a CSV file (an Excel workbook is one"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "this is a PNG image, not a CSV file"),
        (b"\x7fELF\x02\x01\x01" + bytes(60), "this is an executable (ELF), not a CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(60), "this is a legacy Office file"),
        (GOOD.encode("utf-16"), "the file is UTF-16; save it as CSV UTF-8"),
        (GOOD.encode() + b"x\x00y\n", "a NUL byte at byte offset"),
    ],
)
def test_a_file_that_is_not_a_utf8_csv_is_refused_naming_why(admin_client, data, words):
    before = state()
    assert words in send(admin_client, data)
    assert state() == before


@pytest.mark.parametrize("name", ["../../etc/passwd", "C:\\Windows\\people.csv", "a\x00.csv"])
def test_the_uploaded_name_is_only_a_commitment_on_the_ledger(admin_client, name):
    start = LedgerEntry.objects.count()
    form = {"kind": "people", "file": SimpleUploadedFile(name, GOOD.encode(), "text/csv")}
    assert "import applied" in admin_client.post("/bulk/", form).content.decode()
    bodies = [e.body for e in LedgerEntry.objects.filter(seq__gte=start)]
    assert bodies
    assert not any("passwd" in body or "Windows" in body for body in bodies)


def test_the_form_follows_the_import_size_setting(admin_client, settings):
    settings.SEARCHLEDGER_IMPORT_MAX_BYTES = len(GOOD) - 1
    before = state()
    assert f"the file is {len(GOOD)} bytes; the limit is {len(GOOD) - 1}" in send(
        admin_client, GOOD.encode()
    )
    assert state() == before
    assert f"at most {len(GOOD) - 1} bytes" in admin_client.get("/bulk/").content.decode()
