"""Small-count suppression (``core.disclosure``): no count below the threshold can be read
off, directly or by subtraction. Checked against an exhaustive attacker on small tables:
for every hidden small count, some other assignment of the hidden counts agrees with
everything shown."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchledger.core.disclosure import Constraint, bounds, suppress

THRESHOLD = 3


def _table(cells: list[list[int]]) -> tuple[dict[str, int], list[Constraint]]:
    """Variables and constraints of a table with row, column and grand totals."""
    rows, cols = len(cells), len(cells[0])
    values = {f"c{r}{c}": cells[r][c] for r in range(rows) for c in range(cols)}
    constraints = []
    for r in range(rows):
        values[f"r{r}"] = sum(cells[r])
        constraints.append(Constraint(f"r{r}", tuple(f"c{r}{c}" for c in range(cols))))
    for c in range(cols):
        values[f"k{c}"] = sum(cells[r][c] for r in range(rows))
        constraints.append(Constraint(f"k{c}", tuple(f"c{r}{c}" for r in range(rows))))
    values["g"] = sum(map(sum, cells))
    constraints.append(Constraint("g", tuple(f"r{r}" for r in range(rows))))
    constraints.append(Constraint("g", tuple(f"k{c}" for c in range(cols))))
    return values, constraints


def _consistent_alternatives(
    cells: list[list[int]], hidden: frozenset[str], cap: int
) -> dict[str, set[int]]:
    """Every value each hidden cell takes over all assignments of the hidden cells (zeros
    are shown, so hidden cells are 1..cap) that reproduce every shown value."""
    values, _ = _table(cells)
    rows, cols = len(cells), len(cells[0])
    unknown = [f"c{r}{c}" for r in range(rows) for c in range(cols) if f"c{r}{c}" in hidden]
    seen: dict[str, set[int]] = {name: set() for name in unknown}
    for guess in itertools.product(range(1, cap + 1), repeat=len(unknown)):
        trial = [row[:] for row in cells]
        for name, value in zip(unknown, guess, strict=True):
            trial[int(name[1])][int(name[2])] = value
        derived, _ = _table(trial)
        if all(derived[n] == values[n] for n in values if n not in hidden):
            for name, value in zip(unknown, guess, strict=True):
                seen[name].add(value)
    return seen


def test_small_counts_are_hidden_and_zeros_shown() -> None:
    values, constraints = _table([[0, 7], [9, 12]])
    result = suppress(values, constraints, THRESHOLD)
    assert result.hidden == frozenset()
    values, constraints = _table([[2, 7], [9, 12]])
    result = suppress(values, constraints, THRESHOLD)
    assert "c00" in result.primary
    # Row 0 and column 0 would give it away: a complementary cell is hidden in each.
    assert result.complementary


def test_the_square_of_ones_hides_its_totals() -> None:
    values, constraints = _table([[1, 1], [1, 1]])
    result = suppress(values, constraints, THRESHOLD)
    # The totals of 2 are small counts too.
    assert result.primary == {"c00", "c01", "c10", "c11", "r0", "r1", "k0", "k1"}
    inferred = bounds(values, constraints, result.hidden)
    assert all(inferred[n][0] < inferred[n][1] for n in result.primary)
    assert "g" in result.hidden  # 4 ones would follow from a shown grand total of 4


def test_totals_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="not the sum"):
        suppress({"a": 1, "t": 5}, [Constraint("t", ("a",))], THRESHOLD)
    with pytest.raises(ValueError, match="at least 1"):
        suppress({"a": 1}, [], 0)


small_tables = st.integers(min_value=2, max_value=3).flatmap(
    lambda cols: st.lists(
        st.lists(st.integers(min_value=0, max_value=5), min_size=cols, max_size=cols),
        min_size=2,
        max_size=2,
    )
)


@settings(max_examples=50, deadline=None)
@given(small_tables)
def test_no_small_count_can_be_worked_out(cells: list[list[int]]) -> None:
    values, constraints = _table(cells)
    result = suppress(values, constraints, THRESHOLD)
    # Nothing small is shown.
    assert all(not (0 < values[n] < THRESHOLD) for n in values if n not in result.hidden)
    # No constraint hides exactly one of its members.
    for c in constraints:
        assert sum(1 for m in (c.total, *c.parts) if m in result.hidden) != 1
    # The exhaustive attacker finds two or more values for every hidden small cell.
    cap = max(2 * THRESHOLD, max(map(max, cells)) + 1)
    alternatives = _consistent_alternatives(cells, result.hidden, cap)
    for name in result.primary:
        if name.startswith("c"):
            assert values[name] in alternatives[name]
            assert len(alternatives[name]) >= 2, (cells, sorted(result.hidden), name)
