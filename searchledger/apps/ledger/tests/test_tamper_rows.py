"""A direct database edit of any column of any ledger-feeding table is detected by verify.

The cases are generated from the schema, not picked by hand: for every tracked table
(``statetables.TRACKED``) and every column it commits (the model's concrete fields, less the
documented exclusions), one test changes that column in one row with raw SQL; for every
table, one test deletes a row and one inserts a copy under a new id; the many-to-many link
tables and the ledger's own row commitments get the same. Each must make ``verify`` fail,
naming the table.

The data set is the demo scenario (every record through the actions) plus the few records
the demo does not make (an API token, an SSO identity, a probe image, a finding cited by a
recommendation, an import's rejected row), built once for the module inside a transaction
that is rolled back at the end; each test runs in a savepoint rolled back after it, so every
test starts from the clean, signed data set. Foreign keys are deferred on both
databases and never reach a commit, so an edit may point one anywhere.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.test import override_settings
from django.utils import timezone

from searchledger.apps.accesslogs.actions import do_import_access_log
from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_issue_api_token, do_link_sso_identity
from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import create_signing_key, load_verifier
from searchledger.apps.ledger.models import CommitmentSalt, RowState
from searchledger.apps.ledger.tracking import readers
from searchledger.apps.ledger.verify import VerificationFailure, verify_ledger
from searchledger.apps.oversight.actions import do_link_finding
from searchledger.apps.oversight.models import Recommendation
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches import probes
from searchledger.apps.searches.models import SearchRecord
from searchledger.core.actor import Actor
from searchledger.core.roles import ROLE_PERMISSIONS, Role
from searchledger.demo import load_demo
from searchledger.ledger.rowstate import STATE_SALT_FIELD

# Each test's own transaction (pytest-django) is a savepoint inside the module's.
pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"probe" * 20


# ---------------------------------------------------------------------------------------
# The cases, from the schema


@dataclass(frozen=True)
class Case:
    """One edit: ``kind`` is update, delete or insert; ``table`` the table edited;
    ``column`` the column updated; ``expect`` the table verify must name."""

    kind: str
    table: str
    column: str
    expect: str
    model: type[models.Model]

    @property
    def id(self) -> str:
        """The test id."""
        return f"{self.kind}-{self.table}" + (f".{self.column}" if self.column else "")


def _cases() -> list[Case]:
    cases: list[Case] = []
    for reader in readers().values():
        table = reader.table
        for _, column in reader.columns:
            cases.append(Case("update", table, column, table, reader.model))
        cases.append(Case("delete", table, "", table, reader.model))
        cases.append(Case("insert", table, "", table, reader.model))
        for link in reader.links:
            through: type[models.Model] = link.remote_field.through  # type: ignore[assignment]  # set once the apps are loaded
            link_table = str(through._meta.db_table)
            for field in through._meta.concrete_fields:
                cases.append(Case("update", link_table, field.column, table, through))
            cases.append(Case("delete", link_table, "", table, through))
            cases.append(Case("insert", link_table, "", table, through))
    for column in ("seq", "row", "commitment"):
        cases.append(Case("update", "ledger_rowstate", column, "ledger_rowstate", RowState))
    cases.append(Case("delete", "ledger_rowstate", "", "ledger_rowstate", RowState))
    cases.append(Case("insert", "ledger_rowstate", "", "ledger_rowstate", RowState))
    cases.append(Case("update", "ledger_commitmentsalt", "salt", "", CommitmentSalt))
    return cases


CASES = _cases()


# ---------------------------------------------------------------------------------------
# The data set


@dataclass(frozen=True)
class DataSet:
    """The module's data set and the key its checkpoints are signed with."""

    key_file: Path
    rows: int


