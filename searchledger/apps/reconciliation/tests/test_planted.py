"""Planted discrepancies: reconciliation (reference and engine alike) finds every planted
one and nothing else; on clean data it finds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from searchledger.apps.reconciliation.engine import (
    EventFile,
    read_events,
    reconcile_files,
    write_event_file,
)
from searchledger.apps.reconciliation.tests.planted import SOURCE, SYSTEM, World, build
from searchledger.core.reconciliation import Discrepancy, DiscrepancyKind, digest, reconcile


def _identity(d: Discrepancy) -> tuple[str, object]:
    """What the planting recorded for a discrepancy of this kind."""
    kind = DiscrepancyKind
    if d.kind in {kind.UNDOCUMENTED_SEARCH}:
        return (d.kind.value, d.line)
    if d.kind in {kind.SEARCHED_AFTER_REFUSAL, kind.NO_EXTERNAL_EVENT, kind.CASE_MISMATCH}:
        return (d.kind.value, d.search_id)
    if d.kind in {kind.UNKNOWN_ACCOUNT, kind.BURST, kind.OUT_OF_HOURS}:
        return (d.kind.value, d.account)
    return (d.kind.value, d.person_id)


def _both(world: World, tmp_path) -> tuple[list[Discrepancy], list[Discrepancy]]:
    files = _write(world, tmp_path)
    common: dict[str, Any] = {
        "system_id": SYSTEM,
        "searches": world.searches,
        "links": world.links,
        "person_units": world.units,
        "coverage": world.coverage,
        "period": world.period,
        "params": world.params,
    }
    reference = reconcile(events=read_events(files), **common)
    engine = reconcile_files(files=files, workdir=tmp_path, **common)
    return reference, engine


def test_clean_data_has_no_discrepancy(tmp_path):
    reference, engine = _both(build(planted=False), tmp_path)
    assert reference == []
    assert engine == []


@pytest.mark.parametrize("seed", [7, 8])
def test_every_planted_discrepancy_is_found_and_nothing_else(tmp_path, seed):
    world = build(planted=True, seed=seed)
    reference, engine = _both(world, tmp_path)
    assert engine == reference
    assert {_identity(d) for d in reference} == world.expected
    assert len(reference) == len(world.expected)
    assert {kind.value for kind in DiscrepancyKind} == {kind for kind, _ in world.expected}
    assert digest(engine) == digest(reference)


def test_details_of_the_planted_aggregates(tmp_path):
    world = build(planted=True)
    found = {
        d.kind: d
        for d in reconcile_files(
            files=_write(world, tmp_path),
            system_id=SYSTEM,
            searches=world.searches,
            links=world.links,
            person_units=world.units,
            coverage=world.coverage,
            period=world.period,
            params=world.params,
            workdir=tmp_path,
        )
    }
    assert found[DiscrepancyKind.UNKNOWN_ACCOUNT].count == 3
    assert found[DiscrepancyKind.BURST].count == 12
    assert found[DiscrepancyKind.HIGH_VOLUME].count == 45  # 40 planted + 5 ordinary
    assert found[DiscrepancyKind.HIGH_VOLUME].median == 5.0
    mismatch = found[DiscrepancyKind.CASE_MISMATCH]
    assert (mismatch.external_case, mismatch.documented_case) == ("2026-0099", "2026-0042")


def _write(world: World, tmp_path) -> list[EventFile]:
    files = [EventFile(SOURCE, tmp_path / "log.parquet")]
    write_event_file(files[0].path, world.events)
    return files
