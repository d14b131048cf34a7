"""The access rule: every reason a grant is not in force, and the boundaries of each date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchledger.core.access import (
    AccessFacts,
    CourseRequirement,
    GrantFacts,
    GrantStatus,
    Reason,
    decide_access,
    recertification_due,
    training_valid_until,
)

TODAY = date(2026, 11, 25)


BASE_GRANT = GrantFacts(
    status=GrantStatus.APPROVED,
    starts_on=date(2026, 1, 1),
    expires_on=date(2027, 12, 31),
    certified_on=date(2026, 1, 1),
    recertify_every_days=365,
)
BASE_FACTS = AccessFacts(
    account_active=True,
    system_name="MIRS",
    system_in_service=True,
    grant=BASE_GRANT,
    courses=(
        CourseRequirement("Privacy training", 365, date(2026, 3, 1)),
        CourseRequirement("MIRS user course", 730, date(2025, 6, 1)),
    ),
    current_rules_version=3,
    acknowledged_rules_versions=frozenset({1, 2, 3}),
)


def grant(**changes: Any) -> GrantFacts:
    return replace(BASE_GRANT, **changes)


def facts(**changes: Any) -> AccessFacts:
    return replace(BASE_FACTS, **changes)


def test_everything_in_order_is_allowed():
    decision = decide_access(facts(), TODAY)
    assert decision.allowed
    assert decision.refusals == ()
    assert decision.explain() == "Allowed: the grant is in force."


@pytest.mark.parametrize(
    ("changes", "reason", "words"),
    [
        ({"account_active": False}, Reason.ACCOUNT_INACTIVE, "deactivated"),
        ({"system_in_service": False}, Reason.SYSTEM_RETIRED, "MIRS is not in service"),
        ({"grant": None}, Reason.NO_GRANT, "no access grant for MIRS"),
        (
            {"grant": grant(status=GrantStatus.REQUESTED)},
            Reason.GRANT_NOT_APPROVED,
            "not been approved",
        ),
        ({"grant": grant(status=GrantStatus.REFUSED)}, Reason.GRANT_REFUSED, "refused"),
        ({"grant": grant(status=GrantStatus.REVOKED)}, Reason.GRANT_REVOKED, "revoked"),
        (
            {"grant": grant(starts_on=date(2026, 12, 1))},
            Reason.GRANT_NOT_STARTED,
            "starts on 2026-12-01",
        ),
        (
            {"grant": grant(expires_on=date(2026, 11, 24))},
            Reason.GRANT_EXPIRED,
            "expired on 2026-11-24",
        ),
        (
            {"grant": grant(certified_on=date(2025, 11, 1))},
            Reason.RECERTIFICATION_OVERDUE,
            "recertification on 2026-11-01",
        ),
        (
            {"courses": (CourseRequirement("Privacy training", 365, None),)},
            Reason.TRAINING_MISSING,
            "not completed: Privacy training",
        ),
        (
            {"courses": (CourseRequirement("Privacy training", 365, date(2025, 11, 1)),)},
            Reason.TRAINING_LAPSED,
            "lapsed on 2026-11-01: Privacy training",
        ),
        ({"current_rules_version": None}, Reason.NO_RULES_PUBLISHED, "no rules of behaviour"),
        (
            {"acknowledged_rules_versions": frozenset({1, 2})},
            Reason.RULES_NOT_ACKNOWLEDGED,
            "(version 3) have not been acknowledged",
        ),
    ],
)
def test_each_reason_refuses_and_says_why(changes, reason, words):
    decision = decide_access(facts(**changes), TODAY)
    assert not decision.allowed
    assert decision.reasons == (reason,)
    assert words in decision.explain()


def test_every_reason_is_reported_not_just_the_first():
    decision = decide_access(
        facts(
            account_active=False,
            grant=grant(expires_on=date(2026, 1, 2), certified_on=date(2024, 1, 1)),
            courses=(CourseRequirement("Privacy training", 365, None),),
            acknowledged_rules_versions=frozenset(),
        ),
        TODAY,
    )
    assert decision.reasons == (
        Reason.ACCOUNT_INACTIVE,
        Reason.GRANT_EXPIRED,
        Reason.RECERTIFICATION_OVERDUE,
        Reason.TRAINING_MISSING,
        Reason.RULES_NOT_ACKNOWLEDGED,
    )


def test_boundaries_are_inclusive_of_the_last_valid_day():
    g = grant(starts_on=TODAY, expires_on=TODAY, certified_on=TODAY - timedelta(days=365))
    assert recertification_due(g) == TODAY
    assert decide_access(facts(grant=g), TODAY).allowed
    assert not decide_access(facts(grant=g), TODAY + timedelta(days=1)).allowed
    assert not decide_access(facts(grant=g), TODAY - timedelta(days=1)).allowed


@given(
    completed=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    valid=st.integers(min_value=1, max_value=2000),
    offset=st.integers(min_value=-10, max_value=3000),
)
def test_training_is_valid_for_exactly_its_period(completed, valid, offset):
    day = completed + timedelta(days=offset)
    course = CourseRequirement("Course", valid, completed)
    decision = decide_access(facts(courses=(course,)), day)
    lapsed = Reason.TRAINING_LAPSED in decision.reasons
    assert lapsed == (offset >= valid)
    assert training_valid_until(completed, valid) == completed + timedelta(days=valid - 1)
