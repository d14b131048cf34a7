"""Single sign-on: which role an identity provider's groups give a person.

The mapping is a list of ``(group, role)`` pairs in the order the operator wrote them, and
the **first pair whose group the person has wins**. The operator decides precedence by
ordering the list; nothing here ranks roles by privilege. A person in none of the mapped
groups gets no role and is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from searchledger.core.roles import Role

__all__ = [
    "GroupRoleMapping",
    "SsoMappingError",
    "groups_from_claim",
    "parse_group_roles",
    "role_for_groups",
]

GroupRoleMapping = tuple[tuple[str, Role], ...]


class SsoMappingError(ValueError):
    """The configured group-to-role mapping is malformed."""


def parse_group_roles(raw: object) -> GroupRoleMapping:
    """Check and convert the configured mapping (parsed JSON: a list of ``[group, role]``
    pairs) into a tuple of ``(group, Role)``."""
    if not isinstance(raw, list) or not raw:
        raise SsoMappingError("the group mapping must be a non-empty list of [group, role] pairs")
    pairs: list[tuple[str, Role]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not all(isinstance(part, str) for part in item)
        ):
            raise SsoMappingError(f"item {index} is not a [group, role] pair of strings: {item!r}")
        group, role_name = item
        if not group:
            raise SsoMappingError(f"item {index} has an empty group name")
        if group in seen:
            raise SsoMappingError(f"the group {group!r} is mapped twice")
        try:
            role = Role(role_name)
        except ValueError as exc:
            known = ", ".join(r.value for r in Role)
            raise SsoMappingError(
                f"item {index}: unknown role {role_name!r}; one of {known}"
            ) from exc
        seen.add(group)
        pairs.append((group, role))
    return tuple(pairs)


def groups_from_claim(value: object) -> frozenset[str]:
    """The groups in a groups claim: a list of strings (or one string); anything else is
    no groups."""
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, Sequence):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def role_for_groups(groups: Iterable[str], mapping: GroupRoleMapping) -> Role | None:
    """The role of the first mapping pair whose group is in ``groups``, or None."""
    have = frozenset(groups)
    for group, role in mapping:
        if group in have:
            return role
    return None
