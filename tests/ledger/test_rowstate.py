"""Row state commitments (ledger.rowstate) and the optional ``state`` key of an entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from searchledger.ledger.events import (
    EntryDraft,
    EntrySchemaError,
    LedgerEventType,
    build_entry,
    parse_entry,
)
from searchledger.ledger.rowstate import (
    RowStateError,
    canonical_row,
    row_commitment,
    state_digest,
)

SALT = bytes(range(16))
WHEN = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


def test_canonical_row_is_independent_of_key_order_and_time_zone() -> None:
    east = WHEN.astimezone(timezone(timedelta(hours=5)))
    assert canonical_row({"b": 1, "a": WHEN}) == canonical_row({"a": east, "b": 1})
    assert canonical_row({"a": WHEN}) == '{"a":"2026-11-25T12:00:00.123456+00:00"}'


def test_canonical_row_encodes_every_database_type() -> None:
    text = canonical_row(
        {
            "d": date(2026, 1, 2),
            "n": Decimal("1.50"),
            "b": b"\x00\xff",
            "j": {"z": [1, None, True]},
            "f": 0.5,
            "none": None,
        }
    )
    assert text == (
        '{"b":"00ff","d":"2026-01-02","f":0.5,"j":{"z":[1,null,true]},"n":"1.50","none":null}'
    )
    with pytest.raises(RowStateError, match="cannot canonicalise"):
        canonical_row({"x": object()})


def test_a_commitment_binds_the_value_the_row_and_the_salt() -> None:
    value = {"id": 1, "name": "A"}
    base = row_commitment("accounts.account/1", value, SALT)
    assert base == row_commitment("accounts.account/1", {"name": "A", "id": 1}, SALT)
    assert base != row_commitment("accounts.account/1", {"id": 1, "name": "B"}, SALT)
    assert base != row_commitment("accounts.account/2", value, SALT)
    assert base != row_commitment("accounts.account/1", value, bytes(16))
    with pytest.raises(RowStateError, match="row key"):
        row_commitment("not a key", value, SALT)


def test_the_digest_covers_every_pair_in_any_order() -> None:
    rows: dict[str, str | None] = {"a.b/1": "0" * 64, "a.b/2": None}
    assert state_digest(rows) == state_digest(dict(reversed(rows.items())))
    assert state_digest(rows) != state_digest({"a.b/1": "0" * 64})
    assert state_digest(rows) != state_digest({"a.b/1": "0" * 64, "a.b/2": "1" * 64})


def _draft(state: object) -> EntryDraft:
    return EntryDraft(
        event=LedgerEventType.ACCOUNT_CREATED,
        object_type="accounts.account",
        object_id="1",
        actor_id=0,
        request_id="r",
        state=state,  # type: ignore[arg-type]  # malformed on purpose in some cases
    )


def test_an_entry_may_carry_a_state_and_old_entries_without_one_stay_valid() -> None:
    with_state = build_entry(_draft({"rows": 2, "digest": "a" * 64}), seq=0, time=WHEN)
    assert parse_entry(with_state)["state"] == {"rows": 2, "digest": "a" * 64}
    without = build_entry(_draft(None), seq=0, time=WHEN)
    assert "state" not in parse_entry(without)


@pytest.mark.parametrize(
    "state",
    [
        {"rows": 0, "digest": "a" * 64},
        {"rows": True, "digest": "a" * 64},
        {"rows": 1, "digest": "A" * 64},
        {"rows": 1},
        {"rows": 1, "digest": "a" * 64, "extra": 1},
        "a" * 64,
    ],
)
def test_a_malformed_state_is_refused(state: object) -> None:
    with pytest.raises(EntrySchemaError, match="state"):
        build_entry(_draft(state), seq=0, time=WHEN)
