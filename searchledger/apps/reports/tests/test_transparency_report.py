"""The transparency report end to end: figures from searches made through the real actions
checked against a hand count; publishing (checkpoint first, one REPORT_PUBLISHED entry with
the CSV's SHA-256) and its refusals; the public HTML, CSV and PDF, parsed back, never show a
count below the threshold; the command line recomputes the published CSV from the tiles."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader
from typing_extensions import override

from searchledger.apps.ledger.models import Checkpoint, LedgerEntry
from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.apps.reports.models import PublishedReport
from searchledger.apps.reports.tests.conftest import EXPECTED
from searchledger.apps.reports.transparency import compute_report
from searchledger.apps.searches.tests.support import actor_for
from searchledger.cli import main
from searchledger.core.actor import Actor
from searchledger.core.published import CSV_HEADER, parse_report_csv

pytestmark = pytest.mark.django_db

THRESHOLD = 5


def _publish(admin_actor: Actor, threshold: int = THRESHOLD) -> PublishedReport:
    today = timezone.localdate()
    return do_publish_transparency_report(
        today - timedelta(days=6),
        today,
        threshold,
        agency_title="Example Agency",
        actor=admin_actor,
    )


def _allowed(value: str, threshold: int) -> bool:
    """A published cell may be "suppressed", 0, or a count at or above the threshold."""
    return value in {"suppressed", "0"} or (value.isdigit() and int(value) >= threshold)


def test_the_figures_match_the_hand_count(rworld):
    today = timezone.localdate()
    live = compute_report(today, today, threshold=1)  # 1: nothing is suppressed
    for name, expected in EXPECTED.items():
        assert live.report.values[name] == expected, name
    assert live.report.suppression.hidden == frozenset()
    # A period that ended before the searches counts none of them.
    before = compute_report(today - timedelta(days=9), today - timedelta(days=1), threshold=1)
    assert before.report.values["searches:total"] == 0


def test_publishing_signs_a_checkpoint_and_records_the_report(rworld, admin_actor):
    size_before = LedgerEntry.objects.count()
    published = _publish(admin_actor)
    checkpoint = Checkpoint.objects.get(size=published.checkpoint_size)
    assert checkpoint.size == size_before
    assert published.checkpoint_root == checkpoint.root
    entry = LedgerEntry.objects.get(seq=size_before)  # the next entry after the checkpoint
    body = json.loads(entry.body)
    assert body["event"] == "REPORT_PUBLISHED"
    assert body["object"] == {"type": "reports.publishedreport", "id": str(published.pk)}
    assert body["data"] == {
        "period_start": published.period_start.isoformat(),
        "period_end": published.period_end.isoformat(),
        "time_zone": published.time_zone,
        "threshold": THRESHOLD,
        "checkpoint_size": checkpoint.size,
        "checkpoint_root": checkpoint.root,
        "csv_sha256": published.csv_sha256,
    }
    assert set(body["commitments"]) == {"agency_title"}
    # The CSV served to the public is the one whose hash the ledger holds.
    served = Client().get(f"/transparency/{published.pk}.csv")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == body["data"]["csv_sha256"]
    assert LedgerEntry.objects.count() == size_before + 1


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ((0, -1, 5), "end", "before it starts"),
        ((1, 2, 5), "start", "has not begun"),
        ((-3, 0, 0), "threshold", "1 or more"),
    ],
)
def test_publishing_refuses_a_bad_period_or_threshold(rworld, admin_actor, case, field, message):
    start_days, end_days, threshold = case
    today = timezone.localdate()
    before = (LedgerEntry.objects.count(), Checkpoint.objects.count())
    with pytest.raises(ValidationError) as refused:
        do_publish_transparency_report(
            today + timedelta(days=start_days),
            today + timedelta(days=end_days),
            threshold,
            agency_title="Example Agency",
            actor=admin_actor,
        )
    assert message in " ".join(refused.value.message_dict[field])
    assert (LedgerEntry.objects.count(), Checkpoint.objects.count()) == before
    assert not PublishedReport.objects.exists()


def test_only_administrators_publish(rworld):
    with pytest.raises(PermissionDenied):
        _publish(actor_for(rworld["boss"]))
    assert not PublishedReport.objects.exists()


class _Cells(HTMLParser):
    """The text of every <td> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._depth = 0

    @override
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self._depth += 1
            self.cells.append("")

    @override
    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._depth -= 1

    @override
    def handle_data(self, data: str) -> None:
        if self._depth:
            self.cells[-1] += data.strip()


def test_the_public_pages_never_show_a_count_below_the_threshold(rworld, admin_actor):
    published = _publish(admin_actor)
    anonymous = Client()
    text = anonymous.get(f"/transparency/{published.pk}.csv").content.decode("utf-8")
    records = list(csv.reader(io.StringIO(text)))
    assert tuple(records[0]) == CSV_HEADER
    cells = [r for r in records[1:] if r[0] != "Report"]
    assert cells
    assert all(_allowed(r[3], THRESHOLD) for r in cells), cells
    by_key = {(r[0], r[1], r[2]): r[3] for r in cells}
    # The hand-counted small figures are hidden, not shown.
    systems = "Systems, people with access and searches"
    assert by_key[systems, "MIRS", "People with access"] == "suppressed"  # 2 people
    assert by_key[systems, "MIRS", "Leads derived"] == "suppressed"  # 2 leads
    assert by_key["Searches by purpose and outcome", "Homicide offences", "Total"] == "suppressed"

    page = anonymous.get(f"/transparency/{published.pk}/")
    assert page.status_code == 200
    parser = _Cells()
    parser.feed(page.content.decode("utf-8"))
    assert parser.cells
    assert all(_allowed(cell, THRESHOLD) for cell in parser.cells), parser.cells
    assert parser.cells.count("suppressed") == [r[3] for r in cells].count("suppressed")
    content = page.content.decode("utf-8")
    assert f"computed from ledger checkpoint {published.checkpoint_size}" in content.lower()
    assert published.checkpoint_root in content
    assert "searchledger transparency --from" in content
    listing = anonymous.get("/transparency/")
    assert f"/transparency/{published.pk}/" in listing.content.decode("utf-8")


