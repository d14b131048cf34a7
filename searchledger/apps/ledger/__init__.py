"""The ledger app: storage of the tamper-evident log and its checkpoints."""
