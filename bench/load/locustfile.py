"""The load scenario: officers documenting searches through the JSON API, supervisors
approving requests that need prior approval and watching the reports dashboard.

Run by ``bench/load_scenario.py``, which prepares the data and the fixture this file reads
(``SEARCHLEDGER_LOAD_FIXTURE``: officers and supervisors with their API tokens, the systems
each officer may search now with the policy that governs it, the open cases of each unit).
Every request checks its answer: a status other than the one expected, or an expected
status with a body that does not say what it should (the record's status, its id, the
officer's own records only, the dashboard's charts), is a failure. Each acknowledged write
is remembered, as the ledger entry it must have made, and written at the end to
``SEARCHLEDGER_LOAD_ACKS`` so that the runner can find every one in the ledger.

Users (weights 4 : 1, so 50 users are 40 officers and 10 supervisors), each pausing
``SEARCHLEDGER_LOAD_WAIT`` seconds (default ``1-3``) between tasks:

* an officer, as the search tool an officer uses would: requests a search of a system the
  policy lets them search without approval and documents its outcome at once (201, then
  200 ``documented``); requests a MIRS search, which the policy sends to their supervisor
  (201 ``pending_approval``) and documents it once approved; sends a request the policy
  refuses (409 naming ``purpose_forbidden``: the refusal is recorded too); lists their
  searches; reads one of them (a ledger entry of its own).
* a supervisor, signed in with a password and a session (CSRF token from the form; the
  demo has no second factor), opens the dashboard (all systems, or one); lists the
  requests waiting for them; approves them through the API with a token.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

__all__ = ["OfficerUser", "SupervisorUser"]

FIXTURE: dict[str, Any] = json.loads(
    Path(os.environ.get("SEARCHLEDGER_LOAD_FIXTURE", "load-fixture.json")).read_text()
)
_WAIT = [float(x) for x in os.environ.get("SEARCHLEDGER_LOAD_WAIT", "1-3").split("-")]

# Ledger event types (searchledger.ledger.events) each acknowledged write must have made.
SEARCH_REQUESTED = 310
SEARCH_REQUEST_REFUSED = 311
SEARCH_APPROVED = 312
SEARCH_OUTCOME_DOCUMENTED = 320
SEARCH_VIEWED = 330

PURPOSES = ["fugitive_offences", "drug_offences", "assault", "fraud", "robbery", "homicide"]
FORBIDDEN_PURPOSE = "immigration_civil_enforcement"
TECHNIQUES = ["government_databases", "criminal_history", "open_source", "interviews"]

# (event type, object id) of every write the server acknowledged with the expected answer.
ACKNOWLEDGED: Counter[tuple[int, str]] = Counter()
# Search ids waiting for each supervisor's approval, with the officer user who asked.
PENDING: dict[str, deque[tuple[int, OfficerUser]]] = {}
_officer_numbers = itertools.count()
_supervisor_numbers = itertools.count()


class ScenarioError(Exception):
    """The answer was not the one expected; the message says how."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioError(message)


def _expect(response: Any, status: int, name: str) -> Any:
    """The JSON body of ``response`` if its status is ``status``, else a failure."""
    if response.status_code != status:
        raise ScenarioError(
            f"{name}: expected {status}, got {response.status_code}: {response.text[:300]}"
        )
    return response.json()


