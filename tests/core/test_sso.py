"""The group-to-role mapping for single sign-on (pure): the first configured pair wins."""

from __future__ import annotations

import pytest

from searchledger.core.roles import Role
from searchledger.core.sso import (
    SsoMappingError,
    groups_from_claim,
    parse_group_roles,
    role_for_groups,
)

MAPPING = parse_group_roles(
    [["auditors", "auditor"], ["admins", "administrator"], ["officers", "officer"]]
)


def test_parse_keeps_the_order_and_converts_roles():
    assert MAPPING == (
        ("auditors", Role.AUDITOR),
        ("admins", Role.ADMINISTRATOR),
        ("officers", Role.OFFICER),
    )


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ({"officers"}, Role.OFFICER),
        ({"officers", "admins"}, Role.ADMINISTRATOR),
        ({"admins", "auditors"}, Role.AUDITOR),  # listed first, though less privileged
        ({"officers", "auditors", "admins"}, Role.AUDITOR),
        (set(), None),
        ({"Officers", "staff"}, None),
    ],
)
def test_the_first_listed_group_the_person_has_decides(groups, role):
    assert role_for_groups(groups, MAPPING) is role


def test_reordering_the_mapping_changes_the_answer():
    reordered = parse_group_roles([["admins", "administrator"], ["auditors", "auditor"]])
    assert role_for_groups({"admins", "auditors"}, reordered) is Role.ADMINISTRATOR


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "non-empty list"),
        ([], "non-empty list"),
        ("admins=administrator", "non-empty list"),
        ([["admins"]], "pair"),
        ([["admins", "administrator", "extra"]], "pair"),
        ([["admins", 1]], "pair"),
        ([["", "officer"]], "empty group"),
        ([["admins", "root"]], "unknown role 'root'"),
        ([["a", "officer"], ["a", "auditor"]], "mapped twice"),
    ],
)
def test_malformed_mappings_are_refused(raw, message):
    with pytest.raises(SsoMappingError, match=message):
        parse_group_roles(raw)


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        (["a", "b"], {"a", "b"}),
        ("a", {"a"}),
        (["a", 3, None], {"a"}),
        (None, set()),
        ({"a": True}, set()),
        (42, set()),
    ],
)
def test_groups_from_claim(value, groups):
    assert groups_from_claim(value) == frozenset(groups)
