"""Start writer and reader processes (``concurrency_worker``) against one database, let them
run together and collect what they report. Shared by ``test_concurrency`` and
``bench/append_concurrency.py``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ConcurrentRun", "WorkerFailed", "run_concurrently"]

WORKER_MODULE = "searchledger.apps.ledger.tests.concurrency_worker"
STARTUP_TIMEOUT = 120.0


class WorkerFailed(RuntimeError):
    """A worker exited early, with an error or not in time."""


@dataclass(frozen=True)
class ConcurrentRun:
    """What the workers reported: each writer's acknowledgements ``(seq, account id)`` in
    the order it made them and its summary, each reader's summary, and the seconds from the
    start signal until the last writer finished."""

    acks: list[list[tuple[int, int]]]
    writers: list[dict[str, Any]]
    readers: list[dict[str, Any]]
    writing_seconds: float


@dataclass
class _Worker:
    name: str
    proc: subprocess.Popen[str]
    out: TextIO
    err: TextIO

    def result(self, deadline: float) -> dict[str, Any]:
        """Wait for the process; its last stdout line, a JSON summary."""
        try:
            self.proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise WorkerFailed(f"{self.name} did not finish in time:\n{self.stderr()}") from None
        out = Path(self.out.name).read_text(encoding="utf-8")
        if self.proc.returncode != 0:
            raise WorkerFailed(
                f"{self.name} exited {self.proc.returncode}:\n{out[-4000:]}\n{self.stderr()}"
            )
        summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return summary

    def stderr(self) -> str:
        return Path(self.err.name).read_text(encoding="utf-8")[-4000:]


def run_concurrently(
    env: dict[str, str],
    directory: Path,
    *,
    writers: int,
    appends: int,
    admin_id: int,
    readers: int = 0,
    think_ms: float = 4.0,
    busy_timeout: float | None = None,
    reader_pause_ms: float = 0.0,
    timeout: float = 600.0,
) -> ConcurrentRun:
    """Run ``writers`` processes each creating ``appends`` accounts, and ``readers``
    proof-checking processes until the writers are done. Output goes to files in
    ``directory``, not pipes, so a worker never blocks on a full pipe."""
    directory.mkdir(parents=True, exist_ok=True)
    env = {**env, "SEARCHLEDGER_WORKER_DEADLINE": str(timeout)}

    def spawn(name: str, *args: object) -> _Worker:
        out = (directory / f"{name}.out").open("w", encoding="utf-8")
        err = (directory / f"{name}.err").open("w", encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, *map(str, args)],
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )
        return _Worker(name, proc, out, err)

    writer_args: list[object] = [think_ms]
    if busy_timeout is not None:
        writer_args.append(busy_timeout)
    procs = [
        spawn(f"writer-{w}", "writer", w, appends, admin_id, directory, *writer_args)
        for w in range(writers)
    ]
    procs += [spawn(f"reader-{r}", "reader", r, directory, reader_pause_ms) for r in range(readers)]
    try:
        _wait_until_ready(directory, procs)
        go = time.monotonic()
        deadline = go + timeout
        (directory / "go").touch()
        writer_summaries = [w.result(deadline) for w in procs[:writers]]
        writing = time.monotonic() - go
        (directory / "stop").touch()
        reader_summaries = [r.result(deadline + 60) for r in procs[writers:]]
    finally:
        for worker in procs:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait()
            worker.out.close()
            worker.err.close()
    acks = [
        [
            (int(seq), int(account))
            for seq, account in (
                line.split()
                for line in (directory / f"acks-writer-{w}").read_text("ascii").splitlines()
            )
        ]
        for w in range(writers)
    ]
    return ConcurrentRun(acks, writer_summaries, reader_summaries, writing)


def _wait_until_ready(directory: Path, procs: list[_Worker]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not all((directory / f"ready-{w.name}").exists() for w in procs):
        for worker in procs:
            if worker.proc.poll() is not None:
                raise WorkerFailed(
                    f"{worker.name} exited early ({worker.proc.returncode}):\n{worker.stderr()}"
                )
        if time.monotonic() > deadline:
            raise WorkerFailed("the workers did not start in time")
        time.sleep(0.02)
