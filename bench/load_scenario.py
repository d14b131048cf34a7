"""Load scenario: the documented-search API and the dashboard under N concurrent users,
against the app served by gunicorn on 127.0.0.1, then every acknowledged write looked up in
the ledger and the ledger verified.

Steps: a fresh SEARCHLEDGER_HOME in a temporary directory (and, for PostgreSQL, a fresh
database that this script creates and drops); ``searchledger init``, ``manage migrate``,
``load-demo``; API tokens for every officer who may search some system now and for the two
team supervisors, issued through ``do_issue_api_token`` as each account itself; the
fixture for ``bench/load/locustfile.py``; ``searchledger serve`` (gunicorn) with the
workers asked for; ``locust --headless``; then the server is stopped, the ledger's new
entries are compared with the writes the users saw acknowledged, and ``searchledger
verify`` is run. Prints p50/p95/p99 per endpoint from locust's CSV and the error rate.
Exit status 0 only with no failed request, every acknowledged write in the ledger, no
entry nobody saw acknowledged, and a ledger that verifies.

Run: .venv/bin/python bench/load_scenario.py [--users 50] [--spawn-rate 10] [--duration 60s]
         [--workers 5] [--threads 1] [--database-url postgresql://postgres@127.0.0.1:5432/load]
(``make load`` runs the defaults on SQLite; ``make load LOAD_DATABASE_URL=...`` on PostgreSQL.)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
SUPERVISORS = ["supervisor", "supervisor2"]  # the demo's team supervisors (they approve)


# --------------------------------------------------------------------------------------
# Inside Django (run as `load_scenario.py prepare|entries`, with the server's environment)
# --------------------------------------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django

    django.setup()


def prepare(out: Path) -> None:
    """Issue the API tokens and write the locustfile's fixture to ``out`` (the demo's)."""
    _django()
    from searchledger.demo import DEMO_PASSWORD

    out.write_text(json.dumps(build_fixture(SUPERVISORS, DEMO_PASSWORD), indent=1))


def build_fixture(supervisor_usernames: list[str], password: str) -> dict[str, Any]:
    """The locustfile's fixture from the database as it is (Django set up): every active
    officer who may search some system now, with the policy that governs each such system
    for them and a new API token; the supervisors named (``password`` is theirs, to sign
    in), each with a token to decide searches; the open cases of each officer's unit; the
    ledger's size once the tokens are issued."""
    from django.utils import timezone

    from searchledger.apps.accounts.models import Account
    from searchledger.apps.accounts.security_actions import do_issue_api_token
    from searchledger.apps.grants.selectors import check_access
    from searchledger.apps.ledger.models import TreeHead
    from searchledger.apps.searches.models import Case, CaseStatus
    from searchledger.apps.searches.selectors import applicable_policy
    from searchledger.apps.systems.models import ExternalSystem
    from searchledger.core.actor import Actor
    from searchledger.core.roles import Permission, Role

    expires = timezone.now() + timedelta(days=1)
    systems = list(ExternalSystem.objects.order_by("code"))

    def token(account: Account, scopes: list[Permission]) -> str:
        issued = do_issue_api_token(
            account.pk,
            name="load scenario",
            scopes=scopes,
            expires_at=expires,
            actor=Actor(account_id=account.pk, role=Role(account.role)),
        )
        return issued.secret

    officers = []
    for officer in Account.objects.filter(role=Role.OFFICER.value, is_active=True).order_by("pk"):
        able: dict[str, dict[str, Any]] = {}
        for system in systems:
            if not check_access(officer, system).allowed:
                continue
            policy = applicable_policy(officer, system)
            if policy is None or policy.store_probe_images:
                continue  # no policy: nobody may search; stored probes need an upload
            able[system.code] = {
                "approval_required": policy.approval_required,
                "two_person_verification": policy.two_person_verification,
            }
        if able and officer.org_unit is not None and officer.supervisor is not None:
            officers.append(
                {
                    "id": officer.pk,
                    "username": officer.username,
                    "unit": officer.org_unit.code,
                    "supervisor": officer.supervisor.username,
                    "systems": able,
                    "token": token(officer, [Permission.REQUEST_SEARCH, Permission.VIEW_HOME]),
                }
            )
    supervisors = [
        {
            "id": account.pk,
            "username": account.username,
            "token": token(account, [Permission.DECIDE_SEARCH]),
        }
        for account in Account.objects.filter(username__in=supervisor_usernames).order_by(
            "username"
        )
    ]
    open_cases = {
        unit: list(
            Case.objects.filter(org_unit__code=unit, status=CaseStatus.OPEN).values_list(
                "number", flat=True
            )
        )
        for unit in sorted({o["unit"] for o in officers})
    }
    return {
        "officers": officers,
        "supervisors": supervisors,
        "password": password,
        "systems": [system.code for system in systems],
        "open_cases": open_cases,
        "vetters": [o["id"] for o in officers],
        "ledger_size": TreeHead.objects.get().size,
    }


