"""Several processes appending through the one write path while others check proofs.

Runs against whichever database the suite uses (SQLite by default, PostgreSQL when
DATABASE_URL says so). The data must be committed for the other processes to see it, hence
``transaction=True``. The workers are ``concurrency_worker`` run with ``sys.executable``.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry, TreeHead
from searchledger.apps.ledger.tests.processes import child_env
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.ledger import merkle

WRITERS = 4
APPENDS_PER_WRITER = 150
READERS = 2
WORKER_MODULE = "searchledger.apps.ledger.tests.concurrency_worker"
STARTUP_TIMEOUT = 60.0
RUN_TIMEOUT = 240.0


def wait_for_files(paths: list[Path], procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not all(p.exists() for p in paths):
        for proc in procs:
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"worker {proc.args!r} exited early ({proc.returncode}):\n{err}")
        if time.monotonic() > deadline:
            pytest.fail("workers did not start in time")
        time.sleep(0.02)


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"worker {proc.args!r} timed out:\n{err}")
    assert proc.returncode == 0, f"worker {proc.args!r} exited {proc.returncode}:\n{out}\n{err}"
    return out, err


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_gap_or_break_proofs(admin, tmp_path, settings):
    """4 writers append through ``do_create_account`` while 2 readers check proofs and
    checkpoints; the result is one gap-free log holding exactly the acknowledged appends."""
    started = time.monotonic()
    assert LedgerEntry.objects.count() == 1  # the admin's creation, committed
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = child_env(
        tmp_path / "home", Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE), connection.settings_dict
    )

    def spawn(*args: object) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, *map(str, args)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    writers = [spawn("writer", w, APPENDS_PER_WRITER, admin.pk, run_dir) for w in range(WRITERS)]
    readers = [spawn("reader", r, run_dir) for r in range(READERS)]
    procs = writers + readers
    try:
        ready = [run_dir / f"ready-writer-{w}" for w in range(WRITERS)]
        ready += [run_dir / f"ready-reader-{r}" for r in range(READERS)]
        wait_for_files(ready, procs)
        go = time.monotonic()
        (run_dir / "go").touch()
        writer_output = [finish(proc)[0] for proc in writers]
        writing = time.monotonic() - go
        (run_dir / "stop").touch()
        reader_output = [finish(proc)[0] for proc in readers]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    # Every acknowledged append: (worker, account id) by seq, with no seq acknowledged twice.
    acknowledged: dict[int, tuple[int, int]] = {}
    for worker, out in enumerate(writer_output):
        lines = out.split()
        pairs = [(int(s), int(a)) for s, a in zip(lines[::2], lines[1::2], strict=True)]
        assert len(pairs) == APPENDS_PER_WRITER
        seqs = [seq for seq, _ in pairs]
        # One worker's appends are sequential, so its entries must come in order.
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
        for seq, account_id in pairs:
            assert seq not in acknowledged, f"seq {seq} acknowledged twice"
            acknowledged[seq] = (worker, account_id)

    total = 1 + WRITERS * APPENDS_PER_WRITER
    stored = list(LedgerEntry.objects.order_by("seq"))
    assert [e.seq for e in stored] == list(range(total))
    assert sorted(acknowledged) == list(range(1, total))
    assert TreeHead.objects.get(pk=1).size == total
    usernames = dict(Account.objects.values_list("pk", "username"))
    for seq, (worker, account_id) in acknowledged.items():
        entry = stored[seq]
        body = json.loads(entry.body)
        assert (entry.object_type, entry.object_id) == ("accounts.account", str(account_id))
        assert body["object"] == {"type": "accounts.account", "id": str(account_id)}
        assert body["seq"] == seq
        assert body["actor"] == admin.pk
        assert usernames[account_id].startswith(f"w{worker}-")
    assert len(usernames) == total
    # The writers overlapped: the head passed from one process to another many times, not
    # just the WRITERS - 1 times of writers running one after the other.
    order = [acknowledged[seq][0] for seq in range(1, total)]
    switches = sum(a != b for a, b in itertools.pairwise(order))
    assert switches >= 10 * WRITERS, "".join(map(str, order))

    sign_checkpoint_if_grown()
    report = verify_ledger(load_verifier())
    assert report.entries == total
    leaves = [merkle.leaf_hash(e.body.encode("utf-8")) for e in stored]
    assert report.root == merkle.root_from_leaf_hashes(leaves)
    assert report.latest_checkpoint_size == total

    summaries = [json.loads(out.strip().splitlines()[-1]) for out in reader_output]
    for summary in summaries:
        assert summary["failure_count"] == 0, summary["failures"]
        assert summary["final_size"] == total
        assert summary["inclusion"] > 0
        assert summary["consistency"] > 0
        # The readers saw the tree grow under them, not just its final state.
        assert summary["sizes_seen"] >= 3, summary
    assert report.checkpoints >= 2, "reader 0 signed no checkpoint while the writers ran"

    elapsed = time.monotonic() - started
    print(
        f"\n{connection.vendor}: {WRITERS}x{APPENDS_PER_WRITER} appends in {writing:.1f}s "
        f"({(total - 1) / writing:.0f}/s, {switches} writer switches), test {elapsed:.1f}s; "
        "readers: "
        + "; ".join(
            f"{s['rounds']} rounds, {s['inclusion']} inclusion, {s['consistency']} "
            f"consistency, {s['checkpoints']} checkpoint checks, {s['sizes_seen']} sizes"
            for s in summaries
        )
    )
