"""A separate process for ``test_concurrency`` and ``bench/append_concurrency.py``: a writer
or a proof-checking reader.

Run as ``python -m searchledger.apps.ledger.tests.concurrency_worker writer|reader ...`` with
``DATABASE_URL`` naming the test database and ``SEARCHLEDGER_SIGNING_KEY_FILE`` the test's
key. Both kinds wait for the ``go`` file before starting, so that they really overlap, and
give up after ``SEARCHLEDGER_WORKER_DEADLINE`` seconds (default 300).

``writer ID COUNT ADMIN_ID DIR [THINK_MS [BUSY_TIMEOUT_S]]`` creates COUNT accounts named
``w<ID>-<n>``, each through the real action in its own transaction, pausing up to THINK_MS
(default 4) between two. After each commit it appends ``<seq> <account id>`` to
``DIR/acks-writer-<ID>``: that line is the acknowledgement. An append refused because the
database is busy (SQLite's "database is locked" once the busy timeout has passed;
PostgreSQL's deadlock or serialization failure) rolled back, so the same account is tried
again; nothing acknowledged is ever redone. If a retry finds the username taken, the
earlier attempt did commit (its error came after the commit): the existing account is
acknowledged instead of created twice. BUSY_TIMEOUT_S overrides SQLite's busy timeout
(the retry test sets it tiny to force refusals; ignored on PostgreSQL). Its last stdout
line is a JSON summary: counts of retries, seconds spent starting transactions (waiting for
SQLite's write lock) and inside them, and CPU seconds.

``reader ID DIR [PAUSE_MS]`` repeatedly reads the tree head and checks inclusion and
consistency proofs and the latest checkpoint (reader 0 also signs one each round), pausing
PAUSE_MS (default 0) between rounds, until the ``stop`` file appears, then prints a JSON
summary; it exits 1 if any check failed.
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

_DEADLINE_SECONDS = float(os.environ.get("SEARCHLEDGER_WORKER_DEADLINE", "300"))
# Errors after which the transaction has rolled back and the same work may be tried again.
_TRANSIENT = ("database is locked", "deadlock detected", "could not serialize access")
_MAX_ATTEMPTS = 1000


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


def _create(username: str, admin_id: int, worker: int, timing: dict[str, float]) -> tuple[int, int]:
    """Create one account through the action; return its entry's seq and the account id.
    Adds to ``timing`` the seconds spent starting the transaction ("begin": on SQLite,
    waiting for the write lock) and inside it, commit included ("transaction")."""
    from django.db import transaction  # noqa: PLC0415

    from searchledger.apps.accounts.actions import do_create_account  # noqa: PLC0415
    from searchledger.apps.ledger.models import TreeHead  # noqa: PLC0415
    from searchledger.core.actor import Actor  # noqa: PLC0415
    from searchledger.core.roles import Role  # noqa: PLC0415

    actor = Actor(account_id=admin_id, role=Role.ADMINISTRATOR)
    asked = time.perf_counter()
    with transaction.atomic():
        begun = time.perf_counter()
        timing["begin"] += begun - asked
        account = do_create_account(
            username=username,
            role=Role.OFFICER,
            password=None,
            actor=actor,
            reason=f"concurrency worker {worker}",
        )
        # Still inside the transaction that appended, which holds the head lock: the head's
        # last index is the entry this append was given.
        seq = TreeHead.objects.get(pk=1).size - 1
    timing["transaction"] += time.perf_counter() - begun
    return seq, account.pk


def _committed_earlier(username: str) -> tuple[int, int]:
    """The seq and id of an account that an attempt reported as failed had created."""
    from searchledger.apps.accounts.models import Account  # noqa: PLC0415
    from searchledger.apps.ledger.models import LedgerEntry  # noqa: PLC0415

    account = Account.objects.get(username=username)
    entry = LedgerEntry.objects.get(object_type="accounts.account", object_id=str(account.pk))
    return entry.seq, account.pk


def _is_transient(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _TRANSIENT)


def run_writer(  # noqa: PLR0917  # the command line's arguments, in order
    worker: int,
    count: int,
    admin_id: int,
    directory: Path,
    think_ms: float = 4.0,
    busy_timeout: float | None = None,
) -> int:
    """Create ``count`` accounts through ``do_create_account``, one transaction each."""
    from django.core.exceptions import ValidationError  # noqa: PLC0415
    from django.db import OperationalError, connection  # noqa: PLC0415

    if busy_timeout is not None and connection.vendor == "sqlite":
        connection.settings_dict["OPTIONS"]["timeout"] = busy_timeout
    rng = random.Random(worker)
    retries = recovered = 0
    timing = {"begin": 0.0, "transaction": 0.0}
    _ready(directory, f"writer-{worker}")
    began = time.monotonic()
    with (directory / f"acks-writer-{worker}").open("a", encoding="ascii") as acks:
        for number in range(count):
            username = f"w{worker}-{number}"
            for attempt in range(_MAX_ATTEMPTS):
                try:
                    seq, account_id = _create(username, admin_id, worker, timing)
                except OperationalError as exc:
                    if not _is_transient(exc):
                        raise
                    retries += 1
                    time.sleep(rng.uniform(0, 0.002 * min(attempt + 1, 10)))
                    continue
                except ValidationError:
                    if attempt == 0:
                        raise
                    seq, account_id = _committed_earlier(username)
                    recovered += 1
                break
            else:
                raise RuntimeError(f"{username}: refused {_MAX_ATTEMPTS} times")
            # Written only after the commit: this is the acknowledgement.
            acks.write(f"{seq} {account_id}\n")
            acks.flush()
            # Think time, as between two requests. Without it SQLite's busy handler (which
            # is not fair: waiters poll at growing intervals) lets a writer that keeps the
            # lock busy run its whole batch while the others wait, so writers never take
            # turns and the head would rarely pass between processes.
            if think_ms:
                time.sleep(rng.uniform(0, think_ms / 1000))
    summary: dict[str, float] = {"appends": count, "retries": retries, "recovered": recovered}
    summary["seconds"] = round(time.monotonic() - began, 3)
    summary.update({f"{k}_seconds": round(v, 3) for k, v in timing.items()})
    summary["cpu_seconds"] = round(time.process_time(), 3)
    print(json.dumps(summary), flush=True)
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


def run_reader(worker: int, directory: Path, pause_ms: float = 0.0) -> int:
    """Check proofs until the ``stop`` file appears, then once more on the final tree."""
    reader = _Reader(worker)
    _ready(directory, f"reader-{worker}")
    deadline = time.monotonic() + _DEADLINE_SECONDS
    while not (directory / "stop").exists() and time.monotonic() < deadline:
        try:
            reader.round()
        except Exception:  # any error is a failure to report, not a crash
            reader.fail(traceback.format_exc())
        if pause_ms:
            time.sleep(pause_ms / 1000)
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
            worker, count, admin_id, directory, *extra = rest
            think = float(extra[0]) if extra else 4.0
            busy = float(extra[1]) if len(extra) > 1 else None
            return run_writer(int(worker), int(count), int(admin_id), Path(directory), think, busy)
        if kind == "reader":
            worker, directory, *extra = rest
            return run_reader(int(worker), Path(directory), float(extra[0]) if extra else 0.0)
        raise SystemExit(f"unknown worker kind {kind!r}")
    finally:
        # Close cleanly, so that SQLite's last connection can remove the -wal and -shm files.
        connection.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
