"""The dashboard: figures from records made through the real actions checked against a
hand count, scoped to a supervisor's units, filtered by unit, system and month; every
figure links to records that are there; a constant number of queries however many
searches; the charts are in the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from searchledger.apps.findings.actions import FindingDraft, raise_finding
from searchledger.apps.reports.dashboard import DashboardFilters, Share, build_dashboard
from searchledger.apps.searches import actions
from searchledger.apps.searches.tests.support import actor_for, make_searcher, request
from searchledger.core.actor import Actor

pytestmark = pytest.mark.django_db


def _client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def _this_month(rworld, account, *, later_days: int = 0):
    """The dashboard of this month, as seen ``later_days`` from today (findings are
    overdue as of that day)."""
    today = timezone.localdate()
    month = today.replace(day=1)
    board = build_dashboard(
        actor_for(account),
        DashboardFilters(first_month=month, last_month=month),
        today + timedelta(days=later_days),
    )
    return board, {row.system.code: row for row in board.rows if row.month == month}


def test_the_figures_match_the_hand_count(rworld):
    _, rows = _this_month(rworld, rworld["boss"])
    mirs = rows["mirs"]
    assert mirs.searches == 7
    assert mirs.documented == Share(5, 6)  # of the six authorised to run, five documented
    assert mirs.approved == Share(0, 0)  # the policy required no approval
    assert mirs.reviewed == Share(0, 5)
    assert mirs.people == 2
    assert mirs.documented.percent == "83% (5 of 6)"
    assert mirs.approved.percent == "none to count"


def test_a_supervisor_sees_only_their_units(rworld):
    _, above = _this_month(rworld, rworld["supervisor"])  # bal, above bal-fug
    assert above["mirs"].searches == 7
    board, elsewhere = _this_month(rworld, rworld["other_supervisor"])  # phl
    assert "mirs" not in elsewhere
    assert all(s.open_findings == 0 for s in board.standings)


def test_approval_in_advance_findings_and_lapsed_training(rworld, admin_actor):
    actions.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=actions.PolicySettings(approval_required=True),
        actor=admin_actor,
        reason="approval first",
    )
    searcher, boss = rworld["searcher"], rworld["boss"]
    waiting = actions.do_request_search(request(), actor=actor_for(searcher))
    actions.do_approve_search(waiting.pk, actor=actor_for(boss), reason="ok")
    late = make_searcher(rworld, admin_actor, "late", supervisor=boss, trained_days_ago=400)
    with transaction.atomic():
        raise_finding(
            FindingDraft(
                source="review",
                kind="documentation_incomplete",
                severity="low",
                summary="Outcome not documented.",
                source_ref="dash-1",
                subject_id=searcher.pk,
                system_id=rworld["system"].pk,
                due=timezone.localdate() + timedelta(days=1),
            ),
            actor=Actor.system(),
        )
    board, rows = _this_month(rworld, boss, later_days=2)  # two days on: the finding is late
    assert rows["mirs"].approved == Share(1, 1)
    assert rows["mirs"].people == 3  # late holds a grant too, though training has lapsed
    (standing,) = [s for s in board.standings if s.system.code == "mirs"]
    assert (standing.open_findings, standing.overdue_findings) == (1, 1)
    assert (standing.lapsed_training, standing.lapsed_grants) == (1, 0)
    assert late.username == "late"
    _, today = _this_month(rworld, boss)
    assert [s.overdue_findings for s in board.standings if s.system.code == "mirs"] == [1]
    assert today["mirs"].approved == Share(1, 1)


def test_every_figure_links_to_its_records(rworld):
    boss = _client(rworld["boss"])
    page = boss.get("/reports/dashboard/?system=mirs")
    assert page.status_code == 200
    rows = page.context["rows"]
    this_month = next(r for r in rows if r["row"].month == timezone.localdate().replace(day=1))
    listed = boss.get(this_month["searches_url"])
    assert listed.status_code == 200
    assert listed.context["total"] == this_month["row"].searches == 7
    documented = boss.get(this_month["documented_url"])
    assert documented.context["total"] == 5
    content = page.content.decode("utf-8")
    assert this_month["searches_url"].replace("&", "&amp;") in content
    (standing,) = page.context["standings"]
    assert boss.get(standing["open_url"]).status_code == 200
    assert 'href="/grants/access/"' in content
    assert content.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 3


def test_filters_by_unit_and_month_and_htmx_gets_the_figures(rworld):
    admin_like = _client(rworld["supervisor"])
    month = timezone.localdate().strftime("%Y-%m")
    page = admin_like.get(
        f"/reports/dashboard/?unit=phl&first_month={month}&last_month={month}",
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 200
    assert page.context["rows"] == []  # nobody in phl searched
    assert 'id="dashboard-figures"' in page.content.decode("utf-8")
    inverted = admin_like.get("/reports/dashboard/?first_month=2026-05&last_month=2026-01")
    assert "the last month is before the first" in inverted.content.decode("utf-8")


def test_the_number_of_queries_does_not_grow_with_the_searches(
    rworld, django_assert_max_num_queries
):
    boss = _client(rworld["boss"])
    boss.get("/reports/dashboard/")  # warm the session
    with django_assert_max_num_queries(30) as first:
        boss.get("/reports/dashboard/")
    searcher = rworld["searcher"]
    for _ in range(5):
        actions.do_request_search(request(), actor=actor_for(searcher))
    with django_assert_max_num_queries(len(first.captured_queries)):
        boss.get("/reports/dashboard/")
