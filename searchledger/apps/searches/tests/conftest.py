"""Set-up for search tests: the grants tests' field office, a fugitive-operations unit in
it whose supervisor and officer have e-mail addresses and grants in force, the seeded
offence categories and an agency-wide search policy."""

from __future__ import annotations

import pytest

from searchledger.apps.accounts.actions import do_create_org_unit
from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.searches import actions
from searchledger.core.roles import Role

from .support import make_searcher


@pytest.fixture
def sworld(world, admin_actor):  # noqa: F811  # uses the imported fixture
    """``world`` plus ``unit`` (bal-fug, under bal), ``boss`` (its supervisor), ``searcher``
    (an officer reporting to boss), and ``policy`` (agency-wide, version 1)."""
    unit = do_create_org_unit(
        code="bal-fug",
        name="Fugitive operations",
        kind="unit",
        parent_code="bal",
        actor=admin_actor,
    )
    boss = make_searcher(
        world,
        admin_actor,
        "boss",
        role=Role.SUPERVISOR,
        supervisor=world["supervisor"],
        email="boss@agency.example",
    )
    searcher = make_searcher(
        world, admin_actor, "searcher", supervisor=boss, email="searcher@agency.example"
    )
    actions.do_seed_offence_categories(actor=admin_actor)
    policy = actions.do_set_search_policy(
        org_unit_code=None,
        system_code=None,
        settings=actions.PolicySettings(forbidden_purposes=["immigration_civil_enforcement"]),
        actor=admin_actor,
        reason="agency baseline",
    )
    return {**world, "unit": unit, "boss": boss, "searcher": searcher, "policy": policy}
