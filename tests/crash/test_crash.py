"""Crash safety (issue 7, item 2): real processes killed with SIGKILL at random moments.

One prepared database (SQLite or PostgreSQL, whichever the suite runs on) and 100 kills,
spread over three kinds of job:

* **appends**: a writer process (``tests.crash.writer``) appending through
  ``do_create_account`` one transaction at a time, and the served web app
  (``searchledger serve``, the whole process group) answering API POSTs that request and
  refuse grants;
* **imports**: ``searchledger import-log`` of a 120,000-row access log, resumed with
  ``--resume`` after each kill;
* **reconciliation**: ``searchledger reconcile`` of 200 undocumented searches (a fresh system
  for each chain of kills, so that kills land in the first run, which raises the findings),
  retried after each kill.

Each kill lands after a random delay (a seeded ``random.Random``; the seed is printed and
named in every failure; ``SEARCHLEDGER_CRASH_SEED`` replays one). The delays are calibrated on
an uninterrupted run of the same job: counted from the process's first output (Django set up,
the job begun), uniform over 1.1 times the job's measured duration up to its commit (its
summary on stdout). Nothing in the
application knows it is being tested: where a kill landed is read afterwards from the
process's own output and from the database.

After every kill: ``searchledger verify`` passes; every acknowledged append is in the ledger;
no interrupted import is counted (not completed, not in reconciliation's selectors, not in
the external accounts' counts, no ``RECON_LOG_IMPORTED``); no interrupted reconciliation run
exists. Each interrupted import and reconciliation is then resumed or retried to completion
and compared with an uninterrupted run: same counts, same discrepancy set, no duplicates.
``SEARCHLEDGER_CRASH_KILLS`` changes the number of kills (default 100).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.db import connection
from django.utils import timezone
from typing_extensions import override

from searchledger import cli
from searchledger.apps.accesslogs.actions import (
    do_import_access_log,
    do_map_external_account,
    do_set_column_mapping,
)
from searchledger.apps.accesslogs.models import AccessLogImport, ExternalAccount, ImportStatus
from searchledger.apps.accesslogs.selectors import completed_event_files, imports_covering
from searchledger.apps.accesslogs.tests.conftest import HEADER, MAPPING
from searchledger.apps.accounts.actions import do_assign_account, do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_issue_api_token
from searchledger.apps.findings.models import Finding
from searchledger.apps.grants.actions import do_refuse_grant
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.ledger.tests.processes import child_env, searchledger_command
from searchledger.apps.reconciliation.models import Discrepancy, ReconciliationRun
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger.events import LedgerEventType

REPO = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("SEARCHLEDGER_CRASH_KILLS", "100"))
LOG_ROWS = 120_000
LOG_ACCOUNTS = 2_000
RECON_SEARCHES = 200
MAX_KILLS_PER_CHAIN = 5
STARTUP_TIMEOUT = 90.0
JOB_TIMEOUT = 180.0
WRITER_WINDOW = 1.0  # seconds after `ready` over which a writer's kill is drawn
SERVER_WINDOW = 1.5  # seconds after the first POST is answered


# --------------------------------------------------------------------------- processes


class Child:
    """A process of the harness in its own session (so its whole group can be killed),
    with its output collected by two threads."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(  # our own command, no shell
            args,
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.first_output = threading.Event()
        self.first_output_at: float | None = None
        self.first_stdout_at: float | None = None
        self.ended: float | None = None
        self._out = bytearray()
        self._err = bytearray()
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _drain(self, stream: Any, into: bytearray) -> None:
        while chunk := stream.read1(65536):
            now = time.monotonic()
            if not self.first_output.is_set():
                self.first_output_at = now
                self.first_output.set()
            if into is self._out and self.first_stdout_at is None:
                self.first_stdout_at = now
            into.extend(chunk)

    def wait_first_output(self) -> float:
        """Seconds from the start to the first byte of output (Django set up, job begun)."""
        if not self.first_output.wait(STARTUP_TIMEOUT):
            self.kill()
            raise AssertionError(f"{self.proc.args!r} wrote nothing in {STARTUP_TIMEOUT}s")
        assert self.first_output_at is not None
        return self.first_output_at - self.started

    def kill(self) -> bool:
        """SIGKILL the process group; True if the process was still running."""
        running = self.proc.poll() is None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.finish()
        return running

    def finish(self, timeout: float = JOB_TIMEOUT) -> int:
        """Wait for the exit and the end of the output; the exit status."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
            raise AssertionError(f"{self.proc.args!r} did not finish:\n{self.stderr}") from None
        finally:
            for thread in self._threads:
                thread.join(10)
            if self.ended is None:
                self.ended = time.monotonic()
        return code

    @property
    def stdout_lines(self) -> list[str]:
        return self._out.decode("utf-8", "replace").splitlines()

    @property
    def stderr(self) -> str:
        return self._err.decode("utf-8", "replace")

    @property
    def elapsed(self) -> float:
        """Seconds from the start to the exit."""
        assert self.ended is not None
        return self.ended - self.started

    @property
    def job_seconds(self) -> float:
        """Seconds from the first output (the job begun, on stderr) to the first line on
        stdout (the summary, printed once the job's last transaction has committed)."""
        assert self.first_stdout_at is not None
        assert self.first_output_at is not None
        return self.first_stdout_at - self.first_output_at


@dataclass
class Harness:
    """The run's seed, its random numbers, the children's environment and the tally of
    where each kill landed."""

    seed: int
    env: dict[str, str]
    admin: Account
    rng: random.Random = field(init=False)
    landed: dict[str, Counter[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    kills: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def spawn(self, *args: str) -> Child:
        return Child([*searchledger_command(), *args], self.env)

    def spawn_writer(self, tag: str) -> Child:
        return Child(
            [sys.executable, "-m", "tests.crash.writer", tag, str(self.admin.pk)], self.env
        )

    def kill_after(self, child: Child, window: float) -> tuple[float, bool]:
        """Sleep a random part of ``window`` seconds, then SIGKILL ``child``; the delay and
        whether the process was still running."""
        delay = self.rng.uniform(0, window)
        time.sleep(delay)
        running = child.kill()
        self.kills += 1
        return delay, running

    def land(self, kind: str, where: str) -> None:
        self.landed.setdefault(kind, Counter())[where] += 1

    def verify(self) -> None:
        """``searchledger verify`` (in this process: the same command, without paying for
        Django's start-up 100 times; the last check of each job runs the real process)."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = cli.main(["verify"])
        assert status == 0, f"searchledger verify failed after kill {self.kills}: {out.getvalue()}"

    def verify_process(self) -> None:
        child = self.spawn("verify")
        assert child.finish() == 0, f"searchledger verify: {child.stderr}"


@contextlib.contextmanager
def seed_named(seed: int) -> Iterator[None]:
    """Name the seed in any failure, so the run can be replayed."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(
            f"[crash harness seed {seed}: replay with SEARCHLEDGER_CRASH_SEED={seed}] {exc}"
        ) from exc


# --------------------------------------------------------------------------- appends


def _ledger_has(seq: int, object_type: str, object_id: int, event: LedgerEventType) -> bool:
    return LedgerEntry.objects.filter(
        seq=seq, object_type=object_type, object_id=str(object_id), event_type=int(event)
    ).exists()


def kill_writers(h: Harness, count: int) -> list[tuple[int, int, str]]:
    """``count`` writer processes, each killed at a random moment; returns every
    acknowledged (seq, account id, username) and checks them after each kill."""
    acked: list[tuple[int, int, str]] = []
    for run in range(count):
        tag = f"crash{run}"
        child = h.spawn_writer(tag)
        child.wait_first_output()
        h.kill_after(child, WRITER_WINDOW)
        lines = child.stdout_lines
        for line in lines:
            if line.startswith("ack "):
                _, number, seq, account = line.split()
                acked.append((int(seq), int(account), f"{tag}-{number}"))
        last = lines[-1] if lines else ""
        if last.startswith("begin "):
            username = f"{tag}-{last.split()[1]}"
            if Account.objects.filter(username=username).exists():
                h.land("append (writer)", "committed, not yet acknowledged")
            else:
                h.land("append (writer)", "inside the transaction (rolled back)")
        elif last.startswith("ack "):
            h.land("append (writer)", "after the commit, between appends")
        else:
            h.land("append (writer)", "before the first append")
        h.verify()
        check_acknowledged_accounts(acked)
    return acked


def check_acknowledged_accounts(acked: list[tuple[int, int, str]]) -> None:
    usernames = dict(Account.objects.values_list("pk", "username"))
    for seq, account, username in acked:
        assert usernames.get(account) == username, f"acknowledged account {username} lost"
        assert _ledger_has(seq, "accounts.account", account, LedgerEventType.ACCOUNT_CREATED), (
            f"acknowledged entry {seq} ({username}) is not in the ledger"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_arguments(port: int) -> list[str]:
    """``serve`` on loopback; one worker process when the command takes ``--workers``."""
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    commands = next(
        a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    if any("--workers" in a.option_strings for a in commands.choices["serve"]._actions):
        args += ["--workers", "2"]
    return args


class ApiClient(threading.Thread):
    """Requests and refuses a grant for one officer, over and over, through the served
    API, until the server dies; remembers every answered request (the acknowledgements)
    and the one in flight when it died."""

    def __init__(self, base: str, token: str, officer: int, system: str) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.officer, self.system = base, token, officer, system
        self.acked: list[tuple[str, int]] = []
        self.in_flight: tuple[str, int | None] | None = None
        self.error: str | None = None

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310  # loopback http only
            self.base + path,
            data=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return dict(json.loads(response.read()))

    @override
    def run(self) -> None:
        today = timezone.localdate()
        try:
            while True:
                self.in_flight = ("requested", None)
                grant = self.post(
                    "/api/grants",
                    {
                        "account_id": self.officer,
                        "system": self.system,
                        "job_function": "crash harness",
                        "justification": "a request answered while the server may be killed",
                        "starts_on": today.isoformat(),
                        "expires_on": (today + timedelta(days=30)).isoformat(),
                    },
                )
                self.acked.append(("requested", int(grant["id"])))
                self.in_flight = ("refused", int(grant["id"]))
                self.post(f"/api/grants/{grant['id']}/refuse", {"reason": "crash harness"})
                self.acked.append(("refused", int(grant["id"])))
                self.in_flight = None
        except urllib.error.HTTPError as exc:  # an answer, but not the expected one
            self.error = f"unexpected: {exc!r} {exc.read()!r}"
            self.in_flight = ("unexpected", None)
        except (OSError, http.client.HTTPException) as exc:
            # The server died: refused, reset, or closed mid-answer (IncompleteRead: the
            # headers were sent and the process was killed before the body). Not acknowledged.
            self.error = repr(exc)
        except Exception as exc:  # a bad body: a failure to report
            self.error = f"unexpected: {exc!r}"
            self.in_flight = ("unexpected", None)


def wait_serving(port: int, child: Child) -> None:
    """Until the server answers its health check (its workers are up)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise AssertionError(f"the server exited: {child.stderr}")
        url = f"http://127.0.0.1:{port}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as answer:
            if answer.status == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"the server never answered: {child.stderr}")


def kill_servers(h: Harness, count: int, system: str, admin_actor: Actor) -> int:
    """``count`` lives of the served app, each killed (the whole process group) while the
    API client posts; returns how many POSTs were acknowledged."""
    officer = do_create_account(
        username="crash-officer", role=Role.OFFICER, password=None, actor=admin_actor
    )
    token = do_issue_api_token(
        h.admin.pk,
        name="crash harness",
        scopes=[Permission.REQUEST_GRANT, Permission.DECIDE_GRANT],
        expires_at=timezone.now() + timedelta(days=1),
        actor=admin_actor,
    ).secret
    event = {"requested": LedgerEventType.GRANT_REQUESTED, "refused": LedgerEventType.GRANT_REFUSED}
    acked: list[tuple[str, int]] = []
    unanswered_requests = 0  # committed requests whose answer the kill cut off
    for _ in range(count):
        # A request left open by the previous kill is refused first (one open grant each).
        for grant in AccessGrant.objects.filter(account=officer, status="requested"):
            do_refuse_grant(grant.pk, actor=admin_actor, reason="left open by a kill")
        port = free_port()
        child = h.spawn(*serve_arguments(port))
        wait_serving(port, child)
        client = ApiClient(f"http://127.0.0.1:{port}", token, officer.pk, system)
        client.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not client.acked and client.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.acked, f"no POST answered: {client.error}\n{child.stderr}"
        _, running = h.kill_after(child, SERVER_WINDOW)
        assert running, f"the server stopped by itself: {child.stderr}"
        client.join(60)
        assert not client.is_alive(), "the API client hung after the server died"
        assert client.in_flight != ("unexpected", None), client.error
        acked.extend(client.acked)
        before = len(client.acked)
        if client.in_flight is None:
            where = "between requests" if before else "before the first request"
        else:
            what, grant_id = client.in_flight
            if what == "requested":
                requested = sum(1 for op, _ in acked if op == "requested")
                done = (
                    AccessGrant.objects.filter(account=officer).count()
                    > requested + unanswered_requests
                )
                unanswered_requests += int(done)
            else:
                assert grant_id is not None
                done = AccessGrant.objects.filter(pk=grant_id, status="refused").exists()
            where = (
                "request in flight: committed, not yet answered"
                if done
                else "request in flight: rolled back"
            )
        h.land("append (served app)", where)
        h.verify()
        for op, grant_id in acked:
            assert LedgerEntry.objects.filter(
                object_type="grants.accessgrant",
                object_id=str(grant_id),
                event_type=int(event[op]),
            ).exists(), f"acknowledged {op} of grant {grant_id} is not in the ledger"
    return len(acked)


# --------------------------------------------------------------------------- imports


def write_log(path: Path, chain: int) -> None:
    """A log of LOG_ROWS records (a few rejected, a few repeated), its times shifted by
    ``chain`` months so that no two chains' files share an event."""
    base = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=30 * chain)
    parts = [HEADER]
    for i in range(LOG_ROWS):
        ts = (base + timedelta(seconds=4 * i)).isoformat()
        if i % 997 == 0:
            ts = ts[:19]  # no offset: rejected, "time zone missing"
        line = f"acct{i % LOG_ACCOUNTS},{ts},{'search' if i % 3 == 0 else 'view'},Q{i},C{i % 50}\n"
        parts.append(line)
        if i % 499 == 0:
            parts.append(line)  # a duplicate within the file
    path.write_text("".join(parts), encoding="utf-8")


COUNTS = ("records_read", "valid_events", "searches", "rejected", "duplicates_in_file")


def check_imports(system: ExternalSystem) -> None:
    """Only completed imports count, anywhere."""
    imports = list(AccessLogImport.objects.filter(system=system))
    completed = [i for i in imports if i.status == ImportStatus.COMPLETED]
    assert sorted(completed_event_files(system.pk)) == sorted(
        Path(i.parquet_path) for i in completed
    )
    covering = imports_covering(
        system.pk, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert {c.import_id for c in covering} == {i.pk for i in completed}
    recorded = LedgerEntry.objects.filter(
        event_type=int(LedgerEventType.RECON_LOG_IMPORTED),
        object_id__in=[str(i.pk) for i in imports],
    )
    assert sorted(int(e.object_id) for e in recorded) == sorted(i.pk for i in completed)
    events = sum(ExternalAccount.objects.filter(system=system).values_list("events", flat=True))
    assert events == sum(i.valid_events for i in completed), "a half import is counted"
    for log in completed:
        assert log.parquet_sha256
        assert Path(log.parquet_path).is_file()


def check_event_store(system: ExternalSystem, root: Path) -> None:
    """After every chain completed: the system's directory holds exactly the completed
    imports' files, and no DuckDB work directory is left."""
    completed = AccessLogImport.objects.filter(system=system, status=ImportStatus.COMPLETED)
    expected = {Path(i.parquet_path).name for i in completed} | {
        Path(i.rejects_path).name for i in completed if i.rejects_path
    }
    found = {p.name for p in (root / system.code).iterdir()}
    assert found == expected, f"orphan files: {sorted(found - expected)}"
    work = root / "work"
    assert not work.exists() or not any(work.iterdir()), f"left in {work}: {list(work.iterdir())}"


def import_chains(h: Harness, kills: int, tmp: Path, home: Path) -> int:
    """Kill ``import-log`` ``kills`` times over several files, resuming each interrupted
    import until it completes; each completed import must match the uninterrupted one."""
    ref_path = tmp / "ref.csv"
    write_log(ref_path, 0)
    reference = h.spawn("import-log", "mirs-ref", str(ref_path), "--actor", "admin")
    reference.wait_first_output()
    assert reference.finish() == 0, reference.stderr
    job = reference.job_seconds
    h.timings["import, uninterrupted"] = reference.elapsed
    ref = AccessLogImport.objects.get(system__code="mirs-ref")
    mirs = ExternalSystem.objects.get(code="mirs")
    done = chain = 0
    while done < kills:
        chain += 1
        path = tmp / f"mirs-{chain}.csv"
        write_log(path, chain)
        log: AccessLogImport | None = None
        in_chain = 0
        while True:
            args = ["import-log", "mirs"]
            args += ["--resume", str(log.pk)] if log else [str(path)]
            child = h.spawn(*args, "--actor", "admin")
            child.wait_first_output()
            killed = running = False
            if in_chain == MAX_KILLS_PER_CHAIN or done == kills:
                assert child.finish() == 0, child.stderr
            else:
                _, running = h.kill_after(child, 1.1 * job)
                killed = True
                done += 1
                in_chain += 1
            log = AccessLogImport.objects.filter(system=mirs, original_name=path.name).first()
            if log is None:
                where = "before the start was recorded"
            elif log.status == ImportStatus.RUNNING:
                where = f"running: {log.phase or 'queued'}"
                parquet = home / "access-logs" / "mirs" / f"{log.pk}-{log.sha256[:16]}.parquet"
                if parquet.exists():
                    where += " (an unrecorded event file on disk)"
            else:
                assert log.status == ImportStatus.COMPLETED, (log.status, log.failure)
                where = "after the completion was recorded"
            if killed:
                h.land("import", where if running else "after the process had exited")
            h.verify()
            check_imports(mirs)
            if log is not None and log.status == ImportStatus.COMPLETED:
                break
        for name in COUNTS:
            assert getattr(log, name) == getattr(ref, name), (name, log.pk)
        assert log.duplicates_earlier == 0
        assert log.reject_reasons == ref.reject_reasons
        # A private connection: fetchone() leaves the result open, and on DuckDB's
        # process-wide default connection that made a later test's query there fail.
        with duckdb.connect() as con:
            rows = con.execute(
                "SELECT count(*) FROM read_parquet(?)", [log.parquet_path]
            ).fetchone()
        assert rows is not None
        assert rows[0] == ref.valid_events
        assert AccessLogImport.objects.filter(system=mirs, sha256=log.sha256).count() == 1
    check_event_store(mirs, home / "access-logs")
    h.verify_process()
    return chain


# --------------------------------------------------------------------------- reconciliation

PHASES = (
    ("storing", "storing the run and raising its findings (rolled back)"),
    ("matching", "in the engine"),
)


def discrepancy_set(run: ReconciliationRun) -> set[tuple[Any, ...]]:
    return set(
        Discrepancy.objects.filter(run=run).values_list(
            "kind", "person_id", "external_account", "search_id", "line", "time"
        )
    )


def check_runs(system: ExternalSystem, reference: set[tuple[Any, ...]], ref_findings: int) -> int:
    """Every stored run is whole (its discrepancies, its entry) and equal to the reference;
    the findings were raised once. Returns the number of runs."""
    runs = list(ReconciliationRun.objects.filter(system=system))
    for run in runs:
        assert Discrepancy.objects.filter(run=run).count() == run.total
        assert discrepancy_set(run) == reference, f"run {run.pk} differs"
        assert LedgerEntry.objects.filter(
            event_type=int(LedgerEventType.RECON_RUN_COMPLETED), object_id=str(run.pk)
        ).exists()
    assert len({run.digest for run in runs}) <= 1
    findings = Finding.objects.filter(system=system).count()
    assert findings == (ref_findings if runs else 0), "findings of a half-finished run"
    return len(runs)


def reconcile_chains(h: Harness, kills: int, recon: ReconWorld) -> int:
    """Kill ``reconcile`` ``kills`` times. Each chain reconciles a fresh system (its first
    run raises every finding, one ledger entry each, in the run's one transaction) and is
    retried after each kill until a run completes (at most MAX_KILLS_PER_CHAIN kills); every
    run must equal the uninterrupted one, and no finding may exist without its run."""
    dates = ["--from", recon.start.isoformat(), "--to", recon.end.isoformat(), "--actor", "admin"]
    reference = h.spawn("reconcile", "rec-ref", *dates)
    reference.wait_first_output()
    assert reference.finish() == 0, reference.stderr
    h.timings["reconcile, uninterrupted"] = reference.elapsed
    job = reference.job_seconds
    ref_run = ReconciliationRun.objects.get(system__code="rec-ref")
    expected = discrepancy_set(ref_run)
    assert len(expected) == ref_run.total > RECON_SEARCHES // 2
    ref_findings = Finding.objects.filter(system=ref_run.system).count()
    done = chains = 0
    while done < kills:
        chains += 1
        system = recon.system(f"rec-{chains}")
        in_chain = 0
        while True:
            child = h.spawn("reconcile", system.code, *dates)
            child.wait_first_output()
            killed = running = False
            if in_chain == MAX_KILLS_PER_CHAIN or done == kills:
                assert child.finish() == 0, child.stderr
            else:
                _, running = h.kill_after(child, 1.1 * job)
                killed = True
                done += 1
                in_chain += 1
            runs = check_runs(system, expected, ref_findings)
            h.verify()
            if killed:
                where = "after the process had exited"
                if running and runs:
                    where = "after the run was stored"
                elif running:
                    where = next(
                        (label for key, label in PHASES if key in child.stderr),
                        "reading the inputs",
                    )
                h.land("reconciliation", where)
            if runs:
                break
        # Retried once more: a second run finds the same and raises nothing new.
        again = h.spawn("reconcile", system.code, *dates)
        assert again.finish() == 0, again.stderr
        assert check_runs(system, expected, ref_findings) == 2
    h.verify_process()
    return chains


# --------------------------------------------------------------------------- set-up


def details(code: str) -> SystemDetails:
    return SystemDetails(name=code.upper(), owner="agency", kind="face_images", access_method="api")


@dataclass
class ReconWorld:
    """An officer with a supervisor, whose undocumented searches (one log file) are
    imported into each system reconciled, the external account mapped to the officer."""

    actor: Actor
    officer: Account
    log: Path
    start: date
    end: date

    def system(self, code: str) -> ExternalSystem:
        """A new system with the log imported (in this process) and its account mapped."""
        system = do_create_system(
            code,
            SystemDetails(
                name=code.upper(), owner="agency", kind="face_images", access_method="api"
            ),
            actor=self.actor,
        )
        do_set_column_mapping(code, MAPPING, actor=self.actor)
        log = do_import_access_log(code, self.log, original_name="rec.csv", actor=self.actor)
        assert log.status == ImportStatus.COMPLETED, log.failure
        external = ExternalAccount.objects.get(system=system, external_id="oscar-x")
        do_map_external_account(external.pk, self.officer.pk, actor=self.actor)
        return system


def prepare(admin_actor: Actor, tmp: Path) -> ReconWorld:
    """Systems, mappings, and the reconciliation's officer, supervisor and log."""
    for code in ("crash-api", "mirs", "mirs-ref"):
        do_create_system(
            code,
            SystemDetails(
                name=code.upper(), owner="agency", kind="face_images", access_method="api"
            ),
            actor=admin_actor,
        )
    for code in ("mirs", "mirs-ref"):
        do_set_column_mapping(code, MAPPING, actor=admin_actor)
    boss = do_create_account(
        username="crash-boss", role=Role.SUPERVISOR, password=None, actor=admin_actor
    )
    oscar = do_create_account(
        username="crash-oscar", role=Role.OFFICER, password=None, actor=admin_actor
    )
    do_assign_account(oscar.pk, org_unit_code=None, supervisor_id=boss.pk, actor=admin_actor)
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    path = tmp / "rec.csv"
    path.write_text(
        HEADER
        + "".join(
            f"oscar-x,{(start + timedelta(minutes=2 * i)).isoformat()},search,Q{i},C{i}\n"
            for i in range(RECON_SEARCHES)
        ),
        encoding="utf-8",
    )
    last = start + timedelta(minutes=2 * RECON_SEARCHES)
    world = ReconWorld(
        admin_actor, oscar, path, start.date() - timedelta(days=1), last.date() + timedelta(days=1)
    )
    world.system("rec-ref")
    return world


def split(total: int) -> dict[str, int]:
    """The kills per job: a third each, the appends' third shared 7:3 by the writer and
    the served app."""
    imports = recon = total // 3
    appends = total - imports - recon
    server = max(1, appends * 3 // 10)
    return {"writer": appends - server, "server": server, "import": imports, "recon": recon}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkill_at_random_points_loses_nothing_and_counts_nothing_twice(
    admin, admin_actor, tmp_path, settings
):
    """100 SIGKILLs over appends, imports and reconciliations (see the module docstring)."""
    seed = int(os.environ.get("SEARCHLEDGER_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\ncrash harness seed {seed} (replay: SEARCHLEDGER_CRASH_SEED={seed})")
    home = tmp_path / "home"
    home.mkdir()
    settings.HOME = home
    env = child_env(home, Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE), connection.settings_dict)
    env.update(
        # Resume an interrupted import at once: the harness knows its process is dead.
        SEARCHLEDGER_IMPORT_STALE_SECONDS="0",
        SEARCHLEDGER_HTTPS="0",
        SEARCHLEDGER_DEBUG="0",
        PYTHONPATH=str(REPO),
    )
    h = Harness(seed=seed, env=env, admin=admin)
    plan = split(KILLS)
    started = time.monotonic()
    with seed_named(seed):
        recon = prepare(admin_actor, tmp_path)
        h.timings["set-up"] = time.monotonic() - started
        mark = time.monotonic()
        acked = kill_writers(h, plan["writer"])
        posts = kill_servers(h, plan["server"], "crash-api", admin_actor)
        h.verify_process()
        h.timings["appends"] = time.monotonic() - mark
        mark = time.monotonic()
        files = import_chains(h, plan["import"], tmp_path, home)
        h.timings["imports"] = time.monotonic() - mark
        mark = time.monotonic()
        chains = reconcile_chains(h, plan["recon"], recon)
        h.timings["reconciliation"] = time.monotonic() - mark
        assert h.kills == KILLS
    h.timings["total"] = time.monotonic() - started
    print(
        f"{connection.vendor}: {h.kills} kills; {len(acked)} writer appends and {posts} API "
        f"POSTs acknowledged, all present; {files} log files imported through kills; "
        f"{chains} reconciliations retried to completion"
    )
    for kind, counter in h.landed.items():
        print(f"  {kind}: " + ", ".join(f"{n} {where}" for where, n in counter.most_common()))
    print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in h.timings.items()))
