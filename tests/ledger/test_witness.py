"""The witness (``ledger.witness``): it cosigns a log's checkpoints only while each is
consistent with the last one it cosigned, and refuses a conflict, a rollback, a fork, a
forged checkpoint, an unknown log and a malformed request."""

from __future__ import annotations

import pytest

from searchledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from searchledger.ledger.merkle import MemoryTree
from searchledger.ledger.note import CosignatureSigner, Signer, open_note
from searchledger.ledger.witness import (
    Refusal,
    WitnessRefused,
    WitnessState,
    add_checkpoint,
    format_add_checkpoint,
    parse_add_checkpoint,
)

ORIGIN = "ledger.example.org/witnessed"
LOG = Signer.from_seed(ORIGIN, bytes(range(5, 37)))
IMPOSTOR = Signer.from_seed(ORIGIN, bytes(range(6, 38)))
WITNESS = CosignatureSigner.from_seed("oversight.example.org", bytes(range(8, 40)))
NOW = 1_790_000_000


def _tree(size: int, tag: str = "") -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(f"entry {i}{tag if i == size - 1 else ''}".encode())
    return tree


TREE = _tree(40)


def _note(tree: MemoryTree, size: int, signer: Signer = LOG) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), signer)


def _request(old: int, new: int, tree: MemoryTree = TREE, signer: Signer = LOG) -> str:
    proof = tree.consistency_proof(old, new) if 0 < old < new else []
    return format_add_checkpoint(old, proof, _note(tree, new, signer))


def _fresh() -> WitnessState:
    return WitnessState({}).follow(LOG.verifier_key())


def _refusal(state: WitnessState, body: str) -> WitnessRefused:
    with pytest.raises(WitnessRefused) as caught:
        add_checkpoint(state, body, WITNESS, NOW)
    return caught.value


def test_a_sequence_of_growing_checkpoints_is_cosigned() -> None:
    state = _fresh()
    for old, new in [(0, 10), (10, 10), (10, 25), (25, 40)]:
        state, line, checkpoint = add_checkpoint(state, _request(old, new), WITNESS, NOW + new)
        assert checkpoint.size == new
        assert state.logs[ORIGIN].size == new
        # The line is a valid cosignature of this checkpoint by the witness.
        note = open_note(_note(TREE, new) + line, [LOG.verifier(), WITNESS.verifier()])
        assert {s.name for s in note.verified} == {ORIGIN, "oversight.example.org"}


def test_the_state_survives_a_round_trip_through_json() -> None:
    state, _, _ = add_checkpoint(_fresh(), _request(0, 25), WITNESS, NOW)
    again = WitnessState.from_json(state.to_json())
    assert again == state
    add_checkpoint(again, _request(25, 40), WITNESS, NOW)


def test_a_request_from_another_size_is_a_conflict_naming_the_witness_size() -> None:
    state, _, _ = add_checkpoint(_fresh(), _request(0, 25), WITNESS, NOW)
    refused = _refusal(state, _request(10, 40))
    assert (refused.refusal, refused.known_size) == (Refusal.CONFLICT, 25)
    assert refused.refusal.http_status == 409


def test_a_forked_log_is_refused_as_inconsistent() -> None:
    state, _, _ = add_checkpoint(_fresh(), _request(0, 25), WITNESS, NOW)
    # Another history: entry 24 differs, the log still signs it.
    fork = _tree(25, tag=" (rewritten)")
    for i in range(25, 40):
        fork.append(f"entry {i}".encode())
    refused = _refusal(state, _request(25, 40, fork))
    assert refused.refusal is Refusal.INCONSISTENT
    assert refused.refusal.http_status == 422
    assert "rewritten or forked" in str(refused)
    # The same size with another root is inconsistent too.
    refused = _refusal(state, format_add_checkpoint(25, [], _note(_tree(25, "!"), 25)))
    assert refused.refusal is Refusal.INCONSISTENT


def test_a_rolled_back_log_is_refused() -> None:
    state, _, _ = add_checkpoint(_fresh(), _request(0, 40), WITNESS, NOW)
    refused = _refusal(state, format_add_checkpoint(40, [], _note(TREE, 25)))
    assert refused.refusal is Refusal.INCONSISTENT
    assert "rolled back" in str(refused)


def test_a_checkpoint_not_signed_by_the_log_is_refused() -> None:
    refused = _refusal(_fresh(), _request(0, 10, signer=IMPOSTOR))
    assert refused.refusal is Refusal.BAD_SIGNATURE


def test_an_unknown_log_is_refused() -> None:
    refused = _refusal(WitnessState({}), _request(0, 10))
    assert refused.refusal is Refusal.UNKNOWN_LOG


@pytest.mark.parametrize(
    "body",
    [
        "",
        "old 0\n",
        "new 0\n\n" + "x",
        "old 01\n\n" + _note(TREE, 10),
        "old -1\n\n" + _note(TREE, 10),
        "old 5\nnot-base64!\n\n" + _note(TREE, 10),
        "old 5\nAAAA\n\n" + _note(TREE, 10),
    ],
)
def test_a_malformed_request_is_refused(body: str) -> None:
    with pytest.raises(WitnessRefused) as caught:
        parse_add_checkpoint(body)
    assert caught.value.refusal is Refusal.MALFORMED


def test_a_proof_from_size_zero_is_refused() -> None:
    body = format_add_checkpoint(0, [bytes(32)], _note(TREE, 10))
    assert _refusal(_fresh(), body).refusal is Refusal.MALFORMED


def test_following_a_log_twice_is_refused() -> None:
    with pytest.raises(WitnessRefused):
        _fresh().follow(LOG.verifier_key())