def _extras(home: Path) -> None:
    """What the demo does not make, through the actions: an API token, an SSO identity, a
    probe image and an import with a rejected row."""
    admin_account = Account.objects.get(username="admin")
    admin = Actor(account_id=admin_account.pk, role=Role.ADMINISTRATOR)
    do_issue_api_token(
        admin_account.pk,
        name="tamper test",
        scopes=sorted(ROLE_PERMISSIONS[Role.ADMINISTRATOR])[:1],
        expires_at=timezone.now() + timedelta(days=30),
        actor=admin,
    )
    officer = Account.objects.get(username="officer")
    do_link_sso_identity(officer.pk, issuer="https://idp.example", subject="s-1", actor=admin)
    # A probe image: the vendor-fr policy, now storing images, decides a copy of a search
    # it decided before.
    earlier = (
        SearchRecord.objects.filter(
            policy__org_unit=None,
            policy__system__code="vendor-fr",
            entered_after_the_fact=False,
            status__in=["authorised", "documented"],
        )
        .select_related("officer", "system", "purpose")
        .order_by("pk")
        .first()
    )
    assert earlier is not None
    searches.do_set_search_policy(
        org_unit_code=None,
        system_code="vendor-fr",
        settings=searches.PolicySettings(
            forbidden_purposes=["immigration_civil_enforcement"],
            lead_generation="needs_approval",
            two_person_verification=True,
            store_probe_images=True,
            probe_retention_days=30,
        ),
        actor=admin,
        reason="keep probe images",
    )
    requester = Actor(account_id=earlier.officer_id, role=Role(earlier.officer.role))
    search = searches.do_request_search(
        searches.SearchRequest(
            system_code=earlier.system.code,
            purpose=earlier.purpose.code,
            case_system=earlier.case_system,
            case_number=earlier.case_number,
            lead_posture=earlier.lead_posture,
            techniques_tried=list(earlier.techniques_tried),
            techniques_notes=earlier.techniques_notes,
            probe_source=earlier.probe_source,
            probe_lawfully_obtained=True,
            attested_not_protected=True,
            justification=earlier.justification,
        ),
        actor=requester,
    )
    probes.do_store_probe_image(search.pk, JPEG, "image/jpeg", actor=requester)
    # A finding cited as evidence for a recommendation (the demo cites only a report).
    recommendation = Recommendation.objects.order_by("pk").first()
    finding = Finding.objects.order_by("pk").first()
    assert recommendation is not None
    assert finding is not None
    do_link_finding(recommendation.pk, finding.pk, actor=admin)
    # An import of the demo's log with one line it rejects.
    demo_log = home / "demo" / "md-dashboard-mirs-access-log.csv"
    lines = demo_log.read_text().splitlines()
    bad = home / "with-a-bad-line.csv"
    bad.write_text("\n".join([lines[0], lines[1], "MDD-X,not a time,LOGIN,MIRS,,"]) + "\n")
    imported = do_import_access_log("mirs", bad, original_name=bad.name, actor=admin)
    assert imported.rejected_rows.exists(), imported.failure


@pytest.fixture(scope="module")
def dataset(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DataSet]:
    """The demo and the extras, signed at a checkpoint, verified clean; rolled back after
    the module."""
    home = tmp_path_factory.mktemp("tamper-home")
    key_file = home / "ledger-signing.key"
    with (
        django_db_blocker.unblock(),
        override_settings(HOME=str(home), SEARCHLEDGER_SIGNING_KEY_FILE=key_file),
    ):
        create_signing_key("test.searchledger.localhost/ledger")
        outer = transaction.atomic()
        outer.__enter__()
        try:
            list(load_demo())
            _extras(home)
            sign_checkpoint_if_grown()
            report = verify_ledger(load_verifier())
            for reader in readers().values():
                assert reader.model._base_manager.exists(), f"no row in {reader.table}"
            yield DataSet(key_file=key_file, rows=report.rows)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def isolated(dataset: DataSet, settings: Any) -> DataSet:
    """The data set, with its signing key (the autouse fixture gave each test a new one)."""
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = dataset.key_file
    return dataset


# ---------------------------------------------------------------------------------------
# Edits


def _changed(field: models.Field[Any, Any], value: Any) -> Any:
    """A different value of the field's type that its constraints accept."""
    if value is None:
        value = _some_value(field)
        if value is not None:
            return value
    if isinstance(field, models.BooleanField):
        return not value
    if isinstance(field, models.JSONField):
        if isinstance(value, dict):
            return {**value, "tampered": True}
        if isinstance(value, list):
            return [*value, "tampered"]
        return {"tampered": value}
    if isinstance(field, models.DateTimeField):
        return value + timedelta(seconds=1)
    if isinstance(field, models.DateField):
        return value + timedelta(days=1)
    if isinstance(field, models.FloatField):
        return value + 0.5
    if isinstance(field, models.DecimalField):
        return value + Decimal(1)
    if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
        return value + 7919
    if isinstance(field, models.CharField | models.TextField):
        limit = field.max_length or 10**6
        if len(value) < limit:
            return value + "x"
        return value[:-1] + ("y" if value.endswith("x") else "x")
    raise AssertionError(f"no edit known for {type(field).__name__}")  # pragma: no cover


def _some_value(field: models.Field[Any, Any]) -> Any:
    """A value for a field that is NULL now."""
    if isinstance(field, models.BooleanField):
        return True
    if isinstance(field, models.JSONField):
        return {"tampered": True}
    if isinstance(field, models.DateTimeField):
        return datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    if isinstance(field, models.DateField):
        return date(2020, 1, 2)
    if isinstance(field, models.DecimalField):
        return Decimal(1)
    if isinstance(field, models.FloatField):
        return 1.5
    if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
        return 1
    return "tampered"