def entries(since: int, out: Path) -> None:
    """Write ``[event_type, object_id, count]`` of every entry from ``since`` on to ``out``."""
    _django()
    from searchledger.apps.ledger.models import LedgerEntry

    found = Counter(
        LedgerEntry.objects.filter(seq__gte=since).values_list("event_type", "object_id")
    )
    out.write_text(json.dumps([[e, o, n] for (e, o), n in sorted(found.items())]))


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310  # loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer {url}/healthz within {seconds:.0f} s")


def _postgres(url: str, action: str) -> None:
    """Create (refusing an existing one) or drop the database named in ``url``."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"--database-url: name a private database, not {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if action == "create":
            if exists:
                raise SystemExit(
                    f"database {name!r} exists; the scenario needs a fresh one "
                    f"(dropdb {name}, or name another)"
                )
            conn.execute(f'CREATE DATABASE "{name}"')
        elif exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _percentiles(stats_csv: Path) -> list[dict[str, str]]:
    with stats_csv.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by the gunicorn master and its workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that has exited
        pid, ppid = int(stat.parent.name), int(fields[1])
        if master in {pid, ppid}:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _report(rows: list[dict[str, str]]) -> tuple[int, int]:
    """Print the per-endpoint table; return (requests, failures) of the aggregated row."""
    print(
        f"\n| {'endpoint':<46} | {'requests':>8} | {'failures':>8} | "
        f"{'p50 ms':>6} | {'p95 ms':>6} | {'p99 ms':>6} | {'max ms':>6} |"
    )
    print(f"|{'-' * 48}|{'-' * 9}:|{'-' * 9}:|{'-' * 7}:|{'-' * 7}:|{'-' * 7}:|{'-' * 7}:|")
    total = (0, 0)
    for row in rows:
        name = row["Name"] if row["Type"] else "all requests"
        if row["Name"] == "Aggregated":
            name = f"**all requests** ({float(row['Requests/s']):.1f}/s)"
            total = (int(row["Request Count"]), int(row["Failure Count"]))
        max_ms = f"{float(row['Max Response Time']):.0f}"
        print(
            f"| {name:<46} | {row['Request Count']:>8} | {row['Failure Count']:>8} | "
            f"{row['50%']:>6} | {row['95%']:>6} | {row['99%']:>6} | {max_ms:>6} |"
        )
    return total


def _compare(acked: list[list[Any]], found: list[list[Any]]) -> tuple[int, int, int]:
    """(acknowledged writes, of them missing from the ledger, ledger entries not acked)."""
    want = Counter({(int(e), str(o)): int(n) for e, o, n in acked})
    have = Counter({(int(e), str(o)): int(n) for e, o, n in found})
    missing = want - have
    extra = have - want
    for (event, object_id), n in sorted(missing.items())[:10]:
        print(f"  MISSING: {n} x event {event} for object {object_id}")
    for (event, object_id), n in sorted(extra.items())[:10]:
        print(f"  NOT ACKNOWLEDGED: {n} x event {event} for object {object_id}")
    return sum(want.values()), sum(missing.values()), sum(extra.values())


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:  # noqa: PLR0915  # one straight script, step by step
    """Run the scenario; 0 when nothing failed and the ledger holds every acknowledged write."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="60s", help="locust's --run-time, e.g. 60s")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--wait", default="1-3", help="seconds each user pauses between tasks")
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL database to create, use and drop"
    )
    parser.add_argument("--keep", action="store_true", help="keep the state directory")
    parser.add_argument(
        "--results", metavar="DIR", help="copy locust's CSV files and the server log here"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="searchledger-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHLEDGER_")}
    env.pop("DATABASE_URL", None)
    env.update(
        SEARCHLEDGER_HOME=str(home),
        # Plain HTTP on loopback: no TLS proxy in front, so no secure-only cookies.
        SEARCHLEDGER_HTTPS="0",
        SEARCHLEDGER_LOAD_FIXTURE=str(home / "fixture.json"),
        SEARCHLEDGER_LOAD_ACKS=str(home / "acknowledged.json"),
        SEARCHLEDGER_LOAD_WAIT=args.wait,
    )
    database = "SQLite (WAL, synchronous=FULL)"
    if args.database_url:
        _postgres(args.database_url, "create")
        env["DATABASE_URL"] = args.database_url
        database = f"PostgreSQL ({urlsplit(args.database_url).path.lstrip('/')})"
    sl = str(BIN / "searchledger")
    server: subprocess.Popen[bytes] | None = None
    try:
        started = time.monotonic()
        _run(env, sl, "init")
        _run(env, sl, "manage", "migrate", "--noinput")
        _run(env, sl, "load-demo")
        _run(env, sys.executable, __file__, "prepare", str(home / "fixture.json"))
        fixture = json.loads((home / "fixture.json").read_text())
        print(
            f"prepared in {time.monotonic() - started:.0f} s: demo data, "
            f"{len(fixture['officers'])} officers and {len(fixture['supervisors'])} supervisors "
            f"with tokens; ledger size {fixture['ledger_size']}; {database}"
        )
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = (home / "server.log").open("wb")
        serve = ["serve", "--port", str(port), "--workers", str(args.workers)]
        server = subprocess.Popen(
            [sl, *serve, "--threads", str(args.threads)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_healthy(url, server)
        print(
            f"server: gunicorn, {args.workers} workers x {args.threads} threads at {url}; "
            f"locust: {args.users} users, spawn rate {args.spawn_rate}/s, {args.duration}, "
            f"{args.wait} s between tasks"
        )
        print(f"load average before: {_load_average()}  ({os.cpu_count()} cores)")
        cpu_before, wall_before = _server_cpu_seconds(server.pid), time.monotonic()
        prefix = home / "locust"
        users = ["-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.duration]
        output = ["--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
        scenario = ["-f", str(LOCUSTFILE), "--headless", "--host", url, "--stop-timeout", "30s"]
        locust = subprocess.run(
            [str(BIN / "locust"), *scenario, *users, *output],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        cpu = _server_cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        print(f"load average after:  {_load_average()}")
        print(f"server CPU: {cpu:.1f} s in {wall:.0f} s of wall time ({cpu / wall:.2f} cores)")
        if locust.returncode not in (0, 1):
            print(locust.stdout[-3000:], locust.stderr[-3000:], sep="\n")
            raise SystemExit(f"locust exited with status {locust.returncode}")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server = None
        requests, failures = _report(_percentiles(Path(f"{prefix}_stats.csv")))
        rate = failures / requests if requests else 1.0
        print(f"\nrequests {requests}, failures {failures}, error rate {rate:.4%}")
        if failures:
            print(Path(f"{prefix}_failures.csv").read_text()[:3000])
        _run(env, sys.executable, __file__, "entries", str(fixture["ledger_size"]), str(home / "e"))
        acked = json.loads((home / "acknowledged.json").read_text())
        written, missing, extra = _compare(acked, json.loads((home / "e").read_text()))
        verify = subprocess.run(
            [sl, "verify"], env=env, capture_output=True, text=True, check=False
        )
        print(
            f"ledger: {written} acknowledged writes, {missing} missing, {extra} entries not "
            f"acknowledged; searchledger verify: {(verify.stdout or verify.stderr).strip()}"
        )
        if args.results:
            target = Path(args.results)
            target.mkdir(parents=True, exist_ok=True)
            for path in home.glob("locust_*.csv"):
                shutil.copy(path, target / path.name)
            shutil.copy(home / "server.log", target / "server.log")
        ok = failures == 0 and requests > 0 and not missing and not extra
        return 0 if ok and verify.returncode == 0 else 1
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        if args.database_url:
            _postgres(args.database_url, "drop")
        if args.keep:
            print(f"state kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "prepare":
        prepare(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "entries":
        entries(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(main())