class OfficerUser(FastHttpUser):
    """An officer's search tool, with the officer's personal API token."""

    weight = 4
    wait_time = between(_WAIT[0], _WAIT[-1])

    def on_start(self) -> None:
        """Take the next officer of the fixture (several users may share one)."""
        officers = FIXTURE["officers"]
        self.me: dict[str, Any] = officers[next(_officer_numbers) % len(officers)]
        self.auth = {"Authorization": f"Bearer {self.me['token']}"}
        self.cases: list[str] = FIXTURE["open_cases"][self.me["unit"]]
        self.mine: dict[int, str] = {}  # search id -> case number, to check reads
        self.approved: deque[int] = deque()
        self.direct = [s for s, p in self.me["systems"].items() if not p["approval_required"]]
        self.prior = [s for s, p in self.me["systems"].items() if p["approval_required"]]
        self.rng = random.Random()  # load-test data, not security

    def _request_body(self, system: str, purpose: str) -> dict[str, Any]:
        return {
            "system": system,
            "purpose": purpose,
            "case_system": "ICM",
            "case_number": self.rng.choice(self.cases),
            "lead_posture": "advances_existing",
            "techniques_tried": sorted(self.rng.sample(TECHNIQUES, 2)),
            "techniques_notes": "Records checks gave no name for the person in the image.",
            "probe_source": self.rng.choice(["surveillance_still", "booking_photo"]),
            "probe_lawfully_obtained": True,
            "attested_not_protected": True,
            "justification": "Subject of the case seen in the probe image; identity unconfirmed.",
        }

    def _outcome_body(self, system: str) -> dict[str, Any]:
        """A valid outcome: no candidates, candidates vetted with no match, or a lead
        confirmed by the officer (or by two others where two-person verification rules)."""
        policy = self.me["systems"][system]
        candidates = self.rng.choice([0, 0, 1, 3, 5])
        lead = candidates > 0 and self.rng.random() < 0.4
        vettings: list[dict[str, Any]] = []
        if candidates and policy["two_person_verification"]:
            others = [v for v in FIXTURE["vetters"] if v != self.me["id"]]
            result = "match_confirmed" if lead else "no_match"
            vettings = [{"vetter_id": v, "result": result} for v in self.rng.sample(others, 2)]
        elif candidates:
            result = "match_confirmed" if lead else "inconclusive"
            vettings = [{"vetter_id": self.me["id"], "result": result}]
        return {
            "searched_at": datetime.now(UTC).isoformat(),
            "candidates_returned": candidates,
            "lead_derived": lead,
            "further_action": "Lead added to the case file." if lead else "No lead.",
            "vettings": vettings,
        }

    def _request(self, system: str, purpose: str, status: str, name: str) -> int | None:
        """POST a request expecting 201 with ``status``; the record's id, or None."""
        body = self._request_body(system, purpose)
        with self.client.post(
            "/api/searches", json=body, headers=self.auth, name=name, catch_response=True
        ) as response:
            try:
                out = _expect(response, 201, name)
                _check(out["status"] == status, f"{name}: status {out['status']}, not {status}")
                _check(out["officer"] == self.me["username"], f"{name}: another officer's record")
                _check(out["case_number"] == body["case_number"], f"{name}: wrong case number")
                response.success()
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))
                return None
        ACKNOWLEDGED[(SEARCH_REQUESTED, str(out["id"]))] += 1
        self.mine[out["id"]] = body["case_number"]
        return int(out["id"])

    def _document(self, search_id: int, system: str) -> None:
        name = "POST /api/searches/{id}/outcome"
        with self.client.post(
            f"/api/searches/{search_id}/outcome",
            json=self._outcome_body(system),
            headers=self.auth,
            name=name,
            catch_response=True,
        ) as response:
            try:
                out = _expect(response, 200, name)
                _check(out["status"] == "documented", f"{name}: status {out['status']}")
                _check(out["id"] == search_id, f"{name}: answered for record {out['id']}")
                response.success()
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))
                return
        ACKNOWLEDGED[(SEARCH_OUTCOME_DOCUMENTED, str(search_id))] += 1

    @task(4)
    def request_and_document(self) -> None:
        """A search the policy authorises at once, documented straight after."""
        if not self.direct:
            return
        system = self.rng.choice(self.direct)
        purpose = self.rng.choice(PURPOSES)
        search_id = self._request(system, purpose, "authorised", "POST /api/searches (authorised)")
        if search_id is not None:
            self._document(search_id, system)

    @task(2)
    def request_needing_approval(self) -> None:
        """A MIRS search: the policy asks the supervisor's prior approval."""
        if not self.prior:
            return
        system = self.rng.choice(self.prior)
        name = "POST /api/searches (pending_approval)"
        search_id = self._request(system, self.rng.choice(PURPOSES), "pending_approval", name)
        if search_id is not None:
            queue = PENDING.setdefault(self.me["supervisor"], deque())
            queue.append((search_id, self))

    @task(2)
    def document_approved(self) -> None:
        """Document a search once the supervisor approved it."""
        if self.approved:
            self._document(self.approved.popleft(), self.prior[0])

    @task(1)
    def request_refused(self) -> None:
        """A purpose every policy forbids: 409, and the refusal is on the ledger."""
        if not self.me["systems"]:
            return
        system = self.rng.choice(list(self.me["systems"]))
        name = "POST /api/searches (refused)"
        with self.client.post(
            "/api/searches",
            json=self._request_body(system, FORBIDDEN_PURPOSE),
            headers=self.auth,
            name=name,
            catch_response=True,
        ) as response:
            try:
                out = _expect(response, 409, name)
                codes = {r["code"] for r in out["reasons"]}
                _check(out["status"] == "refused", f"{name}: status {out['status']}")
                _check("purpose_forbidden" in codes, f"{name}: reasons {sorted(codes)}")
                response.success()  # locust counts a 4xx as failed unless told otherwise
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))
                return
        ACKNOWLEDGED[(SEARCH_REQUEST_REFUSED, str(out["search_id"]))] += 1

    @task(4)
    def list_mine(self) -> None:
        """The officer's own searches, newest first: summaries only."""
        name = "GET /api/searches"
        with self.client.get(
            "/api/searches?limit=20", headers=self.auth, name=name, catch_response=True
        ) as response:
            try:
                rows = _expect(response, 200, name)
                _check(isinstance(rows, list), f"{name}: not a list")
                _check(
                    all(r["officer"] == self.me["username"] for r in rows),
                    f"{name}: lists another officer's searches",
                )
                _check("case_number" not in (rows[0] if rows else {}), f"{name}: not summaries")
                response.success()
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))

    @task(3)
    def read_one(self) -> None:
        """Read one of the officer's records in full (the read is a ledger entry)."""
        if not self.mine:
            return
        search_id = self.rng.choice(list(self.mine))
        name = "GET /api/searches/{id}"
        with self.client.get(
            f"/api/searches/{search_id}", headers=self.auth, name=name, catch_response=True
        ) as response:
            try:
                out = _expect(response, 200, name)
                _check(out["id"] == search_id, f"{name}: answered for record {out['id']}")
                _check(out["case_number"] == self.mine[search_id], f"{name}: wrong case number")
                response.success()
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))
                return
        ACKNOWLEDGED[(SEARCH_VIEWED, str(search_id))] += 1


