"""A separate process for ``test_concurrency``: a writer or a proof-checking reader.

Run as ``python -m searchledger.apps.ledger.tests.concurrency_worker writer|reader ...`` with
``DATABASE_URL`` naming the test database and ``SEARCHLEDGER_SIGNING_KEY_FILE`` the test's
key. Both kinds wait for the ``go`` file before starting, so that they really overlap.

``writer ID COUNT ADMIN_ID DIR`` appends COUNT entries, each through the real action in its
own transaction, and prints ``<seq> <account id>`` for every append once it has committed.

``reader ID DIR`` repeatedly reads the tree head and checks inclusion and consistency proofs
and the latest checkpoint (reader 0 also signs one each round) until the ``stop`` file
appears, then prints a JSON summary; it exits 1 if any check failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

_DEADLINE_SECONDS = 300.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django  # noqa: PLC0415

    django.setup()


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + _DEADLINE_SECONDS
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.005)


def _ready(directory: Path, name: str) -> None:
    """Open the database connection, then announce readiness and wait for the start."""
    from django.db import connection  # noqa: PLC0415

    connection.ensure_connection()
    (directory / f"ready-{name}").touch()
    _wait_for(directory / "go")


def run_writer(worker: int, count: int, admin_id: int, directory: Path) -> int:
    """Append ``count`` entries through ``do_create_account``, one transaction each."""
    from django.db import transaction  # noqa: PLC0415

    from searchledger.apps.accounts.actions import do_create_account  # noqa: PLC0415
    from searchledger.apps.ledger.models import TreeHead  # noqa: PLC0415
    from searchledger.core.actor import Actor  # noqa: PLC0415
    from searchledger.core.roles import Role  # noqa: PLC0415

    rng = random.Random(worker)
    _ready(directory, f"writer-{worker}")
    for number in range(count):
        actor = Actor(account_id=admin_id, role=Role.ADMINISTRATOR)
        with transaction.atomic():
            account = do_create_account(
                username=f"w{worker}-{number}",
                role=Role.OFFICER,
                password=None,
                actor=actor,
                reason=f"concurrency worker {worker}",
            )
            # Still inside the transaction that appended, which holds the head lock: the
            # head's last index is the entry this append was given.
            seq = TreeHead.objects.get(pk=1).size - 1
        # Printed only after the commit: this is the acknowledgement.
        print(f"{seq} {account.pk}", flush=True)
        # A moment of think time, as between two requests. Without it SQLite's busy handler
        # (which is not fair: waiters poll at growing intervals) lets a writer that keeps
        # the lock busy run its whole batch while the others wait, so writers never take
        # turns and the head would rarely pass between processes.
        time.sleep(rng.uniform(0, 0.004))
    return 0


class _Reader:
    """Checks every proof against roots computed from the tree heads it has seen."""

    def __init__(self, worker: int) -> None:
        from searchledger.apps.ledger.keys import load_verifier  # noqa: PLC0415

        self.worker = worker
        self.rng = random.Random(worker)
        self.verifier = load_verifier()
        self.seen: dict[int, bytes] = {}
        self.last: tuple[int, bytes] | None = None
        self.counts = {"rounds": 0, "inclusion": 0, "consistency": 0, "checkpoints": 0}
        self.failures: list[str] = []
        self.failure_count = 0

    def fail(self, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < 20:
            self.failures.append(message)

    def round(self) -> None:
        """One pass: head, inclusion proofs, consistency proofs, checkpoint."""
        from searchledger.apps.ledger import selectors  # noqa: PLC0415
        from searchledger.apps.ledger.models import TreeHead  # noqa: PLC0415
        from searchledger.ledger import merkle  # noqa: PLC0415

        self.counts["rounds"] += 1
        head = TreeHead.objects.get(pk=1)
        size = head.size
        root = merkle.frontier_root(head.frontier_hashes, size)
        if root.hex() != head.root:
            self.fail(f"head at size {size}: stored root differs from its frontier's root")
            return
        if size in self.seen and self.seen[size] != root:
            self.fail(f"two different roots seen at size {size}: the log forked")
        if self.last is not None and size < self.last[0]:
            self.fail(f"tree head went back from size {self.last[0]} to {size}")
        for index in {self.rng.randrange(size), size - 1}:
            tree_size, proof = selectors.inclusion_proof(index, size)
            leaf = merkle.leaf_hash(selectors.entry_bytes(index))
            with self.checking(f"inclusion of {index} in {size}"):
                merkle.verify_inclusion(index, tree_size, leaf, proof, root)
            self.counts["inclusion"] += 1
        olds = {self.last, self.rng.choice(sorted(self.seen.items())) if self.seen else None}
        for old in olds:
            if old is None or old[0] == 0 or old[0] > size:
                continue
            old_size, old_root = old
            proof = selectors.consistency_proof(old_size, size)
            with self.checking(f"consistency {old_size} -> {size}"):
                merkle.verify_consistency(old_size, size, proof, old_root, root)
            self.counts["consistency"] += 1
        self.seen[size] = root
        self.last = (size, root)
        self.check_checkpoint(size, root)

    def check_checkpoint(self, size: int, root: bytes) -> None:
        """Reader 0 signs checkpoints as the tree grows; every reader checks the latest one
        against the head it has just verified."""
        from searchledger.apps.ledger import selectors  # noqa: PLC0415
        from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown  # noqa: PLC0415
        from searchledger.ledger import merkle  # noqa: PLC0415
        from searchledger.ledger.checkpoint import open_checkpoint  # noqa: PLC0415

        if self.worker == 0:
            sign_checkpoint_if_grown()
        latest = selectors.latest_checkpoint()
        if latest is None:
            return
        body, _ = open_checkpoint(latest.note, self.verifier, origin=self.verifier.name)
        if (body.size, body.root_hash.hex()) != (latest.size, latest.root):
            self.fail(f"checkpoint {latest.size}: stored size/root differ from the note")
        if body.size > size:
            # Signed after this round's head was read: check it the other way round.
            proof = selectors.consistency_proof(size, body.size) if size else []
            with self.checking(f"consistency head {size} -> checkpoint {body.size}"):
                merkle.verify_consistency(size, body.size, proof, root, body.root_hash)
        elif body.size > 0:
            proof = selectors.consistency_proof(body.size, size)
            with self.checking(f"consistency checkpoint {body.size} -> head {size}"):
                merkle.verify_consistency(body.size, size, proof, body.root_hash, root)
        self.counts["checkpoints"] += 1

    @contextlib.contextmanager
    def checking(self, what: str) -> Iterator[None]:
        """Record a proof that does not verify as a failure and carry on."""
        from searchledger.ledger.merkle import ProofError  # noqa: PLC0415

        try:
            yield
        except ProofError as exc:
            self.fail(f"{what}: {exc}")


def run_reader(worker: int, directory: Path) -> int:
    """Check proofs until the ``stop`` file appears, then once more on the final tree."""
    reader = _Reader(worker)
    _ready(directory, f"reader-{worker}")
    deadline = time.monotonic() + _DEADLINE_SECONDS
    while not (directory / "stop").exists() and time.monotonic() < deadline:
        try:
            reader.round()
        except Exception:  # any error is a failure to report, not a crash
            reader.fail(traceback.format_exc())
    try:
        reader.round()
    except Exception:
        reader.fail(traceback.format_exc())
    summary = {
        **reader.counts,
        "sizes_seen": len(reader.seen),
        "final_size": reader.last[0] if reader.last else None,
        "failure_count": reader.failure_count,
        "failures": reader.failures,
    }
    print(json.dumps(summary), flush=True)
    return 1 if reader.failure_count else 0


def main(argv: Sequence[str]) -> int:
    """Dispatch on the worker kind."""
    _setup()
    from django.db import connection  # noqa: PLC0415

    kind, *rest = argv
    try:
        if kind == "writer":
            worker, count, admin_id, directory = rest
            return run_writer(int(worker), int(count), int(admin_id), Path(directory))
        if kind == "reader":
            worker, directory = rest
            return run_reader(int(worker), Path(directory))
        raise SystemExit(f"unknown worker kind {kind!r}")
    finally:
        # Close cleanly, so that SQLite's last connection can remove the -wal and -shm files.
        connection.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
