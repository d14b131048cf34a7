"""Set-up for findings tests: the searches tests' world (a unit, its supervisor ``boss`` and
officer ``searcher``, the supervisor's own supervisor ``supervisor``) and an auditor."""

from __future__ import annotations

import pytest

from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.searches.tests.conftest import sworld  # noqa: F401  # the shared fixture
from searchledger.core.roles import Role


@pytest.fixture
def fworld(sworld, make_account):  # noqa: F811  # uses the imported fixture
    """``sworld`` plus ``auditor`` and ``overseer`` (oversight)."""
    return {
        **sworld,
        "auditor": make_account("aud", Role.AUDITOR),
        "overseer": make_account("ovs", Role.OVERSIGHT),
    }
