"""Small-count suppression for published tables: no count below the threshold can be read
off a report, directly or by subtraction across rows, columns and totals.

A report's counts are *variables*; each table cell and each total is one, and a total is
tied to its parts by a *constraint* (``total = sum(parts)``). Tables that share a margin
(the searches by system and by purpose have the same outcome totals) share its variables,
so a count hidden in one table cannot be worked out from another.

The rules:

1. **Primary suppression**: every count from 1 to ``threshold - 1`` is hidden. Zeros are
   shown: a zero singles nobody out, and showing it is what lets a reader know a hidden
   count is at least 1.
2. **Complementary suppression**: a constraint with exactly one hidden variable would give
   it away by subtraction, so another of its variables is hidden too (the smallest visible
   non-zero part, else the total, else any part).
3. **Audit by interval propagation**: each hidden count is bounded (at least 1; and, for
   each constraint, by the total minus the others' bounds, or the sum of the parts' bounds)
   until nothing tightens. Any primary-hidden count whose bounds meet has been given away
   (for instance four 1s in a square whose totals are 2), so the totals of its constraints
   are hidden too and the audit runs again.

The result hides more than the minimum, never less: every primary-hidden count keeps at
least two possible values under everything the report shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Constraint", "Suppression", "bounds", "suppress"]

_UNBOUNDED = 1 << 62


@dataclass(frozen=True)
class Constraint:
    """``total`` is the sum of ``parts`` (variable names)."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Suppression:
    """Which variables a report hides, and why: ``primary`` are the small counts,
    ``complementary`` those hidden so the small ones cannot be worked out."""

    primary: frozenset[str]
    complementary: frozenset[str]

    @property
    def hidden(self) -> frozenset[str]:
        """Every hidden variable."""
        return self.primary | self.complementary


def bounds(
    values: Mapping[str, int], constraints: Sequence[Constraint], hidden: frozenset[str]
) -> dict[str, tuple[int, int]]:
    """What a reader can infer about each hidden variable from the shown values: a closed
    interval, by interval propagation over the constraints (hidden counts are >= 1)."""
    lo = {name: (values[name] if name not in hidden else 1) for name in values}
    hi = {name: (values[name] if name not in hidden else _UNBOUNDED) for name in values}
    changed = True
    while changed:
        changed = False
        for constraint in constraints:
            parts = constraint.parts
            total = constraint.total
            # total within [sum(lo parts), sum(hi parts)]
            new_lo = max(lo[total], sum(lo[p] for p in parts))
            new_hi = min(hi[total], _UNBOUNDED, sum(hi[p] for p in parts))
            if (new_lo, new_hi) != (lo[total], hi[total]):
                lo[total], hi[total] = new_lo, new_hi
                changed = True
            # each part within [lo(total) - sum(hi others), hi(total) - sum(lo others)]
            for part in parts:
                others_lo = sum(lo[p] for p in parts) - lo[part]
                others_hi = sum(hi[p] for p in parts) - hi[part]
                part_lo = max(lo[part], lo[total] - min(_UNBOUNDED, others_hi))
                part_hi = min(hi[part], hi[total] - others_lo)
                if (part_lo, part_hi) != (lo[part], hi[part]):
                    lo[part], hi[part] = part_lo, part_hi
                    changed = True
    return {name: (lo[name], hi[name]) for name in hidden}


def _complement(
    values: Mapping[str, int], constraints: Sequence[Constraint], hidden: set[str]
) -> bool:
    """Hide one more variable in each constraint that hides exactly one; True if any."""
    grew = False
    for constraint in constraints:
        members = (*constraint.parts, constraint.total)
        if sum(1 for m in members if m in hidden) != 1:
            continue
        visible_parts = [p for p in constraint.parts if p not in hidden]
        nonzero = sorted((values[p], p) for p in visible_parts if values[p] > 0)
        if nonzero:
            hidden.add(nonzero[0][1])
        elif constraint.total not in hidden:
            hidden.add(constraint.total)
        else:
            hidden.add(visible_parts[0])
        grew = True
    return grew


def suppress(
    values: Mapping[str, int], constraints: Sequence[Constraint], threshold: int
) -> Suppression:
    """Decide which of ``values`` to hide (see the module's rules)."""
    if threshold < 1:
        raise ValueError(f"the suppression threshold must be at least 1, not {threshold}")
    for constraint in constraints:
        total = sum(values[p] for p in constraint.parts)
        if total != values[constraint.total]:
            raise ValueError(
                f"{constraint.total} is {values[constraint.total]}, not the sum {total} of "
                "its parts"
            )
    primary = frozenset(name for name, value in values.items() if 0 < value < threshold)
    hidden = set(primary)
    while True:
        while _complement(values, constraints, hidden):
            pass
        inferred = bounds(values, constraints, frozenset(hidden))
        exposed = [name for name in primary if inferred[name][0] == inferred[name][1]]
        if not exposed:
            break
        grew = False
        for name in exposed:
            for constraint in constraints:
                if name in constraint.parts or name == constraint.total:
                    for member in (constraint.total, *constraint.parts):
                        if member not in hidden:
                            hidden.add(member)
                            grew = True
                            break
        if not grew:  # pragma: no cover - every constraint of an exposed name is hidden
            raise RuntimeError("suppression could not protect every small count")
    return Suppression(primary, frozenset(hidden) - primary)
