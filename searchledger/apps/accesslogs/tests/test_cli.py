"""The ``searchledger import-log`` command."""

from __future__ import annotations

import json

import pytest

from searchledger.apps.accesslogs.models import AccessLogImport, ColumnMapping, ImportStatus
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.cli import main
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .conftest import HEADER

pytestmark = pytest.mark.django_db

GOOD = HEADER + "alice,2026-03-01T10:00:00Z,search,Q1,\nbob,2026-03-01T11:00:00Z,view,Q2,\n"

MAPPING_FILE = {
    "format": "csv",
    "delimiter": ",",
    "encoding": "utf-8",
    "account_id": "user",
    "timestamp": "when",
    "action": "what",
    "reference": "query",
    "case_ref": "case",
    "search_actions": ["search"],
}


def test_import_log_with_a_mapping_file_prints_a_summary(admin, write, capsys):
    do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="MVA", kind="face_images", access_method="api"),
        actor=Actor.system(),
    )
    mapping = write("mapping.json", json.dumps(MAPPING_FILE))
    log = write("mirs.csv", GOOD)
    code = main(["import-log", "mirs", str(log), "--mapping", str(mapping), "--actor", "admin"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "column mapping for mirs: version 1" in out
    assert "valid events      2 (searches 1)" in out
    assert "period            2026-03-01 10:00 to 2026-03-01 11:00 UTC" in out
    imported = AccessLogImport.objects.get()
    assert imported.sha256 in out
    assert "100%" in err  # the progress bar
    # The same mapping again makes no new version; the same file is refused, exit 2.
    code = main(["import-log", "mirs", str(log), "--mapping", str(mapping), "--actor", "admin"])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"was already imported into mirs as import {imported.pk}" in err
    assert ColumnMapping.objects.count() == 1


def test_import_log_failures_exit_non_zero_with_the_message_and_resume(mirs, admin, write, capsys):
    bad = write("bad.csv", HEADER.encode() + b"z\xe9,2026-03-01T10:00:00Z,search,Q,\n")
    assert main(["import-log", "mirs", str(bad), "--actor", "admin"]) == 2
    _, err = capsys.readouterr()
    assert "the file is not valid UTF-8 (byte offset 27)" in err
    failed = AccessLogImport.objects.get()
    assert f"--resume {failed.pk}" in err
    latin = dict(MAPPING_FILE, encoding="latin-1")
    mapping = write("latin.json", json.dumps(latin))
    code = main(
        [
            "import-log",
            "mirs",
            "--resume",
            str(failed.pk),
            "--mapping",
            str(mapping),
            "--actor",
            "admin",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    failed.refresh_from_db()
    assert failed.status == ImportStatus.COMPLETED
    assert failed.attempts == 2


def test_import_log_refuses_a_bad_mapping_file_and_a_non_administrator(
    mirs, admin, make_account, write, capsys
):
    mapping = write("bad.json", json.dumps({"account_id": "user", "colour": "blue"}))
    log = write("mirs.csv", GOOD)
    assert (
        main(["import-log", "mirs", str(log), "--mapping", str(mapping), "--actor", "admin"]) == 2
    )
    assert "unknown settings ['colour']" in capsys.readouterr().err
    make_account("aud", Role.AUDITOR)
    assert main(["import-log", "mirs", str(log), "--actor", "aud"]) == 2
    assert "may not import_access_logs" in capsys.readouterr().err
    assert main(["import-log", "mirs", "/nonexistent.csv", "--actor", "admin"]) == 2
    assert not AccessLogImport.objects.exists()