def _db(field: models.Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _unique_columns(model: type[models.Model]) -> set[str]:
    names: set[str] = {f.name for f in model._meta.concrete_fields if f.unique}
    for together in model._meta.unique_together:
        names.update(together)
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names.update(constraint.fields)
    return names


def _update(case: Case) -> None:
    model = case.model
    field = next(f for f in model._meta.concrete_fields if f.column == case.column)
    rows = list(model._base_manager.order_by("pk").values_list("pk", field.attname))
    if not rows:
        pytest.skip(f"no action writes {case.table}; the insert test covers it")
    pk, value = next(((pk, v) for pk, v in rows if v is not None), rows[0])
    new = None if field.null and value is not None else _changed(field, value)
    pk_column = model._meta.pk.column
    _raw(
        f'UPDATE "{case.table}" SET "{case.column}" = %s WHERE "{pk_column}" = %s',  # noqa: S608  # names from the schema
        [_db(field, new), pk],
    )


def _delete(case: Case) -> None:
    model = case.model
    pk = model._base_manager.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        pytest.skip(f"no action writes {case.table}; the insert test covers it")
    _raw(f'DELETE FROM "{case.table}" WHERE "{model._meta.pk.column}" = %s', [pk])  # noqa: S608  # names from the schema


def _insert(case: Case) -> None:
    """A copy of a row under a new id, its unique columns changed; for an empty link table,
    a link to the first owner row."""
    model = case.model
    fields = list(model._meta.concrete_fields)
    source = model._base_manager.order_by("pk").first()
    unique = _unique_columns(model)
    owner_model: Any = model._meta.auto_created  # the owner's class, for a link table
    if owner_model:
        # A link keeps its owner (the row it is committed with) and gains a new target; a
        # link to no owner at all is the update of the owner column.
        owner = next(f for f in fields if f.remote_field and f.remote_field.model is owner_model)
        unique.discard(owner.name)
    top = model._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    values: list[Any] = []
    for field in fields:
        if field.primary_key:
            values.append(top + 1000)
            continue
        value = getattr(source, field.attname) if source is not None else None
        if source is None or field.name in unique:
            value = _changed(field, value)
        values.append(_db(field, value))
    columns = ", ".join(f'"{f.column}"' for f in fields)
    marks = ", ".join("%s" for _ in fields)
    _raw(f'INSERT INTO "{case.table}" ({columns}) VALUES ({marks})', values)  # noqa: S608  # names from the schema


def _edit(case: Case) -> None:
    if connection.vendor == "postgresql" and case.table.startswith("ledger_"):
        # The ledger's tables refuse changes by trigger; an attacker owning them drops it.
        _raw(f"ALTER TABLE {case.table} DISABLE TRIGGER {case.table}_append_only", [])
    if case.model is CommitmentSalt:
        # The salt of the latest entry that committed rows: those rows open with it.
        salt = CommitmentSalt.objects.filter(field=STATE_SALT_FIELD).order_by("-seq").first()
        assert salt is not None
        flipped = ("0" if salt.salt[0] != "0" else "1") + salt.salt[1:]
        _raw("UPDATE ledger_commitmentsalt SET salt = %s WHERE id = %s", [flipped, salt.pk])
        return
    {"update": _update, "delete": _delete, "insert": _insert}[case.kind](case)


# ---------------------------------------------------------------------------------------
# Tests


def test_the_data_set_verifies_and_covers_every_table(isolated: DataSet) -> None:
    report = verify_ledger(load_verifier())
    assert report.rows == isolated.rows
    assert report.rows >= len(readers())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_direct_edit_is_detected(isolated: DataSet, case: Case) -> None:
    # Undone before the test ends: Django's test teardown checks foreign keys, which the
    # edit may have broken (as an attacker's edit might).
    savepoint = transaction.savepoint()
    try:
        _edit(case)
        with pytest.raises(VerificationFailure) as failed:
            verify_ledger(load_verifier())
    finally:
        transaction.savepoint_rollback(savepoint)
    message = failed.value.message
    if case.expect:
        assert case.expect in message, message
    else:  # the state salt: the rows it opens no longer match
        assert "does not match its state recorded by entry" in message, message


def test_every_tracked_column_has_a_case() -> None:
    """The cases are the schema: one update per committed column of every tracked table."""
    updated = {(c.table, c.column) for c in CASES if c.kind == "update"}
    for reader in readers().values():
        for _, column in reader.columns:
            assert (reader.table, column) in updated
    assert sum(1 for c in CASES if c.kind == "delete") >= len(readers())
