"""The register of ledger-feeding tables is complete, and marking follows the transaction.

Every model is either tracked or excluded with a reason, so a new table fails here until
someone decides; every excluded column exists and has a reason; the row commitments a
transaction collects follow what the database holds, and a write after the transaction's last
entry is reported.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction

from searchledger.apps.accounts.actions import do_create_org_unit
from searchledger.apps.accounts.models import OrgUnit
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry, RowState
from searchledger.apps.ledger.statetables import EXCLUDED_MODELS, TRACKED
from searchledger.apps.ledger.tracking import RowsEscaped
from searchledger.apps.ledger.verify import VerificationFailure, verify_ledger
from searchledger.core.actor import Actor


def test_every_model_is_tracked_or_excluded_with_a_reason() -> None:
    tracked = {t.label for t in TRACKED}
    assert not tracked & set(EXCLUDED_MODELS), "a model is both tracked and excluded"
    undecided = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if model._meta.auto_created:
            # A many-to-many link table: committed with (or excluded with) its owner.
            owner_model: Any = model._meta.auto_created  # the owner's class, for a link table
            owner = owner_model._meta.label_lower
            if owner not in tracked and owner not in EXCLUDED_MODELS:
                undecided.append(label)
            continue
        if label not in tracked and label not in EXCLUDED_MODELS:
            undecided.append(label)
    assert undecided == [], (
        f"{undecided}: add each to statetables.TRACKED, or to EXCLUDED_MODELS with the reason"
    )


def test_no_stale_entries_and_every_exclusion_has_a_reason() -> None:
    labels = {m._meta.label_lower for m in apps.get_models()}
    for label, reason in EXCLUDED_MODELS.items():
        assert label in labels, f"{label} is excluded but no longer exists"
        assert len(reason) > 20
    for table in TRACKED:
        model = apps.get_model(table.label)
        columns = {f.column for f in model._meta.concrete_fields}
        for column, reason in table.excluded_columns.items():
            assert column in columns, f"{table.label}.{column} is excluded but does not exist"
            assert len(reason) > 20
        if table.group_by is not None:
            assert table.group_by in {f.attname for f in model._meta.concrete_fields}


@pytest.mark.django_db
def test_an_entry_commits_to_the_rows_its_transaction_wrote(admin_actor: Actor) -> None:
    unit = do_create_org_unit(code="u1", name="Unit one", kind="unit", actor=admin_actor)
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert '"state":{"digest":"' in entry.body
    assert list(RowState.objects.filter(seq=entry.seq).values_list("row", flat=True)) == [
        f"accounts.orgunit/{unit.pk}"
    ]


@pytest.mark.django_db
def test_a_write_rolled_back_to_a_savepoint_leaves_the_ledger_verifiable(
    admin_actor: Actor,
) -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                gone = OrgUnit.objects.create(code="gone", name="Rolled back", kind="unit")
                raise RuntimeError
        except RuntimeError:
            pass
        do_create_org_unit(code="kept", name="Kept", kind="unit", actor=admin_actor)
    # Whatever the entry committed to is what the database holds.
    verify_ledger(load_verifier())
    assert gone.code == "gone"
    assert not OrgUnit.objects.filter(code="gone").exists()


@pytest.mark.django_db(transaction=True)
def test_a_write_after_the_last_entry_is_reported_at_commit_and_by_verify(
    admin_actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCHLEDGER_STRICT_ROW_STATE", "1")

    def create_then_rename() -> None:
        with transaction.atomic():
            unit = do_create_org_unit(code="u2", name="Unit two", kind="unit", actor=admin_actor)
            unit.name = "Renamed without an entry"
            unit.save()

    with pytest.raises(RowsEscaped, match=r"accounts\.orgunit/"):
        create_then_rename()
    unit = OrgUnit.objects.get(code="u2")
    with pytest.raises(VerificationFailure, match=f"table accounts_orgunit row {unit.pk} "):
        verify_ledger(load_verifier())


_WRITES = {"save", "create", "bulk_create", "bulk_update", "update", "delete", "add", "remove"}


def _writes_after_the_last_append(path: Path) -> list[str]:
    """Functions of ``path`` that call a model write after their last ``writer.append`` (or
    ``_append...`` helper): a heuristic over the source, as the strict check at commit only
    sees transactions that really commit."""
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef):
            continue
        appends: list[int] = []
        writes: list[tuple[int, str]] = []
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if (
                    node.func.attr == "append"
                    and isinstance(owner, ast.Name)
                    and owner.id == "writer"
                ):
                    appends.append(node.lineno)
                elif node.func.attr in _WRITES:
                    writes.append((node.lineno, node.func.attr))
            elif isinstance(node.func, ast.Name) and node.func.id.startswith("_append"):
                appends.append(node.lineno)
        if appends:
            late = [f"{name}() on line {line}" for line, name in writes if line > max(appends)]
            if late:
                found.append(f"{path.name}:{function.name}: {', '.join(late)}")
    return found


def test_no_action_writes_after_its_last_ledger_entry() -> None:
    apps_dir = Path(__file__).resolve().parents[2]
    sources = sorted(apps_dir.glob("*/*actions.py")) + sorted(apps_dir.glob("searches/probes.py"))
    assert len(sources) > 10
    late = [problem for path in sources for problem in _writes_after_the_last_append(path)]
    assert late == [], f"move these writes before the entry: {late}"
