"""Set-up for review tests: the findings tests' world (``boss`` supervises ``searcher`` in
the unit bal-fug; ``supervisor`` supervises ``boss``; an auditor and oversight)."""

from __future__ import annotations

from searchledger.apps.findings.tests.conftest import fworld  # noqa: F401  # the shared fixture
from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.searches.tests.conftest import sworld  # noqa: F401  # the shared fixture
