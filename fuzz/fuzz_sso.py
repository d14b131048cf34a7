"""Fuzz target: single sign-on: the configured group-to-role mapping and an identity
provider's groups claim (``core.sso``).

The input is JSON (anything else is skipped: settings refuse it before this parser runs).
Contract: ``parse_group_roles`` raises only ``SsoMappingError``; ``groups_from_claim`` and
``role_for_groups`` never raise, whatever the claim holds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, guard, main
from searchledger.core.roles import Role
from searchledger.core.sso import (
    SsoMappingError,
    groups_from_claim,
    parse_group_roles,
    role_for_groups,
)

MAPPING = parse_group_roles([["fr-auditors", "auditor"], ["fr-officers", "officer"]])


def check(data: bytes) -> None:
    """Use the JSON in ``data`` as a claim and as a mapping."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return
    groups = groups_from_claim(value)
    assert all(isinstance(group, str) for group in groups)
    role = role_for_groups(groups, MAPPING)
    assert role is None or isinstance(role, Role)
    mapping = parse_group_roles(value)
    assert again(parse_group_roles, [[g, r.value] for g, r in mapping]) == mapping


TestOneInput = guard(check, (SsoMappingError,))

if __name__ == "__main__":
    main(TestOneInput)
