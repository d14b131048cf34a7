"""Hostile files at the two access-log upload points (issue 7 item 4): the log upload and
the account-mappings CSV. Each attack is refused with an error naming the problem, and a
refused upload leaves everything as it was: no import, no ledger entry, no mapping, and no
file left in the spool. Names from the client never choose where a file is written."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from searchledger.apps.accesslogs.actions import do_set_column_mapping
from searchledger.apps.accesslogs.forms import MAPPINGS_MAX_BYTES
from searchledger.apps.accesslogs.models import AccessLogImport, ExternalAccount, ImportStatus
from searchledger.apps.ledger.models import LedgerEntry

from .conftest import HEADER, MAPPING

pytestmark = pytest.mark.django_db

GOOD = HEADER + "alice,2026-03-01T10:00:00Z,search,Q1,\n"


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# A zip bomb in miniature: 50 MB of zeros that compress to about 50 kB. No upload point
# accepts an archive, so it is refused by its first bytes and never decompressed.
ZIP_BOMB = _zip(**{"log.csv": b"0" * 50_000_000})
XLSX = _zip(**{"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60
PE = b"MZ\x90\x00" + b"\x00" * 60
GZIP = b"\x1f\x8b\x08\x00" + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"

BINARIES = {
    "a zip bomb": (ZIP_BOMB, "a ZIP archive"),
    "an Excel workbook": (XLSX, "a ZIP archive"),
    "a PNG image": (PNG, "a PNG image"),
    "an ELF executable": (ELF, "an executable (ELF)"),
    "a Windows executable": (PE, "an executable (Windows)"),
    "a gzip file": (GZIP, "a gzip archive"),
    "a PDF": (PDF, "a PDF"),
}


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def spool(home: Path) -> list[Path]:
    folder = home / "access-logs" / "spool"
    return sorted(folder.iterdir()) if folder.exists() else []


def state() -> tuple[int, int, int]:
    return (
        LedgerEntry.objects.count(),
        AccessLogImport.objects.count(),
        ExternalAccount.objects.exclude(account=None).count(),
    )


def upload_log(client: Client, data: bytes, name: str = "mirs.csv"):
    return client.post(
        "/access-logs/mirs/upload/", {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


def upload_mappings(client: Client, data: bytes, name: str = "map.csv") -> str:
    response = client.post(
        "/access-logs/mirs/accounts/upload/", {"file": SimpleUploadedFile(name, data, "text/csv")}
    )
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


# --------------------------------------------------------------------------- the log upload


@pytest.mark.parametrize("kind", BINARIES)
def test_a_binary_file_is_refused_as_a_log_by_its_first_bytes(kind, mirs, admin_client, home):
    data, named = BINARIES[kind]
    before = state()
    response = upload_log(admin_client, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert f"this is {named}, not a CSV or JSON lines file" in page
    assert state() == before
    assert spool(home) == []


def test_a_nul_byte_in_a_log_is_refused_before_it_is_imported(mirs, admin_client, home):
    before = state()
    data = (GOOD + "bob\x00,2026-03-01T10:00:00Z,search,Q2,\n").encode()
    page = upload_log(admin_client, data).content.decode()
    assert f"a NUL byte at byte offset {data.index(0)}: this is not a text file" in page
    assert state() == before
    assert spool(home) == []


def test_an_oversized_log_is_refused_and_nothing_is_written(mirs, admin_client, home, settings):
    settings.SEARCHLEDGER_MAX_LOG_UPLOAD_BYTES = len(GOOD) - 1
    before = state()
    page = upload_log(admin_client, GOOD.encode()).content.decode()
    assert f"the file is {len(GOOD)} bytes; the web upload limit is {len(GOOD) - 1} bytes" in page
    assert state() == before
    assert spool(home) == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("....//....//x.csv", "x.csv"),
        ("mirs\x00.csv", "mirs.csv"),
        ("a\nb\r.csv", "ab.csv"),
    ],
)
@pytest.mark.usefixtures("mirs")
def test_a_path_in_the_uploaded_name_never_leaves_the_spool(
    sent, kept, admin_client, home, tmp_path
):
    response = upload_log(admin_client, GOOD.encode(), name=sent)
    assert response.status_code == 302
    log = AccessLogImport.objects.get()
    assert log.status == ImportStatus.COMPLETED
    assert log.original_name == kept
    source = Path(log.source_path)
    assert source.parent == home / "access-logs" / "spool"
    assert source.name.endswith(f"-{kept}")
    # Nothing was written outside the home directory, e.g. beside it as "passwd".
    assert {p.name for p in tmp_path.iterdir()} == {"home", "ledger-signing.key"}
    assert not Path("/etc/win.ini").exists()


def test_a_byte_order_mark_is_read_and_a_utf16_log_is_refused_by_name(mirs, admin_client, home):
    response = upload_log(admin_client, b"\xef\xbb\xbf" + GOOD.encode())
    assert response.status_code == 302
    assert AccessLogImport.objects.get().status == ImportStatus.COMPLETED
    before = state()
    page = upload_log(admin_client, GOOD.encode("utf-16"), name="utf16.csv").content.decode()
    assert "the file is UTF-16 (its byte order mark says so), not utf-8" in page
    assert state() == before
    assert spool(home) == []


# --------------------------------------------------------------------------- account mappings


@pytest.mark.parametrize("kind", BINARIES)
def test_a_binary_file_is_refused_as_account_mappings(kind, mirs, admin_client):
    data, named = BINARIES[kind]
    upload_log(admin_client, GOOD.encode())
    before = state()
    page = upload_mappings(admin_client, data)
    assert f"this is {named}, not a CSV file" in page
    assert state() == before


def test_account_mappings_refuse_nul_bytes_utf16_and_oversize(mirs, admin_client):
    upload_log(admin_client, GOOD.encode())
    before = state()
    page = upload_mappings(admin_client, b"external_id,username\nalice\x00,admin\n")
    assert "a NUL byte at byte offset 26: this is not a text file" in page
    page = upload_mappings(admin_client, "external_id,username\nalice,admin\n".encode("utf-16"))
    assert "the file is UTF-16 (its byte order mark says so), not utf-8" in page
    page = upload_mappings(admin_client, b"x" * (MAPPINGS_MAX_BYTES + 1))
    assert f"the limit is {MAPPINGS_MAX_BYTES:,}" in page
    assert state() == before
    page = upload_mappings(admin_client, b"\xef\xbb\xbfexternal_id,username\nalice,admin\n")
    assert "1 account mapped." in page


def test_a_log_declared_utf16_is_not_refused_for_its_nul_bytes(mirs, admin_client, admin_actor):
    do_set_column_mapping("mirs", replace(MAPPING, encoding="utf-16"), actor=admin_actor)
    response = upload_log(admin_client, GOOD.encode("utf-16"))
    assert response.status_code == 302
    assert AccessLogImport.objects.get().status == ImportStatus.COMPLETED
