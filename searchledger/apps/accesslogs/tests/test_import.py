"""Importing access logs: every bad input of issue 5 gets a clear message, and nothing
already imported is lost or duplicated."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from searchledger.apps.accesslogs import selectors
from searchledger.apps.accesslogs.actions import (
    do_import_access_log,
    do_map_external_account,
    do_resume_access_log_import,
    do_run_access_log_import,
    do_set_column_mapping,
    do_start_access_log_import,
    do_unmap_external_account,
)
from searchledger.apps.accesslogs.engine import sha256_of
from searchledger.apps.accesslogs.models import (
    AccessLogImport,
    ColumnMapping,
    ExternalAccount,
    ImportStatus,
)
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .conftest import HEADER, MAPPING

pytestmark = pytest.mark.django_db

GOOD = HEADER + (
    "alice,2026-03-01T10:00:00Z,search,Q1,C-1\n"
    "alice,2026-03-01T11:00:00+02:00,view,R1,\n"
    "bob,2026-03-02T09:30:00Z,search,Q2,\n"
)
MORE = HEADER + (
    "alice,2026-03-01T10:00:00Z,search,Q1,C-1\n"  # already imported from GOOD
    "carol,2026-03-05T08:00:00Z,search,Q3,C-9\n"
)


def events(path: Path) -> list[tuple]:
    # A private connection: DuckDB's module-level default one is shared by the whole process,
    # and a result another test left unfinished on it makes the next query there fail.
    with duckdb.connect() as con:
        return (
            con.read_parquet(str(path))
            .select("line, account_id, ts, action, is_search, reference, case_ref")
            .order("line")
            .fetchall()
        )


def all_events(system_id: int) -> list[tuple]:
    found: list[tuple] = []
    for path in selectors.completed_event_files(system_id):
        found.extend((a, ts, act, ref, case) for _, a, ts, act, _, ref, case in events(path))
    return sorted(found)


def event_types(since: int = 0) -> list[str]:
    return [
        json.loads(e.body)["event"]
        for e in LedgerEntry.objects.filter(seq__gte=since).order_by("seq")
    ]


def read_report(log: AccessLogImport) -> list[dict[str, str]]:
    with Path(log.rejects_path).open(newline="") as handle:
        return list(csv.DictReader(handle))


def head() -> int:
    return LedgerEntry.objects.count()


# --------------------------------------------------------------------------- success


def test_a_clean_file_is_imported_with_its_events_accounts_and_ledger_entries(
    mirs, admin_actor, write, home
):
    before = head()
    log = do_import_access_log(
        "mirs", write("mirs.csv", GOOD), original_name="../../etc/mirs.csv", actor=admin_actor
    )
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.records_read, log.valid_events, log.searches, log.rejected) == (3, 3, 2, 0)
    assert log.original_name == "mirs.csv"  # path traversal neutralised
    assert str(log.first_event_at) == "2026-03-01 09:00:00+00:00"
    assert str(log.last_event_at) == "2026-03-02 09:30:00+00:00"
    parquet = Path(log.parquet_path)
    assert parquet.parent == home / "access-logs" / "mirs"
    assert parquet.name == f"{log.pk}-{log.sha256[:16]}.parquet"
    assert selectors.completed_event_files(mirs.pk) == [parquet]
    with duckdb.connect() as con:
        relation = con.read_parquet(str(parquet))
        assert list(zip(relation.columns, map(str, relation.types), strict=True)) == list(
            selectors.EVENT_COLUMNS
        )
    rows = events(parquet)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][1:] == ("alice", rows[0][2], "search", True, "Q1", "C-1")
    assert rows[1][5:] == ("R1", None)
    assert sha256_of(parquet) == log.parquet_sha256
    assert selectors.account_links(mirs.pk) == {"alice": None, "bob": None}
    alice = ExternalAccount.objects.get(external_id="alice")
    assert (alice.events, alice.searches) == (2, 1)
    assert event_types(before) == ["RECON_LOG_IMPORT_STARTED", "RECON_LOG_IMPORTED"]
    imported = json.loads(LedgerEntry.objects.latest("seq").body)
    assert imported["data"]["parquet_sha256"] == log.parquet_sha256
    assert imported["data"]["sha256"] == log.sha256
    assert imported["data"]["valid_events"] == 3
    started = json.loads(LedgerEntry.objects.order_by("-seq")[1].body)
    assert "filename" in started["commitments"]
    assert "mirs.csv" not in json.dumps(started)
    assert log.first_event_at is not None
    assert log.last_event_at is not None
    coverage = selectors.imports_covering(mirs.pk, log.first_event_at, log.last_event_at)
    assert [c.import_id for c in coverage] == [log.pk]


def test_only_administrators_import(mirs, write, make_account):
    auditor = make_account("aud", Role.AUDITOR)
    before = head()
    with pytest.raises(PermissionDenied):
        do_import_access_log(
            "mirs",
            write("mirs.csv", GOOD),
            original_name="mirs.csv",
            actor=Actor(account_id=auditor.pk, role=Role.AUDITOR),
        )
    assert head() == before
    assert not AccessLogImport.objects.exists()


def test_a_mapping_change_is_a_new_version_and_the_same_mapping_is_not(mirs, admin_actor):
    before = head()
    assert do_set_column_mapping("mirs", MAPPING, actor=admin_actor).version == 1
    assert head() == before
    changed = MAPPING.__class__(**{**MAPPING.__dict__, "naive_timezone": "America/New_York"})
    assert do_set_column_mapping("mirs", changed, actor=admin_actor).version == 2
    assert event_types(before) == ["RECON_MAPPING_SET"]
    assert ColumnMapping.objects.filter(system=mirs).count() == 2
    with pytest.raises(ValidationError) as refused:
        do_set_column_mapping(
            "mirs",
            MAPPING.__class__(**{**MAPPING.__dict__, "naive_timezone": "Mars/Olympus"}),
            actor=admin_actor,
        )
    assert "not an IANA time zone" in str(refused.value)


# --------------------------------------------------------------------------- bad input


def _fails(log: AccessLogImport, text: str) -> None:
    assert log.status == ImportStatus.FAILED
    assert text in log.failure, log.failure
    assert not log.parquet_path


@pytest.fixture
def first(mirs, admin_actor, write) -> AccessLogImport:
    """A completed import of GOOD, which no later bad file may lose or duplicate."""
    log = do_import_access_log(
        "mirs", write("good.csv", GOOD), original_name="good.csv", actor=admin_actor
    )
    assert log.status == ImportStatus.COMPLETED
    return log


def _unchanged(first: AccessLogImport, system_id: int) -> None:
    assert selectors.completed_event_files(system_id) == [Path(first.parquet_path)]
    assert len(all_events(system_id)) == 3
    assert ExternalAccount.objects.get(external_id="alice").events == 2


def test_wrong_encoding(first, mirs, admin_actor, write):
    before = head()
    data = HEADER.encode() + "zoë,2026-03-03T10:00:00Z,search,Q,\n".encode("latin-1")
    log = do_import_access_log("mirs", write("l1.csv", data), original_name="l1", actor=admin_actor)
    _fails(log, "the file is not valid UTF-8 (byte offset 28)")
    assert "set the mapping's encoding" in log.failure
    assert event_types(before) == ["RECON_LOG_IMPORT_STARTED", "RECON_LOG_IMPORT_FAILED"]
    _unchanged(first, mirs.pk)


def test_a_utf16_file_read_as_utf8_is_explained_and_latin1_and_utf16_mappings_work(
    mirs, admin_actor, write
):
    text = HEADER + "zoë,2026-03-03T10:00:00Z,search,Q,\n"
    log = do_import_access_log(
        "mirs", write("u16.csv", text, "utf-16"), original_name="u16", actor=admin_actor
    )
    assert log.status == ImportStatus.FAILED
    assert "UTF-8" in log.failure or "UTF-16" in log.failure
    spec = MAPPING.__class__(**{**MAPPING.__dict__, "encoding": "utf-16"})
    do_set_column_mapping("mirs", spec, actor=admin_actor)
    log = do_resume_access_log_import(log.pk, actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert all_events(mirs.pk)[0][0] == "zoë"
    spec = MAPPING.__class__(**{**MAPPING.__dict__, "encoding": "latin-1"})
    do_set_column_mapping("mirs", spec, actor=admin_actor)
    text = HEADER + "zoë,2026-03-04T10:00:00Z,search,Q,\n"
    log = do_import_access_log(
        "mirs", write("l1.csv", text, "latin-1"), original_name="l1", actor=admin_actor
    )
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert sorted(a for a, *_ in all_events(mirs.pk)) == ["zoë", "zoë"]


def test_missing_columns_look_like_another_systems_log(first, mirs, admin_actor, write):
    text = "account,time,event\nx,2026-03-03T10:00:00Z,search\n"
    log = do_import_access_log("mirs", write("x.csv", text), original_name="x", actor=admin_actor)
    _fails(log, "the file has columns ['account', 'time', 'event']; the mapping for mirs expects")
    assert "is this another system's log?" in log.failure
    _unchanged(first, mirs.pk)


def test_json_lines_given_as_csv_and_csv_given_as_json_lines(mirs, vendor, admin_actor, write):
    jsonl = '{"account": "a", "ts": "2026-03-03T10:00:00Z", "event": "face_search", "ref": "1"}\n'
    log = do_import_access_log(
        "mirs", write("v.jsonl", jsonl), original_name="v", actor=admin_actor
    )
    _fails(log, "this looks like a JSON-lines file")
    log = do_import_access_log("vendor", write("m.csv", GOOD), original_name="m", actor=admin_actor)
    _fails(log, "this does not look like a JSON-lines file")
    log = do_import_access_log(
        "vendor", write("v.jsonl", jsonl), original_name="v", actor=admin_actor
    )
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.valid_events, log.searches) == (1, 1)


def test_json_lines_rows_that_are_not_objects_or_miss_keys_are_rejected(vendor, admin_actor, write):
    jsonl = (
        '{"account": "a", "ts": "2026-03-03T10:00:00Z", "event": "face_search", "ref": 7}\n'
        "not json at all\n"
        "[1, 2]\n"
        '{"account": "b", "event": "face_search", "ref": "9"}\n'
        '{"account": "c", "ts": "2026-03-03T11:00:00Z", "event": "login", "ref": null}\n'
    )
    log = do_import_access_log(
        "vendor", write("v.jsonl", jsonl), original_name="v", actor=admin_actor
    )
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.records_read, log.valid_events, log.searches, log.rejected) == (5, 2, 1, 3)
    rejected = list(log.rejected_rows.values_list("record", "reason"))
    assert rejected == [
        (2, "not a JSON object"),
        (3, "not a JSON object"),
        (4, "timestamp missing"),
    ]
    assert events(Path(log.parquet_path))[0][5] == "7"


def test_unparseable_and_zone_less_timestamps_are_rejected_with_their_records(
    mirs, admin_actor, write
):
    text = HEADER + (
        "alice,2026-03-01T10:00:00Z,search,Q1,\n"
        "bob,yesterday at noon,search,Q2,\n"
        "carol,2026-03-01 10:00:00,search,Q3,\n"
        "dave,2026-02-30T10:00:00Z,search,Q4,\n"
        "erin,,search,Q5,\n"
        ",2026-03-01T10:00:00Z,search,Q6,\n"
        "frank,2026-03-01T10:00:00Z,,Q7,\n"
    )
    log = do_import_access_log("mirs", write("t.csv", text), original_name="t", actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.records_read, log.valid_events, log.rejected) == (7, 1, 6)
    reasons = dict(log.rejected_rows.values_list("record", "reason"))
    assert reasons[2] == "timestamp yesterday at noon is not an ISO 8601 date and time"
    assert reasons[3].startswith("time zone missing in timestamp 2026-03-01 10:00:00")
    assert reasons[4] == "timestamp 2026-02-30T10:00:00Z is not an ISO 8601 date and time"
    assert reasons[5] == "timestamp missing"
    assert reasons[6] == "account id missing"
    assert reasons[7] == "action missing"
    assert log.reject_reasons["time zone missing"] == 1
    assert log.reject_reasons["timestamp unreadable"] == 2
    report = read_report(log)
    assert [r["record"] for r in report] == ["2", "3", "4", "5", "6", "7"]


def test_a_naive_time_zone_and_a_strptime_pattern(mirs, admin_actor, write):
    spec = MAPPING.__class__(
        **{
            **MAPPING.__dict__,
            "timestamp_format": "%d/%m/%Y %H:%M",
            "naive_timezone": "America/New_York",
        }
    )
    do_set_column_mapping("mirs", spec, actor=admin_actor)
    text = HEADER + "alice,01/07/2026 10:00,search,Q1,\nbob,31/02/2026 10:00,search,Q2,\n"
    log = do_import_access_log("mirs", write("t.csv", text), original_name="t", actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert str(log.first_event_at) == "2026-07-01 14:00:00+00:00"  # EDT is UTC-4
    assert list(log.rejected_rows.values_list("reason", flat=True)) == [
        "timestamp 31/02/2026 10:00 does not match the format %d/%m/%Y %H:%M"
    ]


def test_duplicate_rows_within_and_across_files(first, mirs, admin_actor, write):
    text = MORE + "carol,2026-03-05T08:00:00Z,search,Q3,C-9\n"
    log = do_import_access_log(
        "mirs", write("more.csv", text), original_name="m", actor=admin_actor
    )
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.records_read, log.duplicates_in_file, log.duplicates_earlier) == (3, 1, 1)
    assert log.valid_events == 1
    assert len(all_events(mirs.pk)) == 4
    assert ExternalAccount.objects.get(external_id="alice").events == 2
    assert ExternalAccount.objects.get(external_id="carol").events == 1


def test_a_file_of_another_system_by_its_system_column(mirs, admin_actor, write):
    spec = MAPPING.__class__(**{**MAPPING.__dict__, "system_column": "sys", "system_value": "MIRS"})
    do_set_column_mapping("mirs", spec, actor=admin_actor)
    text = (
        "user,when,what,query,case,sys\n"
        "alice,2026-03-01T10:00:00Z,search,Q1,,MIRS\n"
        "bob,2026-03-01T10:00:00Z,search,Q2,,LEADS\n"
    )
    log = do_import_access_log("mirs", write("s.csv", text), original_name="s", actor=admin_actor)
    assert log.valid_events == 1
    assert list(log.rejected_rows.values_list("reason", flat=True)) == [
        "row belongs to another system (sys is 'LEADS', expected 'MIRS')"
    ]


def test_an_empty_file_and_a_header_only_file(first, mirs, admin_actor, write):
    log = do_import_access_log("mirs", write("e.csv", b""), original_name="e", actor=admin_actor)
    _fails(log, "the file is empty (0 bytes)")
    log = do_import_access_log(
        "mirs", write("b.csv", "\n\n  \n"), original_name="b", actor=admin_actor
    )
    _fails(log, "the file holds no records")
    log = do_import_access_log("mirs", write("h.csv", HEADER), original_name="h", actor=admin_actor)
    _fails(log, "the file has no records after its header")
    _unchanged(first, mirs.pk)


def test_formula_cells_are_kept_as_text_counted_and_neutralised_in_the_rejects_report(
    mirs, admin_actor, write
):
    text = HEADER + (
        "=cmd|' /C calc'!A0,2026-03-01T10:00:00Z,search,+SUM(A1),\n@evil,not a time,search,-2+3,\n"
    )
    log = do_import_access_log("mirs", write("f.csv", text), original_name="f", actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert log.formula_cells == 4
    assert events(Path(log.parquet_path))[0][1] == "=cmd|' /C calc'!A0"
    report = read_report(log)
    assert report[0]["account_id"] == "'@evil"
    assert report[0]["reference"] == "'-2+3"


def test_reimporting_the_same_file_is_refused_naming_the_earlier_import(
    first, mirs, admin_actor, write
):
    before = head()
    with pytest.raises(ValidationError) as refused:
        do_import_access_log(
            "mirs", write("again.csv", GOOD), original_name="again", actor=admin_actor
        )
    message = str(refused.value)
    assert f"was already imported into mirs as import {first.pk} on " in message
    assert head() == before
    _unchanged(first, mirs.pk)


def test_strict_mode_fails_the_whole_file_on_one_bad_row(first, mirs, admin_actor, write):
    before = head()
    text = MORE + "dave,not a time,search,Q,\n"
    log = do_import_access_log(
        "mirs", write("s.csv", text), original_name="s", strict=True, actor=admin_actor
    )
    _fails(log, "strict mode: 1 row rejected, so nothing was imported")
    assert log.rejected == 1
    assert list(log.rejected_rows.values_list("record", flat=True)) == [3]
    failed = json.loads(LedgerEntry.objects.latest("seq").body)
    assert failed["event"] == "RECON_LOG_IMPORT_FAILED"
    assert failed["data"]["reason"] == "strict"
    assert failed["data"]["rejected"] == 1
    assert failed["data"]["rejects_sha256"] == log.rejects_sha256
    assert event_types(before) == ["RECON_LOG_IMPORT_STARTED", "RECON_LOG_IMPORT_FAILED"]
    _unchanged(first, mirs.pk)
    assert not ExternalAccount.objects.filter(external_id="carol").exists()
    # The same file may be imported again (the failed import does not count).
    log = do_import_access_log("mirs", write("s.csv", text), original_name="s", actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED


def test_structurally_broken_csv_rows_are_rejected_with_their_physical_line(
    mirs, admin_actor, write
):
    text = HEADER + (
        "alice,2026-03-01T10:00:00Z,search,Q1,\n"
        "bob,2026-03-01T10:00:00Z\n"
        "carol,2026-03-01T10:00:00Z,search,Q3,,extra\n"
        "dave,2026-03-01T10:00:00Z,search,Q4,\n"
    )
    log = do_import_access_log("mirs", write("s.csv", text), original_name="s", actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert log.valid_events == 2
    rows = list(log.rejected_rows.values_list("record", "line", "reason"))
    assert [(r, line) for r, line, _ in rows] == [(None, 3), (None, 4)]
    assert rows[0][2].startswith("malformed CSV row: Expected Number of Columns: 5 Found: 2")


class Interrupted(BaseException):
    """Stands for the process being stopped (Ctrl-C, a killed worker)."""


def test_an_interrupted_import_is_resumed_without_duplicates(first, mirs, admin_actor, write):
    path = write("more.csv", MORE)
    started = do_start_access_log_import("mirs", path, original_name="more", actor=admin_actor)

    def stop(phase: str, percent: float) -> None:
        if phase == "writing the events":
            raise Interrupted

    with pytest.raises(Interrupted):
        do_run_access_log_import(started.pk, actor=admin_actor, progress=stop)
    started.refresh_from_db()
    assert started.status == ImportStatus.RUNNING
    assert started.phase == "writing the events"
    _unchanged(first, mirs.pk)
    # Still "running" and recent: not resumable yet; and not importable again.
    with pytest.raises(ValidationError, match="is running"):
        do_resume_access_log_import(started.pk, actor=admin_actor)
    with pytest.raises(ValidationError, match="already being imported"):
        do_import_access_log("mirs", path, original_name="more", actor=admin_actor)
    with override_settings(SEARCHLEDGER_IMPORT_STALE_SECONDS=0):
        resumed = do_resume_access_log_import(started.pk, actor=admin_actor)
    assert resumed.pk == started.pk
    assert resumed.status == ImportStatus.COMPLETED, resumed.failure
    assert resumed.attempts == 2
    assert (resumed.valid_events, resumed.duplicates_earlier) == (1, 1)
    assert len(all_events(mirs.pk)) == 4
    assert ExternalAccount.objects.get(external_id="alice").events == 2
    with pytest.raises(ValidationError, match="already completed"):
        do_resume_access_log_import(started.pk, actor=admin_actor)
    assert event_types(0).count("RECON_LOG_IMPORT_STARTED") == 3  # first, resumed, MORE's
    assert verify_ledger(load_verifier()).entries == LedgerEntry.objects.count()


def test_a_failed_import_is_retried_under_the_same_id(mirs, admin_actor, write):
    path = write("z.csv", GOOD.replace("2026-03-01T10:00:00Z", "2026-03-01 10:00:00"))
    log = do_import_access_log("mirs", path, original_name="z", strict=True, actor=admin_actor)
    assert log.status == ImportStatus.FAILED
    assert log.rejected_rows.count() == 1
    spec = MAPPING.__class__(**{**MAPPING.__dict__, "naive_timezone": "UTC"})
    do_set_column_mapping("mirs", spec, actor=admin_actor)
    # A retry reads with the current mapping: fixing the mapping is why one retries.
    log = do_resume_access_log_import(log.pk, actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.attempts, log.mapping.version, log.valid_events) == (2, 2, 3)
    assert log.rejected_rows.count() == 0
    assert len(all_events(mirs.pk)) == 3


def test_a_source_file_changed_since_the_import_began_is_refused(mirs, admin_actor, write):
    path = write("c.csv", GOOD)
    started = do_start_access_log_import("mirs", path, original_name="c", actor=admin_actor)
    path.write_text(MORE)
    log = do_run_access_log_import(started.pk, actor=admin_actor)
    _fails(log, "the file has changed since the import began")


@pytest.mark.parametrize("phase", ["summarising", "recording"])
def test_a_retry_that_fails_leaves_no_file_of_the_interrupted_attempt(
    phase, first, mirs, admin_actor, write
):
    """An attempt stopped with its event file written (``summarising``: still under its
    temporary name; ``recording``: renamed, the import not yet recorded) and then retried
    on a changed file fails, and removes what the stopped attempt left: no file in the event
    store belongs to no import (found by the SIGKILL harness, tests/crash)."""
    path = write("more.csv", MORE)
    started = do_start_access_log_import("mirs", path, original_name="more", actor=admin_actor)

    def stop(at: str, percent: float) -> None:
        if at == phase:
            raise Interrupted

    with pytest.raises(Interrupted):
        do_run_access_log_import(started.pk, actor=admin_actor, progress=stop)
    store = selectors.access_log_root() / "mirs"
    kept = {Path(first.parquet_path).name, Path(first.rejects_path).name}
    assert {p.name for p in store.iterdir()} > kept  # the stopped attempt's files
    path.write_text(MORE + "dave,2026-03-06T08:00:00Z,search,Q4,\n")
    with override_settings(SEARCHLEDGER_IMPORT_STALE_SECONDS=0):
        log = do_resume_access_log_import(started.pk, actor=admin_actor)
    _fails(log, "the file has changed since the import began")
    assert {p.name for p in store.iterdir()} == kept
    _unchanged(first, mirs.pk)


def test_no_mapping_is_refused_before_anything_is_written(admin_actor, write):
    do_create_system(
        "leads",
        SystemDetails(name="LEADS", owner="V", kind="licence_plates", access_method="api"),
        actor=admin_actor,
    )
    before = head()
    with pytest.raises(ValidationError, match="has no column mapping yet"):
        do_import_access_log("leads", write("l.csv", GOOD), original_name="l", actor=admin_actor)
    assert head() == before


# --------------------------------------------------------------------------- accounts


def test_mapping_and_unmapping_an_external_account(first, mirs, admin, admin_actor):
    bob = ExternalAccount.objects.get(external_id="bob")
    before = head()
    do_map_external_account(bob.pk, admin.pk, actor=admin_actor)
    assert selectors.account_links(mirs.pk) == {"alice": None, "bob": admin.pk}
    with pytest.raises(ValidationError, match="already mapped"):
        do_map_external_account(bob.pk, admin.pk, actor=admin_actor)
    do_unmap_external_account(bob.pk, actor=admin_actor)
    assert selectors.account_links(mirs.pk)["bob"] is None
    assert event_types(before) == ["RECON_ACCOUNT_MAPPED", "RECON_ACCOUNT_UNMAPPED"]
    entry = json.loads(LedgerEntry.objects.order_by("-seq")[1].body)
    assert "external_id" in entry["commitments"]
    assert "bob" not in json.dumps(entry)


def test_unmapped_accounts_that_searched_come_first(first, mirs, admin, admin_actor):
    bob = ExternalAccount.objects.get(external_id="bob")
    do_map_external_account(bob.pk, admin.pk, actor=admin_actor)
    listed = selectors.list_external_accounts(admin_actor, mirs.pk)
    assert [a.external_id for a in listed] == ["alice", "bob"]


def test_windows_line_ends_a_byte_order_mark_and_quoted_line_breaks(mirs, admin_actor, write):
    text = (
        "\ufeff"
        + HEADER.replace("\n", "\r\n")
        + (
            'alice,2026-03-01T10:00:00Z,search,"Q\r\n1",\r\n'
            "bob,2026-03-01T10:00:00Z,view,Q2,C-2"  # no final line end
        )
    )
    log = do_import_access_log("mirs", write("w.csv", text), original_name="w", actor=admin_actor)
    assert log.status == ImportStatus.COMPLETED, log.failure
    assert (log.records_read, log.valid_events) == (2, 2)
    rows = events(Path(log.parquet_path))
    assert [(r[0], r[1], r[5], r[6]) for r in rows] == [
        (1, "alice", "Q\r\n1", None),
        (2, "bob", "Q2", "C-2"),
    ]


def test_a_raw_control_character_in_a_json_line_is_a_malformed_line(vendor, admin_actor, write):
    jsonl = (
        '{"account": "a", "ts": "2026-03-03T10:00:00Z", "event": "face_search", "ref": "1"}\n'
        '{"account": "b\x1fc", "ts": "2026-03-03T10:00:00Z", "event": "face_search"}\n'
    )
    log = do_import_access_log(
        "vendor", write("c.jsonl", jsonl), original_name="c", actor=admin_actor
    )
    assert log.valid_events == 1
    assert list(log.rejected_rows.values_list("record", "line", "reason")) == [
        (None, 2, "malformed line: a raw control character (not valid JSON)")
    ]
