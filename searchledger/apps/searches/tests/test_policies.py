"""Search policies as data: each rule, versions, which policy applies, known cases, and bad
input to a request (refused naming the field, nothing written)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from searchledger.apps.searches import actions, selectors
from searchledger.apps.searches.models import SearchPolicy, SearchRecord
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.core.searches import documentation_due

from .support import actor_for, counts, entries_since, head, make_searcher, request

pytestmark = pytest.mark.django_db


def set_policy(admin_actor, unit: str | None = "bal-fug", system: str | None = "mirs", **values):
    return actions.do_set_search_policy(
        org_unit_code=unit,
        system_code=system,
        settings=actions.PolicySettings(**values),
        actor=admin_actor,
        reason="test policy",
    )


def refused(sworld, **change) -> actions.SearchRefused:
    with pytest.raises(actions.SearchRefused) as info:
        actions.do_request_search(request(**change), actor=actor_for(sworld["searcher"]))
    return info.value


def test_forbidden_purpose_is_refused_and_recorded(sworld):
    start = head()
    error = refused(sworld, purpose="immigration_civil_enforcement")
    assert list(error.message_dict) == ["purpose"]
    assert "forbidden" in error.message_dict["purpose"][0]
    assert error.search.status == "refused"
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_REQUEST_REFUSED"
    assert entry["data"]["reasons"] == ["purpose_forbidden"]
    assert entry["data"]["policy_version"] == 1


def test_allowed_purposes_limit_the_rest(sworld, admin_actor):
    set_policy(admin_actor, allowed_purposes=["homicide", "human_trafficking"])
    error = refused(sworld)
    assert "not among the purposes" in error.message_dict["purpose"][0]
    search = actions.do_request_search(
        request(purpose="homicide"), actor=actor_for(sworld["searcher"])
    )
    assert search.status == "authorised"


def test_purposes_that_need_approval(sworld, admin_actor):
    set_policy(admin_actor, approval_purposes=["fugitive_offences"])
    officer = actor_for(sworld["searcher"])
    assert actions.do_request_search(request(), actor=officer).status == "authorised"
    waiting = actions.do_request_search(request(purpose="fugitive_offences"), actor=officer)
    assert waiting.status == "pending_approval"
    assert [r["code"] for r in waiting.decision_reasons] == ["purpose_needs_approval"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("allowed", "authorised"), ("needs_approval", "pending_approval"), ("forbidden", "refused")],
)
def test_lead_generation(sworld, admin_actor, rule, expected):
    set_policy(admin_actor, lead_generation=rule)
    officer = actor_for(sworld["searcher"])
    generating = request(lead_posture="generates_new")
    if rule == "forbidden":
        with pytest.raises(actions.SearchRefused) as info:
            actions.do_request_search(generating, actor=officer)
        assert "only to advance an existing lead" in info.value.message_dict["lead_posture"][0]
        search = info.value.search
    else:
        search = actions.do_request_search(generating, actor=officer)
    assert search.status == expected
    # Advancing an existing lead is unaffected.
    assert actions.do_request_search(request(), actor=officer).status == "authorised"


def test_conventional_techniques_when_the_policy_requires_them(sworld, admin_actor):
    error = refused(sworld, techniques_tried=[])
    assert "conventional identification techniques" in error.message_dict["techniques_tried"][0]
    set_policy(admin_actor, require_conventional_techniques=False)
    search = actions.do_request_search(
        request(techniques_tried=[]), actor=actor_for(sworld["searcher"])
    )
    assert search.status == "authorised"


def test_known_open_case(sworld, admin_actor):
    set_policy(admin_actor, require_known_open_case=True)
    error = refused(sworld)
    assert "not a known case" in error.message_dict["case_number"][0]
    boss = actor_for(sworld["boss"])
    case = actions.do_open_case(
        org_unit_code="bal-fug", case_system="ICM", number="BAL-2026-0042", actor=boss
    )
    # The same number in another case-management system is another case.
    assert "case_number" in refused(sworld, case_system="EID").message_dict
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    assert search.status == "authorised"
    assert search.case == case
    start = head()
    actions.do_close_case(case.pk, actor=boss)
    assert [e["event"] for e in entries_since(start)] == ["SEARCH_CASE_CLOSED"]
    assert "is closed" in refused(sworld).message_dict["case_number"][0]


def test_cases_are_managed_within_the_unit(sworld, admin_actor):
    start = head()
    case = actions.do_open_case(
        org_unit_code="bal-fug", case_system="ICM", number="BAL-1", actor=actor_for(sworld["boss"])
    )
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_CASE_OPENED"
    assert set(entry["commitments"]) == {"number"}
    assert "BAL-1" not in str(entry["data"])
    # The supervisor above may too; another office's supervisor and officers may not.
    actions.do_open_case(
        org_unit_code="bal",
        case_system="ICM",
        number="BAL-2",
        actor=actor_for(sworld["supervisor"]),
    )
    with pytest.raises(PermissionDenied):
        actions.do_open_case(
            org_unit_code="bal",
            case_system="ICM",
            number="BAL-3",
            actor=actor_for(sworld["other_supervisor"]),
        )
    with pytest.raises(PermissionDenied):
        actions.do_close_case(case.pk, actor=actor_for(sworld["other_supervisor"]))
    with pytest.raises(PermissionDenied):
        actions.do_open_case(
            org_unit_code="bal-fug",
            case_system="ICM",
            number="BAL-4",
            actor=actor_for(sworld["searcher"]),
        )
    with pytest.raises(ValidationError) as info:
        actions.do_open_case(
            org_unit_code="nowhere", case_system="", number="BAL-1", actor=admin_actor
        )
    assert set(info.value.message_dict) == {"org_unit", "case_system"}
    with pytest.raises(ValidationError, match="already registered"):
        actions.do_open_case(
            org_unit_code="bal-fug", case_system="ICM", number="BAL-1", actor=admin_actor
        )
    actions.do_close_case(case.pk, actor=admin_actor)
    with pytest.raises(ValidationError, match="already closed"):
        actions.do_close_case(case.pk, actor=admin_actor)


def test_documentation_deadline_comes_from_the_policy(sworld, admin_actor):
    policy = set_policy(admin_actor, documentation_business_days=5)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    assert search.documentation_due == documentation_due(timezone.localdate(), policy.facts())
    assert (search.documentation_due - timezone.localdate()).days >= 7


def test_two_person_verification(sworld, admin_actor):
    set_policy(admin_actor, two_person_verification=True)
    officer, boss = sworld["searcher"], sworld["boss"]
    search = actions.do_request_search(request(), actor=actor_for(officer))
    second = make_searcher(sworld, admin_actor, "examiner", supervisor=boss)

    def document(*vetters):
        return actions.do_document_outcome(
            search.pk,
            actions.SearchOutcome(
                searched_at=timezone.now(),
                candidates_returned=2,
                lead_derived=True,
                further_action="Arrest warrant sought.",
                vettings=[actions.VettingInput(v.pk, "match_confirmed") for v in vetters],
            ),
            actor=actor_for(officer),
        )

    before = counts()
    for vetters in [(officer,), (officer, second), (second,)]:
        with pytest.raises(ValidationError) as info:
            document(*vetters)
        assert "two-person verification" in info.value.message_dict["vettings"][0]
    assert counts() == before
    document(second, boss)
    assert SearchRecord.objects.get(pk=search.pk).vettings.count() == 2


def test_policy_versions_and_which_policy_applies(sworld, admin_actor):
    officer = actor_for(sworld["searcher"])
    first = actions.do_request_search(request(), actor=officer)
    assert (first.policy, first.policy_version) == (sworld["policy"], 1)
    # A policy for the office (above the officer's unit) overrides the agency's.
    office = set_policy(admin_actor, unit="bal", system=None, approval_required=True)
    assert selectors.applicable_policy(sworld["searcher"], sworld["system"]) == office
    assert actions.do_request_search(request(), actor=officer).status == "pending_approval"
    # A new agency-wide version does not override the office's policy...
    agency_v2 = set_policy(admin_actor, unit=None, system=None)
    assert agency_v2.version == 2
    assert selectors.applicable_policy(sworld["searcher"], sworld["system"]) == office
    # ...but reaches another office's officers.
    other = make_searcher(sworld, admin_actor, "philly", unit="phl")
    assert selectors.applicable_policy(other, sworld["system"]) == agency_v2
    # The unit's own policy for this system is the most specific.
    unit_v1 = set_policy(admin_actor)
    unit_v2 = set_policy(admin_actor, forbidden_purposes=["robbery"])
    assert (unit_v1.version, unit_v2.version) == (1, 2)
    assert selectors.applicable_policy(sworld["searcher"], sworld["system"]) == unit_v2
    start = head()
    error = refused(sworld)
    assert (error.search.policy, error.search.policy_version) == (unit_v2, 2)
    assert entries_since(start)[0]["data"]["policy"] == unit_v2.pk
    # Earlier decisions keep the version that made them.
    first.refresh_from_db()
    assert (first.policy, first.policy_version) == (sworld["policy"], 1)


def test_setting_a_policy_is_recorded_in_clear(sworld, admin_actor):
    start = head()
    policy = set_policy(
        admin_actor,
        forbidden_purposes=["immigration_civil_enforcement"],
        case_number_pattern=r"BAL-\d{4}-\d{4}",
        store_probe_images=True,
        probe_retention_days=90,
    )
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_POLICY_SET"
    assert entry["object"] == {"type": "searches.searchpolicy", "id": str(policy.pk)}
    assert entry["data"]["org_unit"] == "bal-fug"
    assert entry["data"]["system"] == "mirs"
    assert entry["data"]["forbidden_purposes"] == ["immigration_civil_enforcement"]
    assert entry["data"]["probe_retention_days"] == 90
    assert set(entry["commitments"]) == {"reason"}


@pytest.mark.parametrize(
    ("values", "unit", "field"),
    [
        ({"allowed_purposes": ["no_such_purpose"]}, "bal-fug", "allowed_purposes"),
        ({"case_number_pattern": "(unclosed"}, "bal-fug", "case_number_pattern"),
        ({"documentation_business_days": 0}, "bal-fug", "documentation_business_days"),
        ({"lead_generation": "sometimes"}, "bal-fug", "lead_generation"),
        ({"store_probe_images": True}, "bal-fug", "probe_retention_days"),
        ({}, "nowhere", "org_unit"),
    ],
)
def test_bad_policies_name_the_field(sworld, admin_actor, values, unit, field):
    before = head(), SearchPolicy.objects.count()
    with pytest.raises(ValidationError) as info:
        set_policy(admin_actor, unit=unit, **values)
    assert field in info.value.message_dict
    assert (head(), SearchPolicy.objects.count()) == before


def test_only_administrators_set_policies(sworld, admin_actor):
    for who in ("boss", "supervisor", "searcher"):
        with pytest.raises(PermissionDenied):
            set_policy(actor_for(sworld[who]))
    with pytest.raises(ValidationError) as info:
        actions.do_set_search_policy(
            org_unit_code=None,
            system_code="nope",
            settings=actions.PolicySettings(),
            actor=admin_actor,
            reason=" ",
        )
    assert set(info.value.message_dict) == {"system", "reason"}


REQUEST_CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"system_code": "nope"}, "system", "no system with code 'nope'"),
    ({"purpose": "loitering"}, "purpose", "no purpose"),
    ({"case_number": ""}, "case_number", "required"),
    ({"case_number": "BAL 42; DROP"}, "case_number", "only letters"),
    ({"case_system": ""}, "case_system", "required"),
    ({"lead_posture": "maybe"}, "lead_posture", "unknown value 'maybe'"),
    ({"probe_source": "dmv"}, "probe_source", "unknown value 'dmv'"),
    ({"techniques_tried": ["seance"]}, "techniques_tried", "unknown value 'seance'"),
    ({"techniques_tried": ["other"]}, "techniques_notes", "describe"),
    ({"probe_source": "other"}, "probe_source_notes", "where the probe image came from"),
    ({"purpose": "other", "justification": ""}, "justification", "explain the purpose"),
]


@pytest.mark.parametrize(("change", "field", "words"), REQUEST_CASES)
def test_bad_requests_name_the_field_and_write_nothing(sworld, change, field, words):
    if "techniques_tried" in change or "probe_source" in change:
        change = {"techniques_notes": "", **change}
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_request_search(request(**change), actor=actor_for(sworld["searcher"]))
    assert not isinstance(info.value, actions.SearchRefused)
    assert words in " ".join(info.value.message_dict[field])
    assert counts() == before


def test_a_case_number_in_the_wrong_format_for_the_policy(sworld, admin_actor):
    set_policy(admin_actor, case_number_pattern=r"BAL-\d{4}-\d{4}")
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_request_search(
            request(case_number="2026-42"), actor=actor_for(sworld["searcher"])
        )
    assert "not in the format this policy requires" in info.value.message_dict["case_number"][0]
    assert counts() == before
    actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))


def test_a_retired_purpose_is_refused_as_bad_input(sworld, admin_actor):
    start = head()
    actions.do_retire_offence_category("robbery", actor=admin_actor)
    assert [e["event"] for e in entries_since(start)] == ["SEARCH_PURPOSE_RETIRED"]
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    assert "retired" in info.value.message_dict["purpose"][0]
    assert counts() == before
    with pytest.raises(ValidationError, match="already retired"):
        actions.do_retire_offence_category("robbery", actor=admin_actor)


def test_no_search_without_a_policy(world, admin_actor):
    actions.do_seed_offence_categories(actor=admin_actor)
    officer = make_searcher(world, admin_actor, "early", unit="bal")
    before = counts()
    with pytest.raises(ValidationError) as info:
        actions.do_request_search(request(), actor=actor_for(officer))
    assert "no search policy covers MIRS" in info.value.message_dict["system"][0]
    assert counts() == before


def test_several_refusals_are_all_reported(sworld):
    error = refused(
        sworld, attested_not_protected=False, probe_lawfully_obtained=False, techniques_tried=[]
    )
    assert set(error.message_dict) == {"attestation", "probe_lawfully_obtained", "techniques_tried"}
    assert [r["code"] for r in error.search.decision_reasons] == [
        "attestation_not_given",
        "probe_not_lawful",
        "techniques_not_attested",
    ]


def test_who_may_request(sworld, make_account):
    with pytest.raises(PermissionDenied):
        actions.do_request_search(request(), actor=Actor.system())
    for role in (Role.AUDITOR, Role.OVERSIGHT):
        reader = make_account(f"reader-{role.value}", role)
        with pytest.raises(PermissionDenied):
            actions.do_request_search(request(), actor=actor_for(reader))
