"""The review and findings pages: campaigns (open, sample, checklist with htmx, close),
the finding list (scope, filters), the CSV export per system, a finding's page and its
forms, and the dashboard on the home page and the work list."""

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
from searchledger.apps.findings.models import Finding
from searchledger.apps.reviews import actions
from searchledger.apps.reviews.models import ReviewCampaign, ReviewItem
from searchledger.apps.searches.tests.support import actor_for, events_since, head
from searchledger.apps.web.worklist import work_rows
from searchledger.core.actor import Actor

from .conftest import ALL_YES, campaign

pytestmark = pytest.mark.django_db


def client_for(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def raise_one(fworld, **change) -> Finding:
    draft = findings.FindingDraft(
        source="reconciliation",
        kind="undocumented_search",
        severity="high",
        summary='=HYPERLINK("http://evil") an external search with no documented search',
        source_ref="import:1:line:5",
        subject_id=fworld["searcher"].pk,
        system_id=fworld["system"].pk,
        detail={"external_account": "jdoe7", "line": 5},
    )
    with transaction.atomic():
        finding, _ = findings.raise_finding(replace(draft, **change), actor=Actor.system())
    return finding


# --------------------------------------------------------------------------- campaigns


def test_opening_a_campaign_from_the_page(rworld):
    boss = client_for(rworld["boss"])
    page = boss.get("/reviews/open/")
    assert page.status_code == 200
    assert b"bal-fug" in page.content
    assert b"phl" not in page.content  # another field office: outside the boss's reach
    today = timezone.localdate()
    start = head()
    response = boss.post(
        "/reviews/open/",
        {
            "org_unit": "bal-fug",
            "period_start": (today - timedelta(days=7)).isoformat(),
            "period_end": today.isoformat(),
            "deadline": (today + timedelta(days=30)).isoformat(),
            "random_share": "0",
            "seed": "",
        },
    )
    opened = ReviewCampaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reviews/{opened.pk}/"
    assert events_since(start) == ["REVIEW_CAMPAIGN_OPENED", "REVIEW_SAMPLE_DRAWN"]
    assert opened.seed_generated
    detail = boss.get(f"/reviews/{opened.pk}/")
    assert b"0 of 4 sampled searches reviewed" in detail.content
    assert b"refused_then_retried" in detail.content
    assert b"REVIEW_SAMPLE_DRAWN" in detail.content


def test_a_refused_campaign_form_shows_the_field_and_writes_nothing(rworld):
    today = timezone.localdate()
    start = head()
    response = client_for(rworld["auditor"]).post(
        "/reviews/open/",
        {
            "org_unit": "bal-fug",
            "period_start": today.isoformat(),
            "period_end": (today - timedelta(days=3)).isoformat(),
            "deadline": today.isoformat(),
            "random_share": "0.1",
        },
    )
    assert response.status_code == 200
    assert b"the period ends after it starts" in response.content
    assert head() == start


def test_the_checklist_with_htmx(rworld):
    opened = actions.do_open_campaign(campaign(), actor=actor_for(rworld["auditor"]))
    first, second = list(opened.items.order_by("search_id"))[:2]
    boss = client_for(rworld["boss"])
    page = boss.get(f"/reviews/items/{first.pk}/")
    assert page.status_code == 200
    assert f'href="/searches/{first.search_id}/"'.encode() in page.content
    start = head()
    refused = boss.post(
        f"/reviews/items/{first.pk}/",
        {**ALL_YES, "verdict": "non_compliant"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 200
    assert b"fails at least one checklist item" in refused.content
    assert head() == start
    done = boss.post(
        f"/reviews/items/{first.pk}/",
        {
            **ALL_YES,
            "candidates_vetted": "no",
            "raise_candidates_vetted": "on",
            "severity_candidates_vetted": "critical",
            "verdict": "non_compliant",
            "notes": "Nobody vetted the four candidates.",
        },
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 204
    assert done["HX-Redirect"] == f"/reviews/items/{second.pk}/"
    assert events_since(start) == ["REVIEW_ITEM_RECORDED", "FINDING_RAISED"]
    finding = Finding.objects.get()
    assert (finding.kind, finding.severity) == ("candidates_not_vetted", "critical")
    # The officer cannot review their own search, nor see the review pages at all.
    assert client_for(rworld["searcher"]).get(f"/reviews/items/{second.pk}/").status_code == 403
    # Another field office's supervisor does not see the campaign.
    other = client_for(rworld["other_supervisor"])
    assert other.get(f"/reviews/items/{second.pk}/").status_code == 404
    assert other.get(f"/reviews/{opened.pk}/").status_code == 404


def test_closing_a_campaign_from_the_page(rworld):
    opened = actions.do_open_campaign(campaign(), actor=actor_for(rworld["auditor"]))
    auditor = client_for(rworld["auditor"])
    start = head()
    auditor.post(f"/reviews/{opened.pk}/close/", {})
    assert head() == start
    for item in ReviewItem.objects.filter(campaign=opened):
        actions.do_record_review(
            item.pk,
            actions.ReviewInput(answers=ALL_YES, verdict="compliant"),
            actor=actor_for(rworld["auditor"]),
        )
    start = head()
    response = auditor.post(f"/reviews/{opened.pk}/close/", {"note": "Done."})
    assert response.status_code == 302
    assert events_since(start) == ["REVIEW_CAMPAIGN_CLOSED"]


# --------------------------------------------------------------------------- findings


def test_the_finding_list_is_scoped_and_filtered(rworld):
    mine = raise_one(rworld)
    low = raise_one(rworld, source_ref="other", severity="low", system_id=None)
    for who, expected in [
        ("boss", {mine.pk, low.pk}),
        ("supervisor", {mine.pk, low.pk}),  # the searcher is in the supervisor's office
        ("other_supervisor", set()),
        ("auditor", {mine.pk, low.pk}),
        ("overseer", {mine.pk, low.pk}),
    ]:
        page = client_for(rworld[who]).get("/findings/")
        assert page.status_code == 200
        shown = {r[0].pk for r in page.context["rows"]}
        assert shown == expected, who
    assert client_for(rworld["searcher"]).get("/findings/").status_code == 403
    auditor = client_for(rworld["auditor"])
    assert [r[0].pk for r in auditor.get("/findings/?severity=low").context["rows"]] == [low.pk]
    assert [r[0].pk for r in auditor.get("/findings/?system=mirs").context["rows"]] == [mine.pk]
    assert auditor.get("/findings/?overdue=on").context["rows"] == []


def test_the_export_per_system_is_neutralised_and_logged(rworld):
    finding = raise_one(rworld)
    raise_one(rworld, source_ref="no-system", system_id=None)
    start = head()
    response = client_for(rworld["overseer"]).get("/findings/export.csv?system=mirs")
    assert response.status_code == 200
    streamed: Any = response  # a StreamingHttpResponse: the stubs type test responses as plain
    rows = list(csv.DictReader(io.StringIO(b"".join(streamed.streaming_content).decode())))
    assert [int(r["finding"]) for r in rows] == [finding.pk]
    assert rows[0]["summary"].startswith("'=HYPERLINK")
    assert "jdoe7" in rows[0]["detail"]
    assert "findings-mirs-" in response["Content-Disposition"]
    assert events_since(start) == ["FINDING_EXPORTED"]


def test_the_export_per_system_as_xlsx_for_the_owners_auditor(rworld):
    finding = raise_one(rworld)
    start = head()
    response = client_for(rworld["overseer"]).get("/findings/export.csv?system=mirs&format=xlsx")
    assert response.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(response.content), read_only=True)["findings"].iter_rows(
            values_only=True
        )
    )
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["finding"] == finding.pk
    assert str(record["summary"]).startswith("'=HYPERLINK")
    assert events_since(start) == ["FINDING_EXPORTED"]
    bad = client_for(rworld["overseer"]).get("/findings/export.csv?format=ods")
    assert bad.status_code == 400
    assert events_since(start) == ["FINDING_EXPORTED"]


def test_working_a_finding_from_its_page(rworld):
    finding = raise_one(rworld)
    boss = client_for(rworld["boss"])
    page = boss.get(f"/findings/{finding.pk}/")
    assert page.status_code == 200
    assert b"jdoe7" in page.content
    assert b"FINDING_RAISED" in page.content
    assert b"Record the remediation" in page.content
    # Oversight reads it, without the forms.
    seen = client_for(rworld["overseer"]).get(f"/findings/{finding.pk}/")
    assert b"Record the remediation" not in seen.content
    assert client_for(rworld["other_supervisor"]).get(f"/findings/{finding.pk}/").status_code == 404
    start = head()
    boss.post(f"/findings/{finding.pk}/remediation/", {"remediation": "Documented it."})
    boss.post(f"/findings/{finding.pk}/close/", {"resolution": "remediated", "note": "Fixed."})
    boss.post(f"/findings/{finding.pk}/close/", {"resolution": "no_issue", "note": "Again."})
    assert events_since(start) == ["FINDING_REMEDIATION_RECORDED", "FINDING_CLOSED"]
    finding.refresh_from_db()
    assert finding.resolution == "remediated"


# --------------------------------------------------------------------------- dashboard


def test_home_and_work_list_show_campaigns_and_findings(rworld):
    actions.do_open_campaign(campaign(), actor=actor_for(rworld["auditor"]))
    today = timezone.localdate()
    raise_one(rworld, due=today)
    home = client_for(rworld["boss"]).get("/")
    assert b"0 of 4 reviewed" in home.content
    assert b"You own 1 open finding" in home.content
    rows = [r.what for r in work_rows(actor_for(rworld["boss"]))]
    assert any(r.startswith("Work the high finding") for r in rows)
    assert any(r.startswith("Review 4 sampled searches") for r in rows)
    assert b"Review campaigns" not in client_for(rworld["searcher"]).get("/").content
