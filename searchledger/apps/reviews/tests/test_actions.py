"""Review campaigns: opening and drawing the sample, recording reviews, closing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from searchledger.apps.findings.models import Finding
from searchledger.apps.reviews import actions
from searchledger.apps.reviews.models import ReviewCampaign, ReviewItem
from searchledger.apps.searches.tests.support import (
    actor_for,
    entries_since,
    events_since,
    head,
)

from .conftest import ALL_YES, campaign

pytestmark = pytest.mark.django_db


def test_opening_draws_the_sample_by_rule_and_records_it(rworld):
    start = head()
    opened = actions.do_open_campaign(campaign(), actor=actor_for(rworld["boss"]))
    assert events_since(start) == ["REVIEW_CAMPAIGN_OPENED", "REVIEW_SAMPLE_DRAWN"]
    items = {i.search_id: i for i in opened.items.all()}
    w = rworld
    assert {k: v.reasons for k, v in items.items()} == {
        w["no_outcome"].pk: ["no_outcome"],
        w["no_roi"].pk: ["no_roi_number"],
        w["refused"].pk: ["purpose_near_limit"],
        w["retry"].pk: ["no_outcome", "refused_then_retried"],
    }
    assert items[w["retry"].pk].refused_search_id == w["refused"].pk
    assert opened.candidates == 5
    opening, drawn = entries_since(start)
    assert opening["data"]["seed"] == "7"
    assert opening["data"]["seed_generated"] is False
    assert opening["data"]["org_unit"] == "bal-fug"
    assert drawn["data"]["sampled"] == 4
    assert [s["search"] for s in drawn["data"]["searches"]] == sorted(items)


def test_the_random_share_draws_from_the_rest_and_a_seed_is_generated(rworld):
    opened = actions.do_open_campaign(
        campaign(random_share="1", seed=None), actor=actor_for(rworld["auditor"])
    )
    assert opened.seed_generated
    assert opened.items.get(search=rworld["clean"]).reasons == ["random"]
    again = actions.do_open_campaign(
        campaign(random_share="0.5", seed=opened.seed), actor=actor_for(rworld["auditor"])
    )
    third = actions.do_open_campaign(
        campaign(random_share="0.5", seed=opened.seed), actor=actor_for(rworld["auditor"])
    )
    assert list(again.items.values_list("search_id", "reasons")) == list(
        third.items.values_list("search_id", "reasons")
    )


@pytest.mark.parametrize("who", ["searcher", "overseer", "other_supervisor"])
def test_opening_is_refused_outside_ones_reach(rworld, who):
    start = head()
    with pytest.raises(PermissionDenied):
        actions.do_open_campaign(campaign(), actor=actor_for(rworld[who]))
    assert head() == start
    assert not ReviewCampaign.objects.exists()


def test_a_supervisor_reviews_only_their_unit_and_below(rworld):
    with pytest.raises(PermissionDenied):
        actions.do_open_campaign(campaign(org_unit_code="bal"), actor=actor_for(rworld["boss"]))
    # The boss's own supervisor is in bal, above bal-fug.
    actions.do_open_campaign(campaign(), actor=actor_for(rworld["supervisor"]))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"org_unit_code": "nowhere"}, "org_unit"),
        ({"period_start": timezone.localdate() + timedelta(days=1)}, "period_start"),
        ({"period_end": timezone.localdate() - timedelta(days=30)}, "period_end"),
        ({"deadline": timezone.localdate() - timedelta(days=1)}, "deadline"),
        ({"random_share": "1.5"}, "random_share"),
        ({"random_share": "lots"}, "random_share"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_campaigns_name_the_field_and_write_nothing(rworld, change, field):
    start = head()
    with pytest.raises(ValidationError) as caught:
        actions.do_open_campaign(campaign(**change), actor=actor_for(rworld["auditor"]))
    assert field in caught.value.message_dict
    assert head() == start


def _item(opened, search):
    return ReviewItem.objects.get(campaign=opened, search=search)


def test_recording_a_review_raises_the_chosen_findings(rworld):
    opened = actions.do_open_campaign(campaign(), actor=actor_for(rworld["auditor"]))
    item = _item(opened, rworld["no_roi"])
    start = head()
    review = actions.ReviewInput(
        answers={**ALL_YES, "documentation_complete": "no", "lead_correctly_recorded": "no"},
        verdict="non_compliant",
        notes="No ROI number two weeks on; Smith named as lead.",
        raise_findings=["documentation_complete"],
    )
    item, findings = actions.do_record_review(item.pk, review, actor=actor_for(rworld["boss"]))
    assert events_since(start) == ["REVIEW_ITEM_RECORDED", "FINDING_RAISED"]
    assert item.verdict == "non_compliant"
    (finding,) = findings
    assert (finding.source, finding.kind, finding.severity) == (
        "review",
        "documentation_incomplete",
        "medium",
    )
    assert finding.subject == rworld["searcher"]
    assert finding.owner == rworld["boss"]
    assert finding.search == rworld["no_roi"]
    body = json.dumps(entries_since(start))
    assert "Smith" not in body
    recorded = entries_since(start)[0]
    assert recorded["data"]["answers"]["documentation_complete"] == "no"
    assert "notes" in recorded["commitments"]


def test_review_refusals_write_nothing(rworld, admin_actor):
    opened = actions.do_open_campaign(campaign(), actor=actor_for(rworld["auditor"]))
    item = _item(opened, rworld["no_outcome"])
    good = actions.ReviewInput(answers=ALL_YES, verdict="compliant")
    start = head()
    for who in ("searcher", "other_supervisor", "overseer"):
        with pytest.raises(PermissionDenied):
            actions.do_record_review(item.pk, good, actor=actor_for(rworld[who]))
    boss = actor_for(rworld["boss"])
    with pytest.raises(ValidationError) as caught:
        actions.do_record_review(item.pk, replace(good, verdict="non_compliant"), actor=boss)
    assert "verdict" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        actions.do_record_review(
            item.pk, replace(good, raise_findings=["purpose_allowed"]), actor=boss
        )
    assert "raise_findings" in caught.value.message_dict
    assert head() == start
    actions.do_record_review(item.pk, good, actor=boss)
    start = head()
    with pytest.raises(ValidationError):
        actions.do_record_review(item.pk, good, actor=actor_for(rworld["auditor"]))
    assert head() == start
    assert not Finding.objects.exists()


def test_closing_waits_for_every_review(rworld):
    opened = actions.do_open_campaign(campaign(), actor=actor_for(rworld["auditor"]))
    auditor = actor_for(rworld["auditor"])
    start = head()
    with pytest.raises(ValidationError):
        actions.do_close_campaign(opened.pk, actor=auditor)
    assert head() == start
    for item in opened.items.all():
        actions.do_record_review(
            item.pk,
            actions.ReviewInput(
                answers={**ALL_YES, "purpose_allowed": "no"},
                verdict="minor_issues",
                raise_findings=["purpose_allowed"],
            ),
            actor=auditor,
        )
    start = head()
    with pytest.raises(PermissionDenied):
        actions.do_close_campaign(opened.pk, actor=actor_for(rworld["other_supervisor"]))
    actions.do_close_campaign(opened.pk, actor=auditor, note="Quarter done.")
    assert events_since(start) == ["REVIEW_CAMPAIGN_CLOSED"]
    closed = entries_since(start)[0]
    assert closed["data"] == {"sampled": 4, "verdicts": {"minor_issues": 4}, "findings": 4}
    with pytest.raises(ValidationError):
        actions.do_close_campaign(opened.pk, actor=auditor)
    with pytest.raises(ValidationError):
        actions.do_record_review(
            opened.items.all()[0].pk,
            actions.ReviewInput(answers=ALL_YES, verdict="compliant"),
            actor=auditor,
        )
