"""The search rules, without a database: the request decision, the outcome, the deadlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchledger.core.access import AccessDecision, Reason, Refusal
from searchledger.core.searches import (
    CaseState,
    ConventionalTechnique,
    LeadGeneration,
    LeadPosture,
    OutcomeFacts,
    PolicyFacts,
    ProbeSource,
    RefusalCode,
    SearchRequestFacts,
    Verdict,
    Vetting,
    VettingResult,
    add_business_days,
    decide_request,
    documentation_due,
    is_business_day,
    outcome_errors,
    policy_errors,
    request_errors,
    us_federal_holidays,
)

ALLOWED = AccessDecision(allowed=True, refusals=())
LAPSED = AccessDecision(
    allowed=False,
    refusals=(
        Refusal(Reason.TRAINING_LAPSED, "Training lapsed on 2026-01-02: Privacy training."),
        Refusal(Reason.GRANT_EXPIRED, "The access grant expired on 2026-01-01."),
    ),
)
POLICY = PolicyFacts(version=3)
REQUEST = SearchRequestFacts(
    purpose="robbery",
    case_number="BAL-2026-0042",
    case_state=CaseState.OPEN,
    lead_posture=LeadPosture.ADVANCES_EXISTING,
    techniques_tried=frozenset({ConventionalTechnique.GOVERNMENT_DATABASES}),
    techniques_notes="",
    probe_source=ProbeSource.SURVEILLANCE_STILL,
    probe_source_notes="",
    probe_lawfully_obtained=True,
    attested_not_protected=True,
)


def test_a_proper_request_is_allowed_with_the_policy_version():
    decision = decide_request(REQUEST, POLICY, ALLOWED)
    assert decision.verdict is Verdict.ALLOW
    assert decision.policy_version == 3
    assert decision.codes == ()


def test_no_access_refuses_with_every_access_reason_on_the_system_field():
    decision = decide_request(REQUEST, POLICY, LAPSED)
    assert decision.verdict is Verdict.REFUSE
    assert decision.codes == (RefusalCode.NO_ACCESS, RefusalCode.NO_ACCESS)
    assert decision.by_field() == {
        "system": [
            "Training lapsed on 2026-01-02: Privacy training.",
            "The access grant expired on 2026-01-01.",
        ]
    }


@pytest.mark.parametrize(
    ("change", "policy", "field", "code"),
    [
        ({"attested_not_protected": False}, POLICY, "attestation", "attestation_not_given"),
        ({"probe_lawfully_obtained": False}, POLICY, "probe_lawfully_obtained", "probe_not_lawful"),
        (
            {},
            replace(POLICY, forbidden_purposes=frozenset({"robbery"})),
            "purpose",
            "purpose_forbidden",
        ),
        (
            {},
            replace(POLICY, allowed_purposes=frozenset({"homicide"})),
            "purpose",
            "purpose_not_allowed",
        ),
        (
            {"lead_posture": LeadPosture.GENERATES_NEW},
            replace(POLICY, lead_generation=LeadGeneration.FORBIDDEN),
            "lead_posture",
            "lead_generation_forbidden",
        ),
        ({"techniques_tried": frozenset()}, POLICY, "techniques_tried", "techniques_not_attested"),
        (
            {"case_state": CaseState.UNKNOWN},
            replace(POLICY, require_known_open_case=True),
            "case_number",
            "case_not_known",
        ),
        (
            {"case_state": CaseState.CLOSED},
            replace(POLICY, require_known_open_case=True),
            "case_number",
            "case_closed",
        ),
    ],
)
def test_each_refusal_names_its_field(change, policy, field, code):
    decision = decide_request(replace(REQUEST, **change), policy, ALLOWED)
    assert decision.verdict is Verdict.REFUSE
    assert decision.codes == (RefusalCode(code),)
    assert list(decision.by_field()) == [field]


def test_rules_that_a_policy_may_switch_off():
    relaxed = replace(POLICY, require_conventional_techniques=False)
    request = replace(REQUEST, techniques_tried=frozenset(), case_state=CaseState.UNKNOWN)
    assert decide_request(request, relaxed, ALLOWED).verdict is Verdict.ALLOW
    generating = replace(REQUEST, lead_posture=LeadPosture.GENERATES_NEW)
    assert decide_request(generating, POLICY, ALLOWED).verdict is Verdict.ALLOW


@pytest.mark.parametrize(
    ("change", "policy", "codes"),
    [
        ({}, replace(POLICY, approval_required=True), ["approval_required"]),
        (
            {},
            replace(POLICY, approval_purposes=frozenset({"robbery"})),
            ["purpose_needs_approval"],
        ),
        (
            {"lead_posture": LeadPosture.GENERATES_NEW},
            replace(POLICY, approval_required=True, lead_generation=LeadGeneration.NEEDS_APPROVAL),
            ["approval_required", "lead_generation_needs_approval"],
        ),
    ],
)
def test_approval_reasons(change, policy, codes):
    decision = decide_request(replace(REQUEST, **change), policy, ALLOWED)
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    assert [c.value for c in decision.codes] == codes
    assert decision.refusals == ()


def test_a_refusal_wins_over_needing_approval():
    policy = replace(POLICY, approval_required=True)
    decision = decide_request(replace(REQUEST, attested_not_protected=False), policy, ALLOWED)
    assert decision.verdict is Verdict.REFUSE
    assert decision.approval_reasons == ()


@pytest.mark.parametrize(
    ("change", "pattern", "field", "words"),
    [
        ({"case_number": " "}, "", "case_number", "required"),
        ({"case_number": "x" * 65}, "", "case_number", "longer than 64"),
        ({"case_number": "BAL 42; drop"}, "", "case_number", "only letters"),
        ({"case_number": "42"}, r"BAL-\d{4}-\d{4}", "case_number", "not in the format"),
        (
            {"techniques_tried": frozenset({ConventionalTechnique.OTHER})},
            "",
            "techniques_notes",
            "describe",
        ),
        ({"probe_source": ProbeSource.OTHER}, "", "probe_source_notes", "where"),
    ],
)
def test_malformed_requests(change, pattern, field, words):
    errors = request_errors(
        replace(REQUEST, **change), replace(POLICY, case_number_pattern=pattern)
    )
    assert list(errors) == [field]
    assert words in errors[field]


def test_the_case_number_pattern_must_match_whole():
    policy = replace(POLICY, case_number_pattern=r"BAL-\d{4}-\d{4}")
    assert request_errors(REQUEST, policy) == {}
    assert "case_number" in request_errors(replace(REQUEST, case_number="BAL-2026-00421"), policy)


def test_policy_errors():
    known = frozenset({"robbery", "homicide"})
    bad = PolicyFacts(
        version=1,
        allowed_purposes=frozenset({"robbery", "nope"}),
        forbidden_purposes=frozenset({"homicide"}),
        approval_purposes=frozenset({"zzz"}),
        case_number_pattern="(",
        documentation_business_days=0,
        store_probe_images=True,
    )
    assert set(policy_errors(bad, known)) == {
        "allowed_purposes",
        "approval_purposes",
        "case_number_pattern",
        "documentation_business_days",
        "probe_retention_days",
    }
    both = PolicyFacts(
        version=1,
        allowed_purposes=frozenset({"robbery"}),
        forbidden_purposes=frozenset({"robbery"}),
    )
    assert "both allowed and forbidden" in policy_errors(both, known)["forbidden_purposes"]
    assert policy_errors(POLICY, known) == {}


# --------------------------------------------------------------------------- outcomes

OFFICER = 7
OUTCOME = OutcomeFacts(
    officer_id=OFFICER,
    candidates_returned=3,
    vettings=(Vetting(OFFICER, VettingResult.MATCH_CONFIRMED),),
    lead_derived=True,
    further_action="Interview scheduled.",
)


def test_a_vetted_confirmed_match_may_be_a_lead():
    assert outcome_errors(OUTCOME, POLICY) == {}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"vettings": ()}, "lead_derived", "nobody vetted"),
        ({"candidates_returned": 0, "vettings": ()}, "lead_derived", "no candidates"),
        (
            {"vettings": (Vetting(OFFICER, VettingResult.INCONCLUSIVE),)},
            "lead_derived",
            "confirmed a match",
        ),
        (
            {
                "vettings": (
                    Vetting(OFFICER, VettingResult.MATCH_CONFIRMED),
                    Vetting(8, VettingResult.NO_MATCH),
                )
            },
            "lead_derived",
            "did not all confirm",
        ),
        ({"candidates_returned": -1}, "candidates_returned", "negative"),
        ({"further_action": " "}, "further_action", "further action"),
    ],
)
def test_outcome_errors(change, field, words):
    errors = outcome_errors(replace(OUTCOME, **change), POLICY)
    assert field in errors
    assert words in errors[field]


def test_vettings_without_candidates_or_twice_by_one_person():
    none = replace(OUTCOME, candidates_returned=0, lead_derived=False)
    assert "no candidates to vet" in outcome_errors(none, POLICY)["vettings"]
    twice = replace(OUTCOME, vettings=(OUTCOME.vettings[0], OUTCOME.vettings[0]))
    assert "once" in outcome_errors(twice, POLICY)["vettings"]


def test_no_lead_needs_no_vetting():
    unvetted = replace(OUTCOME, vettings=(), lead_derived=False)
    assert outcome_errors(unvetted, POLICY) == {}


def test_two_person_verification():
    policy = replace(POLICY, two_person_verification=True)
    assert "two-person" in outcome_errors(OUTCOME, policy)["vettings"]
    officer_and_one = replace(
        OUTCOME, vettings=(*OUTCOME.vettings, Vetting(8, VettingResult.MATCH_CONFIRMED))
    )
    assert "two-person" in outcome_errors(officer_and_one, policy)["vettings"]
    two_others = replace(
        OUTCOME,
        vettings=(
            Vetting(8, VettingResult.MATCH_CONFIRMED),
            Vetting(9, VettingResult.MATCH_CONFIRMED),
        ),
    )
    assert outcome_errors(two_others, policy) == {}
    # Without a lead there is nothing to verify twice.
    assert outcome_errors(replace(OUTCOME, lead_derived=False), policy) == {}


# --------------------------------------------------------------------------- deadlines


def test_federal_holidays_2026():
    assert us_federal_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),  # 4 July is a Saturday
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    }


def test_new_years_day_on_a_saturday_is_observed_the_year_before():
    assert date(2027, 12, 31) in us_federal_holidays(2027)  # 1 Jan 2028 is a Saturday
    assert date(2028, 1, 1) not in us_federal_holidays(2028)
    assert len(us_federal_holidays(2028)) == 10


def test_documentation_due_skips_weekends_and_holidays():
    policy = replace(POLICY, documentation_business_days=2)
    # Wednesday 25 Nov 2026: Thursday is Thanksgiving, so Friday and Monday.
    assert documentation_due(date(2026, 11, 25), policy) == date(2026, 11, 30)
    # Friday: Monday and Tuesday.
    assert documentation_due(date(2026, 11, 6), policy) == date(2026, 11, 10)
    # Christmas Eve 2026 (Thursday) to New Year: Monday 28 and Tuesday 29 Dec.
    assert documentation_due(date(2026, 12, 24), policy) == date(2026, 12, 29)
    assert documentation_due(date(2026, 12, 30), policy) == date(2027, 1, 4)
    assert documentation_due(date(2026, 11, 6), policy, frozenset()) == date(2026, 11, 10)


def test_add_business_days_refuses_negative():
    with pytest.raises(ValueError, match="negative"):
        add_business_days(date(2026, 1, 1), -1, frozenset())


DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(start=DAYS, n=st.integers(min_value=0, max_value=40))
def test_business_days_properties(start, n):
    holidays = us_federal_holidays(start.year) | us_federal_holidays(start.year + 1)
    end = add_business_days(start, n, holidays)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    # Exactly n business days in (start, end], and the last one is end itself.
    assert sum(is_business_day(d, holidays) for d in between) == n
    if n:
        assert is_business_day(end, holidays)
    else:
        assert end == start
    # n business days take at least n days and, with at most a few holidays, at most about
    # seven fifths of them plus a long weekend.
    assert n <= (end - start).days <= n * 7 // 5 + 4 + len(holidays & set(between))


@given(start=DAYS, a=st.integers(0, 20), b=st.integers(0, 20))
def test_business_days_add_up(start, a, b):
    holidays = us_federal_holidays(start.year) | us_federal_holidays(start.year + 1)
    assert add_business_days(add_business_days(start, a, holidays), b, holidays) == (
        add_business_days(start, a + b, holidays)
    )


@given(year=st.integers(2021, 2100))
def test_holidays_are_eleven_weekdays_or_ten_when_new_year_moved_back(year):
    days = us_federal_holidays(year)
    assert all(d.year == year and d.weekday() < 5 for d in days)
    moved = date(year, 1, 1).weekday() == 5
    assert len(days) == (10 if moved else 11) + (date(year + 1, 1, 1).weekday() == 5)


# --------------------------------------------------------------------------- properties

PURPOSES = st.sampled_from(["robbery", "homicide", "immigration_civil_enforcement", "other"])
PURPOSE_SETS = st.frozensets(PURPOSES)
SEVERITY = {Verdict.ALLOW: 0, Verdict.NEEDS_APPROVAL: 1, Verdict.REFUSE: 2}

requests = st.builds(
    SearchRequestFacts,
    purpose=PURPOSES,
    case_number=st.just("BAL-2026-0042"),
    case_state=st.sampled_from(CaseState),
    lead_posture=st.sampled_from(LeadPosture),
    techniques_tried=st.frozensets(st.sampled_from(ConventionalTechnique)),
    techniques_notes=st.just("notes"),
    probe_source=st.sampled_from(ProbeSource),
    probe_source_notes=st.just("notes"),
    probe_lawfully_obtained=st.booleans(),
    attested_not_protected=st.booleans(),
)
policies = st.builds(
    PolicyFacts,
    version=st.integers(1, 50),
    allowed_purposes=PURPOSE_SETS,
    forbidden_purposes=PURPOSE_SETS,
    approval_required=st.booleans(),
    approval_purposes=PURPOSE_SETS,
    lead_generation=st.sampled_from(LeadGeneration),
    require_conventional_techniques=st.booleans(),
    require_known_open_case=st.booleans(),
)


@given(request=requests, policy=policies, access=st.sampled_from([ALLOWED, LAPSED]))
def test_the_decision_is_consistent(request, policy, access):
    decision = decide_request(request, policy, access)
    assert decision.policy_version == policy.version
    hard_no = (
        not access.allowed
        or not request.attested_not_protected
        or not request.probe_lawfully_obtained
        or request.purpose in policy.forbidden_purposes
    )
    if hard_no:
        assert decision.verdict is Verdict.REFUSE
    # Reasons are given exactly when the verdict is not a plain yes, and name fields.
    assert bool(decision.codes) == (decision.verdict is not Verdict.ALLOW)
    assert all(field for field in decision.by_field())
    if decision.verdict is Verdict.REFUSE:
        assert decision.approval_reasons == ()


@given(request=requests, policy=policies, extra=PURPOSES)
def test_a_stricter_policy_is_never_more_permissive(request, policy, extra):
    before = decide_request(request, policy, ALLOWED).verdict
    stricter = [
        replace(policy, forbidden_purposes=policy.forbidden_purposes | {extra}),
        replace(policy, approval_required=True),
        replace(policy, approval_purposes=policy.approval_purposes | {extra}),
        replace(policy, require_conventional_techniques=True),
        replace(policy, require_known_open_case=True),
        replace(policy, lead_generation=LeadGeneration.FORBIDDEN),
    ]
    for tighter in stricter:
        after = decide_request(request, tighter, ALLOWED).verdict
        assert SEVERITY[after] >= SEVERITY[before]


vettings = st.lists(
    st.builds(Vetting, vetter_id=st.integers(1, 9), result=st.sampled_from(VettingResult)),
    max_size=4,
)


@given(
    candidates=st.integers(0, 5),
    found=vettings,
    lead=st.booleans(),
    two_person=st.booleans(),
)
def test_an_accepted_lead_always_rests_on_confirmed_vetting(candidates, found, lead, two_person):
    outcome = OutcomeFacts(
        officer_id=OFFICER,
        candidates_returned=candidates,
        vettings=tuple(found),
        lead_derived=lead,
        further_action="followed up",
    )
    policy = replace(POLICY, two_person_verification=two_person)
    if outcome_errors(outcome, policy) or not lead:
        return
    assert candidates > 0
    assert found
    assert all(v.result is VettingResult.MATCH_CONFIRMED for v in found)
    if two_person:
        assert len({v.vetter_id for v in found} - {OFFICER}) >= 2