def test_the_pdf_is_a_pdf_that_states_its_checkpoint(rworld, admin_actor):
    published = _publish(admin_actor)
    response = Client().get(f"/transparency/{published.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert f"checkpoint {published.checkpoint_size}" in " ".join(text.split())
    assert "suppressed" in text


def test_the_command_line_recomputes_the_published_csv_from_the_tiles(
    rworld, admin_actor, signing_key, tmp_path: Path, capsys
):
    published = _publish(admin_actor)
    # More entries after the report: the check reads only the checkpoint's entries.
    _publish(admin_actor, threshold=3)
    tiles = tmp_path / "tiles"
    assert main(["export-tiles", str(tiles)]) == 0
    csv_file = tmp_path / "published.csv"
    csv_file.write_bytes(Client().get(f"/transparency/{published.pk}.csv").content)
    start, end = published.period_start.isoformat(), published.period_end.isoformat()
    key = signing_key.verifier_key()
    capsys.readouterr()
    args = ["transparency", "--from", start, "--to", end, "--check", str(csv_file)]
    assert main([*args, "--tiles", str(tiles), "--key", key]) == 0
    assert f"checkpoint {published.checkpoint_size}" in capsys.readouterr().out
    assert main(args) == 0  # and from the database
    assert "from the database" in capsys.readouterr().out
    # The same recomputation printed as CSV is the published file, byte for byte.
    assert main([*args[:5], "--tiles", str(tiles), "--key", key, "--format", "csv",
                 "--size", str(published.checkpoint_size)]) == 0  # fmt: skip
    assert capsys.readouterr().out == csv_file.read_text(encoding="utf-8")
    # One altered cell: exit 1, naming it.
    parsed = parse_report_csv(csv_file.read_text(encoding="utf-8"))
    _, row, column, value = next(r for r in parsed.rows if r[3].isdigit())
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    needle = f"{row},{column},{value}"
    altered = [line.replace(needle, f"{row},{column},{int(value) + 1}", 1) for line in lines]
    assert altered != lines
    csv_file.write_text("\n".join(altered) + "\n", encoding="utf-8")
    assert main([*args, "--tiles", str(tiles), "--key", key]) == 1
    assert f"{column}: published {int(value) + 1}, recomputed {value}" in capsys.readouterr().err


def test_a_tampered_tile_export_is_refused(rworld, admin_actor, signing_key, tmp_path, capsys):
    published = _publish(admin_actor)
    tiles = tmp_path / "tiles"
    assert main(["export-tiles", str(tiles)]) == 0
    bundle = next(p for p in (tiles / "tile" / "entries").rglob("*") if p.is_file())
    data = bytearray(bundle.read_bytes())
    data[-3] ^= 1
    bundle.write_bytes(bytes(data))
    start = published.period_start.isoformat()
    code = main(
        ["transparency", "--from", start, "--to", start, "--tiles", str(tiles),
         "--key", signing_key.verifier_key()]
    )  # fmt: skip
    assert code == 2
    assert "do not verify" in capsys.readouterr().err


def test_the_draft_page_computes_live_and_administrators_publish_from_it(rworld, admin):
    today = timezone.localdate().isoformat()
    supervisor = Client()
    supervisor.force_login(rworld["boss"])
    page = supervisor.get(f"/reports/transparency/?start={today}&end={today}&threshold=1")
    assert page.status_code == 200
    assert "publish_form" not in page.context
    content = page.content.decode("utf-8")
    assert "suppressed</span>" not in content  # threshold 1 hides nothing
    assert "This draft is computed now from the ledger's" in content
    assert "Computed from ledger checkpoint" not in content  # no checkpoint is signed yet
    admin_client = Client()
    admin_client.force_login(admin)
    page = admin_client.get(f"/reports/transparency/?start={today}&end={today}&threshold=5")
    assert "publish_form" in page.context
    posted = admin_client.post(
        "/reports/transparency/publish/",
        {
            "publish-start": today,
            "publish-end": today,
            "publish-threshold": "5",
            "publish-agency_title": "Example Agency",
        },
    )
    published = PublishedReport.objects.get()
    assert posted.status_code == 302
    assert posted["Location"] == f"/transparency/{published.pk}/"
    refused = admin_client.post(
        "/reports/transparency/publish/",
        {
            "publish-start": today,
            "publish-end": today,
            "publish-threshold": "0",
            "publish-agency_title": "Example Agency",
        },
    )
    assert refused.status_code == 400
    assert PublishedReport.objects.count() == 1


def test_the_command_line_prints_the_report_as_json_and_text(rworld, capsys):
    today = timezone.localdate().isoformat()
    base = ["transparency", "--from", today, "--to", today, "--threshold", "1"]
    assert main([*base, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["report"]["Suppression Threshold"] == "1"
    cells = {(t, r, c): v for t, r, c, v in document["cells"]}
    assert cells["Searches by system and outcome", "MIRS", "Total"] == "7"
    assert main(base) == 0
    assert "Searches by purpose and outcome / Robbery / Total: 6" in capsys.readouterr().out
    assert main([*base[:5], "--to", "2020-01-01"]) == 2  # the period ends before it starts
    assert "is before --from" in capsys.readouterr().err
