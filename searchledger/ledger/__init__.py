"""The ledger's pure cryptographic core: RFC 9162 Merkle trees, C2SP signed notes,
checkpoints, cosignatures and tiles.

Nothing in this package imports Django; the storage layer hands it hashes through small
callables (``NodeGetter``), so the same code serves the database, the tile exporter and an
offline verifier. Import the submodules directly (``searchledger.ledger.merkle`` and so on).
"""

__all__: list[str] = []
