"""A witness's answer is hostile input (issue 7): store_cosignature refuses, with
CosignatureError and nothing stored, the answers that used to crash it."""

from __future__ import annotations

import pytest

from searchledger.apps.ledger.checkpoints import (
    CosignatureError,
    sign_checkpoint_if_grown,
    store_cosignature,
)
from searchledger.apps.ledger.models import Cosignature
from searchledger.ledger.note import MAX_TIMESTAMP, CosignatureSigner, cosign_note

WITNESS = CosignatureSigner.generate("oig.example/witness")


def _answer(note: str, timestamp: int) -> str:
    return cosign_note(note, WITNESS, timestamp)[len(note) :]


@pytest.mark.django_db
def test_two_cosignatures_or_a_time_past_9999_are_refused_and_nothing_is_stored():
    checkpoint = sign_checkpoint_if_grown()
    two = _answer(checkpoint.note, 1_790_000_000) + _answer(checkpoint.note, 1_790_000_001)
    # Before: ValueError (too many values to unpack) and OSError from datetime.
    with pytest.raises(CosignatureError, match="2 different cosignatures"):
        store_cosignature(checkpoint.size, two, WITNESS.verifier())
    with pytest.raises(CosignatureError, match="after the year 9999"):
        store_cosignature(
            checkpoint.size, _answer(checkpoint.note, MAX_TIMESTAMP), WITNESS.verifier()
        )
    assert not Cosignature.objects.exists()
    stored = store_cosignature(
        checkpoint.size, _answer(checkpoint.note, 1_790_000_000), WITNESS.verifier()
    )
    assert int(stored.cosigned_at.timestamp()) == 1_790_000_000
