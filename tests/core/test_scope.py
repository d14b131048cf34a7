"""Scope: whom each role may act for."""

from __future__ import annotations

from searchledger.core.roles import Permission, Role, role_may
from searchledger.core.scope import Person, in_scope, units_below

AGENCY, ERO, BALTIMORE, TEAM = 1, 2, 3, 4
OTHER_OFFICE = 5


def person(pk, role, supervisor=None, path=()):
    return Person(account_id=pk, role=role, supervisor_id=supervisor, unit_path=path)


SUPERVISOR = person(10, Role.SUPERVISOR, path=(AGENCY, ERO, BALTIMORE))
REPORT_ELSEWHERE = person(11, Role.OFFICER, supervisor=10, path=(AGENCY, ERO, OTHER_OFFICE))
IN_UNIT = person(12, Role.OFFICER, supervisor=99, path=(AGENCY, ERO, BALTIMORE, TEAM))
OTHER = person(13, Role.OFFICER, supervisor=98, path=(AGENCY, ERO, OTHER_OFFICE))


def test_supervisor_reaches_reports_and_units_below_only():
    assert in_scope(SUPERVISOR, REPORT_ELSEWHERE)
    assert in_scope(SUPERVISOR, IN_UNIT)
    assert not in_scope(SUPERVISOR, OTHER)
    assert in_scope(SUPERVISOR, SUPERVISOR)


def test_officer_reaches_only_themself():
    assert in_scope(IN_UNIT, IN_UNIT)
    assert not in_scope(IN_UNIT, OTHER)


def test_agency_wide_roles_reach_everyone():
    for role in (Role.ADMINISTRATOR, Role.AUDITOR, Role.OVERSIGHT):
        assert in_scope(person(1, role), OTHER)


def test_supervisor_without_a_unit_reaches_only_reports():
    lone = person(20, Role.SUPERVISOR)
    assert in_scope(lone, person(21, Role.OFFICER, supervisor=20, path=(AGENCY,)))
    assert not in_scope(lone, person(22, Role.OFFICER, path=()))


def test_units_below():
    parents = [(AGENCY, None), (ERO, AGENCY), (BALTIMORE, ERO), (TEAM, BALTIMORE), (5, ERO)]
    assert units_below(BALTIMORE, parents) == {BALTIMORE, TEAM}
    assert units_below(ERO, parents) == {ERO, BALTIMORE, TEAM, 5}


def test_unknown_roles_and_none_hold_nothing():
    assert not role_may(None, Permission.VIEW_HOME)
    assert not role_may("superuser", Permission.VIEW_HOME)
    assert role_may("administrator", Permission.BULK_IMPORT)
    assert not role_may(Role.OVERSIGHT, Permission.DECIDE_GRANT)
