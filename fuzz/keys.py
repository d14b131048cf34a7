"""Fixed keys for the fuzz targets, so that the seed corpus can hold notes and checkpoints
that really verify (the fuzzer then mutates valid inputs, not only noise). The seeds are
public test values; never use them for a real log."""

from __future__ import annotations

from searchledger.ledger.note import CosignatureSigner, Signer

__all__ = ["LOG", "ORIGIN", "WITNESS"]

ORIGIN = "fuzz.searchledger.localhost/ledger"
LOG = Signer.from_seed(ORIGIN, bytes(range(32)))
WITNESS = CosignatureSigner.from_seed("fuzz.witness.localhost/w1", bytes(range(32, 64)))
