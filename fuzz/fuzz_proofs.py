"""Fuzz target: verifying RFC 9162 inclusion and consistency proofs (ledger/merkle.py), fed
in the JSON layout of the transparency-dev/merkle test vectors (the seed corpus holds some
of them verbatim).

The JSON decoding and base64 are this target's own framing, not the parser under test:
input that is not such a document is skipped. Contract: ``verify_inclusion`` and
``verify_consistency`` raise only ``ProofError``, whatever the sizes, indexes, hash lengths
and proof lengths.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import guard, main
from searchledger.ledger.merkle import ProofError, verify_consistency, verify_inclusion

_MAX_SIZE = 2**70  # beyond uint64 on purpose


def _vector(data: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_SIZE:
        return value
    return None


def _bytes(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def check(data: bytes) -> None:
    """Verify the inclusion or consistency proof ``data`` describes."""
    vector = _vector(data)
    if vector is None or not isinstance(vector.get("proof", []), list):
        return
    proof = [_bytes(p) for p in vector.get("proof") or []]
    if any(p is None for p in proof):
        return
    hashes = [p for p in proof if p is not None]
    if "leafIdx" in vector:
        index, size = _int(vector.get("leafIdx")), _int(vector.get("treeSize"))
        leaf, root = _bytes(vector.get("leafHash")), _bytes(vector.get("root"))
        if index is None or size is None or leaf is None or root is None:
            return
        verify_inclusion(index, size, leaf, hashes, root)
    else:
        old, new = _int(vector.get("size1")), _int(vector.get("size2"))
        root1, root2 = _bytes(vector.get("root1")), _bytes(vector.get("root2"))
        if old is None or new is None or root1 is None or root2 is None:
            return
        verify_consistency(old, new, hashes, root1, root2)
    # No oracle on acceptance here: a mutated "wantErr" vector may well have become a valid
    # proof (the fuzzer turned a flipped bit back). tests/ledger/test_merkle.py checks every
    # vector's verdict exactly.


TestOneInput = guard(check, (ProofError,))

if __name__ == "__main__":
    main(TestOneInput)