_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class SupervisorUser(FastHttpUser):
    """A supervisor at a browser (session) who also decides requests through the API."""

    weight = 1
    wait_time = between(_WAIT[0], _WAIT[-1])

    def on_start(self) -> None:
        """Sign in with the password through the sign-in form."""
        supervisors = FIXTURE["supervisors"]
        self.me: dict[str, Any] = supervisors[next(_supervisor_numbers) % len(supervisors)]
        self.auth = {"Authorization": f"Bearer {self.me['token']}"}
        self.rng = random.Random()  # load-test data, not security
        name = "POST /sign-in/"
        with self.client.get("/sign-in/", name="GET /sign-in/", catch_response=True) as page:
            found = _CSRF_INPUT.search(page.text or "")
            if page.status_code != 200 or found is None:
                page.failure(f"sign-in form: {page.status_code}, CSRF token found: {bool(found)}")
                return
        form = {
            "username": self.me["username"],
            "password": FIXTURE["password"],
            "csrfmiddlewaretoken": found.group(1),
            "next": "",
        }
        with self.client.post(
            "/sign-in/", data=form, name=name, allow_redirects=False, catch_response=True
        ) as response:
            signed_in = any(c.name == "sessionid" for c in self.client.cookiejar)
            if response.status_code != 302 or not signed_in:
                response.failure(f"{name}: {response.status_code}, no session: not signed in")

    def _dashboard(self, query: str, name: str) -> None:
        with self.client.get(
            f"/reports/dashboard/{query}", name=name, allow_redirects=False, catch_response=True
        ) as response:
            try:
                _check(response.status_code == 200, f"{name}: {response.status_code}")
                text = response.text or ""
                _check('id="dash-searches-title"' in text, f"{name}: no searches chart")
                response.success()
            except ScenarioError as exc:
                response.failure(str(exc))

    @task(4)
    def dashboard(self) -> None:
        """The dashboard of the supervisor's units: the last twelve months, every system."""
        self._dashboard("", "GET /reports/dashboard/")

    @task(1)
    def dashboard_one_system(self) -> None:
        """The same, for one system."""
        system = self.rng.choice(FIXTURE["systems"])
        self._dashboard(f"?system={system}", "GET /reports/dashboard/?system=")

    @task(2)
    def pending_list(self) -> None:
        """The requests waiting for a decision, through the API with the session."""
        name = "GET /api/searches?status=pending_approval"
        with self.client.get(
            "/api/searches?status=pending_approval&limit=50", name=name, catch_response=True
        ) as response:
            try:
                rows = _expect(response, 200, name)
                _check(
                    all(r["status"] == "pending_approval" for r in rows),
                    f"{name}: lists a record that is not pending",
                )
                response.success()
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))

    @task(3)
    def approve(self) -> None:
        """Approve the oldest request waiting for this supervisor, with the API token."""
        queue = PENDING.get(self.me["username"])
        if not queue:
            return
        search_id, officer = queue.popleft()
        name = "POST /api/searches/{id}/approve"
        with self.client.post(
            f"/api/searches/{search_id}/approve",
            json={"reason": "Open case; existing lead."},
            headers=self.auth,
            name=name,
            catch_response=True,
        ) as response:
            try:
                out = _expect(response, 200, name)
                _check(out["status"] == "authorised", f"{name}: status {out['status']}")
                _check(out["decided_by_id"] == self.me["id"], f"{name}: decided by another")
                response.success()
            except (ScenarioError, ValueError, KeyError) as exc:
                response.failure(str(exc))
                return
        ACKNOWLEDGED[(SEARCH_APPROVED, str(search_id))] += 1
        officer.approved.append(search_id)


@events.quitting.add_listener
def _write_acknowledged(environment: Environment, **_kwargs: Any) -> None:
    """Write every acknowledged write, for the runner to find in the ledger."""
    path = os.environ.get("SEARCHLEDGER_LOAD_ACKS")
    if path:
        rows = [[event, object_id, n] for (event, object_id), n in sorted(ACKNOWLEDGED.items())]
        Path(path).write_text(json.dumps(rows))
