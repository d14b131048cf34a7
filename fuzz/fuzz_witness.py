"""Fuzz target: the witness's add-checkpoint request and its state file
(ledger/witness.py).

The first byte picks what the witness already cosigned (nothing, or the tree of three
leaves of the seed corpus); the rest is the request body. Contract: ``add_checkpoint``
raises only ``WitnessRefused``; ``WitnessState.from_json`` only ``ValueError``. Round
trip: a parsed request, formatted again, parses to the same request.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, expect, guard, main
from fuzz.keys import LOG, ORIGIN, WITNESS
from searchledger.ledger.merkle import MemoryTree
from searchledger.ledger.witness import (
    KnownLog,
    WitnessRefused,
    WitnessState,
    add_checkpoint,
    format_add_checkpoint,
    parse_add_checkpoint,
)


def _tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(f"leaf {i}".encode())
    return tree


FRESH = WitnessState({ORIGIN: KnownLog(LOG.verifier_key())})
AT_THREE = WitnessState({ORIGIN: KnownLog(LOG.verifier_key(), 3, _tree(3).root())})
TIMESTAMP = 1_700_000_000


def check(data: bytes) -> None:
    """Send ``data[1:]`` to a witness in the state ``data[0]`` picks."""
    if not data:
        return
    state = AT_THREE if data[0] & 1 else FRESH
    body = data[1:].decode("utf-8", "replace")
    try:
        WitnessState.from_json(body)
    except ValueError as exc:
        expect(str(exc), "a malformed witness state is refused without a message")
    try:
        old, proof, note = parse_add_checkpoint(body)
    except WitnessRefused:
        pass
    else:
        request = format_add_checkpoint(old, proof, note)
        assert again(parse_add_checkpoint, request) == (old, proof, note)
    new_state, line, checkpoint = add_checkpoint(state, body, WITNESS, TIMESTAMP)
    assert new_state.logs[checkpoint.origin].size == checkpoint.size
    assert line.startswith("\u2014 ")


TestOneInput = guard(check, (WitnessRefused,))

if __name__ == "__main__":
    main(TestOneInput)
