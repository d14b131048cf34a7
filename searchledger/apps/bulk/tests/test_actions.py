"""The bulk import through ``do_bulk_import``, on the real database and the real actions."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
    do_deactivate_account,
)
from searchledger.apps.accounts.models import Account
from searchledger.apps.bulk.actions import ImportReport, do_bulk_import, find_applied
from searchledger.apps.bulk.parsing import Issue
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import CommitmentSalt, LedgerEntry
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.apps.training.actions import do_create_course, do_record_completion
from searchledger.apps.training.models import TrainingCompletion
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.ledger.canonical import verify_commitment

pytestmark = pytest.mark.django_db

__all__: list[str] = []

TODAY = timezone.localdate()
START = TODAY.isoformat()
END = (TODAY + timedelta(days=180)).isoformat()
WHY = "Identify subjects of open fugitive cases from existing leads"

PEOPLE_HEADER = "username,full_name,email,role,org_unit,supervisor,job_title"
GRANTS_HEADER = (
    "username,system,job_function,justification,starts_on,expires_on,external_account_id,"
    "approved_by"
)
COMPLETIONS_HEADER = "username,course,completed_on,evidence"


def csv_file(header: str, *rows: str) -> bytes:
    return ("\r\n".join((header, *rows)) + "\r\n").encode("utf-8")


def actor_for(account: Account) -> Actor:
    return Actor(account_id=account.pk, role=Role(account.role))


def counts() -> dict[str, int]:
    return {
        "entries": LedgerEntry.objects.count(),
        "accounts": Account.objects.count(),
        "grants": AccessGrant.objects.count(),
        "completions": TrainingCompletion.objects.count(),
        "salts": CommitmentSalt.objects.count(),
    }


def body(entry: LedgerEntry) -> dict:
    return json.loads(entry.body)


def events_since(seq: int) -> list[str]:
    return [body(e)["event"] for e in LedgerEntry.objects.filter(seq__gte=seq)]


def assert_ledger_intact() -> None:
    assert verify_ledger(load_verifier()).entries == LedgerEntry.objects.count()


@pytest.fixture
def world(admin, admin_actor, make_account):
    """Two field offices, supervisors, officers, a deactivated supervisor, three systems and
    a course."""
    for code, name in (("bal", "Baltimore field office"), ("phl", "Philadelphia field office")):
        do_create_org_unit(code=code, name=name, kind="field_office", actor=admin_actor)
    sup = do_create_account(
        username="sup",
        role=Role.SUPERVISOR,
        password=None,
        full_name="Sam Super",
        email="sam@example.gov",
        actor=admin_actor,
    )
    sup2 = make_account("sup2", Role.SUPERVISOR)
    gone = make_account("gone", Role.SUPERVISOR)
    off = make_account("off", Role.OFFICER)
    off2 = make_account("off2", Role.OFFICER)
    do_assign_account(sup.pk, org_unit_code="bal", supervisor_id=None, actor=admin_actor)
    do_assign_account(sup2.pk, org_unit_code="phl", supervisor_id=None, actor=admin_actor)
    for person in (off, off2):
        do_assign_account(person.pk, org_unit_code="bal", supervisor_id=sup.pk, actor=admin_actor)
    do_deactivate_account(gone.pk, actor=admin_actor, reason="retired")
    do_create_course(
        code="privacy",
        name="Privacy training",
        provider="agency",
        valid_for_days=365,
        actor=admin_actor,
    )
    for code in ("mirs", "dmv", "plates"):
        do_create_system(
            code,
            SystemDetails(
                name=code.upper(), owner="State", kind="face_images", access_method="web_portal"
            ),
            actor=admin_actor,
        )
    return {"sup": sup, "sup2": sup2, "gone": gone, "off": off, "off2": off2}


def run(kind: str, data: bytes, actor: Actor, *, dry_run: bool, filename: str = "") -> ImportReport:
    return do_bulk_import(kind, data, dry_run=dry_run, actor=actor, filename=filename)


# --- people -----------------------------------------------------------------------------

CLEAN_PEOPLE = csv_file(
    PEOPLE_HEADER,
    "lead,Lee Lead,lee@example.gov,supervisor,bal,,Supervisory officer",
    "ana,Ana Ames,ana@example.gov,officer,bal,lead,Deportation officer",
    'bo,"Bo ""Bud"" Berg",bo@example.gov,officer,,sup,',
    "cy,Cy Cole,cy@example.gov,auditor,,,",
)


def test_dry_run_of_a_clean_people_file_writes_nothing_and_says_what_it_would_create(
    world, admin_actor
):
    before = counts()
    report = run("people", CLEAN_PEOPLE, admin_actor, dry_run=True)
    assert report.clean
    assert not report.applied
    assert report.dry_run
    assert report.rows == 4
    assert report.created == {"accounts": 4, "assignments": 3}
    assert report.sha256 == hashlib.sha256(CLEAN_PEOPLE).hexdigest()
    assert report.ledger_seq is None
    assert counts() == before
    assert not Account.objects.filter(username="lead").exists()
    assert "would create 4 accounts, 3 assignments" in report.render_text()
    assert "Nothing was written" in report.render_text()


def test_a_clean_people_file_is_applied_with_one_import_entry(world, admin_actor):
    dry = run("people", CLEAN_PEOPLE, admin_actor, dry_run=True)
    start = LedgerEntry.objects.count()
    report = run("people", CLEAN_PEOPLE, admin_actor, dry_run=False, filename="staff-2026.csv")
    assert report.applied
    assert report.errors == ()
    assert report.created == dry.created == {"accounts": 4, "assignments": 3}
    lead = Account.objects.get(username="lead")
    ana = Account.objects.get(username="ana")
    bo = Account.objects.get(username="bo")
    assert not ana.has_usable_password()
    assert ana.org_unit is not None
    assert (ana.role, ana.org_unit.code, ana.supervisor, ana.job_title) == (
        "officer",
        "bal",
        lead,
        "Deportation officer",
    )
    assert (bo.first_name, bo.last_name, bo.supervisor) == ("Bo", '"Bud" Berg', world["sup"])
    assert Account.objects.get(username="cy").org_unit is None
    assert events_since(start) == [
        "ACCOUNT_CREATED",
        "ACCOUNT_ASSIGNED",
        "ACCOUNT_CREATED",
        "ACCOUNT_ASSIGNED",
        "ACCOUNT_CREATED",
        "ACCOUNT_ASSIGNED",
        "ACCOUNT_CREATED",
        "IMPORT_APPLIED",
    ]
    assert report.ledger_seq is not None
    entry = LedgerEntry.objects.get(seq=report.ledger_seq)
    recorded = body(entry)
    assert recorded["actor"] == admin_actor.account_id
    assert recorded["object"] == {"type": "bulk.import", "id": report.sha256}
    assert recorded["data"] == {
        "kind": "people",
        "rows": 4,
        "sha256": report.sha256,
        "created": {"accounts": 4, "assignments": 3},
    }
    assert set(recorded["commitments"]) == {"filename"}
    assert "staff-2026" not in entry.body
    salt = CommitmentSalt.objects.get(seq=entry.seq, field="filename")
    assert verify_commitment(
        recorded["commitments"]["filename"], "staff-2026.csv", bytes.fromhex(salt.salt)
    )
    # Every entry of the import carries the import's request id.
    assert {e.request_id for e in LedgerEntry.objects.filter(seq__gte=start)} == {
        admin_actor.request_id
    }
    assert find_applied("people", report.sha256) == entry
    assert find_applied("grants", report.sha256) is None
    assert "people import applied: 4 rows; created 4 accounts, 3 assignments; ledger entry" in (
        report.render_text()
    )
    assert_ledger_intact()


def test_three_bad_people_among_ten_are_all_reported_and_nothing_is_written(world, admin_actor):
    data = csv_file(
        PEOPLE_HEADER,
        "p1,Pat One,p1@example.gov,officer,bal,sup,",  # 2
        "p2,Pat Two,p2@example.gov,chief,bal,sup,",  # 3: unknown role
        "p3,Pat Three,p3@example.gov,officer,bal,sup,",  # 4
        "off,Pat Four,p4@example.gov,officer,bal,sup,",  # 5: username taken
        "p5,Pat Five,p5@example.gov,officer,bal,sup,",  # 6
        "p6,Pat Six,p6@example.gov,officer,bal,off2,",  # 7: off2 is no supervisor
        "p7,Pat Seven,p7@example.gov,officer,bal,sup,",  # 8
        "p8,Pat Eight,p8@example.gov,officer,bal,sup,",  # 9
        "p9,Pat Nine,p9@example.gov,officer,bal,sup,",  # 10
        "p10,Pat Ten,p10@example.gov,officer,phl,sup2,",  # 11
    )
    before = counts()
    report = run("people", data, admin_actor, dry_run=False)
    assert report.rows == 10
    assert not report.applied
    assert report.errors == (
        Issue(
            3,
            "role",
            "'chief' is not one of officer, supervisor, auditor, administrator, oversight",
        ),
        Issue(5, "username", "the username 'off' is taken"),
        Issue(7, "supervisor", "off2 is not a supervisor"),
    )
    assert counts() == before
    assert report.created == {"accounts": 7, "assignments": 7}  # what the good rows would do
    text = report.render_text()
    assert "people import refused: 10 rows, 3 errors; nothing was written" in text
    assert "  line 7, column supervisor: off2 is not a supervisor" in text
    assert_ledger_intact()


def test_supervisors_must_come_first_and_must_have_been_imported(world, admin_actor):
    data = csv_file(
        PEOPLE_HEADER,
        "ana,Ana Ames,ana@example.gov,officer,bal,lead,",  # 2: lead is listed later
        "boss,Bo Boss,boss@example.gov,supervisor,nowhere,,",  # 3: unknown unit
        "cy,Cy Cole,cy@example.gov,officer,bal,boss,",  # 4: boss failed
        "dee,Dee Dunn,dee@example.gov,officer,bal,nobody,",  # 5: unknown
        "lead,Lee Lead,sam@EXAMPLE.gov,supervisor,bal,,",  # 6: e-mail of sup
        "eve,Eve Ess,eve@example.gov,officer,bal,eve,",  # 7: supervises themself
        "fay,Fay Fox,not-an-address,officer,,,",  # 8: bad e-mail
    )
    before = counts()
    report = run("people", data, admin_actor, dry_run=True)
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (
            2,
            "supervisor",
            "the supervisor 'lead' is listed later, on line 6; list supervisors before the "
            "people they supervise",
        ),
        (3, "org_unit", "no unit with code 'nowhere'"),
        (4, "supervisor", "the supervisor 'boss' (line 3) could not be imported"),
        (5, "supervisor", "no person with username 'nobody'"),
        (6, "email", "sup already uses sam@EXAMPLE.gov"),
        (7, "supervisor", "a person cannot supervise themself"),
        (8, "email", "Enter a valid email address."),
    ]
    assert counts() == before


def test_file_problems_are_reported_through_the_action(world, admin_actor):
    before = counts()
    latin = (PEOPLE_HEADER + "\nzoë,Zoë Zed,z@example.gov,officer,,,\n").encode("latin-1")
    report = run("people", latin, admin_actor, dry_run=False)
    assert report.rows == 0
    assert len(report.errors) == 1
    assert report.errors[0].line == 2
    assert "not UTF-8" in report.errors[0].message
    header = run("people", b"username,role\nana,officer\n", admin_actor, dry_run=False)
    assert header.errors == (Issue(1, None, "missing required columns: full_name, email"),)
    assert counts() == before


def test_the_size_limits_come_from_the_settings(world, admin_actor, settings):
    settings.SEARCHLEDGER_IMPORT_MAX_ROWS = 3
    report = run("people", CLEAN_PEOPLE, admin_actor, dry_run=True)
    assert report.errors == (
        Issue(5, None, "the file has more than 3 rows; split it into smaller files"),
    )
    settings.SEARCHLEDGER_IMPORT_MAX_BYTES = len(CLEAN_PEOPLE) - 1
    report = run("people", CLEAN_PEOPLE, admin_actor, dry_run=True)
    assert report.errors[0].message.startswith(f"the file is {len(CLEAN_PEOPLE)} bytes")


# --- grants -----------------------------------------------------------------------------


def grant_row(username: str, system: str, approved_by: str = "", **change: str) -> str:
    cells = {
        "username": username,
        "system": system,
        "job_function": "Deportation officer",
        "justification": WHY,
        "starts_on": START,
        "expires_on": END,
        "external_account_id": f"MD-{username}",
        "approved_by": approved_by,
    }
    cells.update(change)
    return ",".join(cells.values())


def test_grants_are_requested_and_approved_as_the_paper_approver(world, admin, admin_actor):
    data = csv_file(
        GRANTS_HEADER,
        grant_row("off", "mirs", "sup"),
        grant_row("off2", "mirs", "admin"),
        grant_row("off", "dmv"),
    )
    start = LedgerEntry.objects.count()
    report = run("grants", data, admin_actor, dry_run=False)
    assert report.errors == ()
    assert report.created == {"grants": 3, "approvals": 2}
    by_sup = AccessGrant.objects.get(account=world["off"], system__code="mirs")
    assert (by_sup.status, by_sup.decided_by, by_sup.requested_by) == (
        "approved",
        world["sup"],
        admin,
    )
    assert by_sup.external_account_id == "MD-off"
    assert AccessGrant.objects.get(account=world["off2"]).decided_by == admin
    assert AccessGrant.objects.get(account=world["off"], system__code="dmv").status == "requested"
    entries = list(LedgerEntry.objects.filter(seq__gte=start))
    assert [(body(e)["event"], e.actor_id) for e in entries] == [
        ("GRANT_REQUESTED", admin.pk),
        ("GRANT_APPROVED", world["sup"].pk),
        ("GRANT_REQUESTED", admin.pk),
        ("GRANT_APPROVED", admin.pk),
        ("GRANT_REQUESTED", admin.pk),
        ("IMPORT_APPLIED", admin.pk),
    ]
    assert {e.request_id for e in entries} == {admin_actor.request_id}
    assert_ledger_intact()


@pytest.mark.parametrize(
    ("approver", "message"),
    [
        ("off2", "off2 may not approve this grant: the role officer may not decide_grant"),
        (
            "sup2",
            "sup2 may not approve this grant: only the person's supervisor or an "
            "administrator may decide",
        ),
        ("gone", "gone is deactivated"),
        ("nobody", "no person with username 'nobody'"),
    ],
)
def test_the_paper_approver_must_be_allowed_to_approve(world, admin_actor, approver, message):
    before = counts()
    data = csv_file(GRANTS_HEADER, grant_row("off", "mirs", approver))
    report = run("grants", data, admin_actor, dry_run=True)
    assert report.errors == (Issue(2, "approved_by", message),)
    assert counts() == before


def test_no_one_approves_their_own_grant_by_import(world, admin_actor):
    data = csv_file(GRANTS_HEADER, grant_row("sup", "mirs", "sup"))
    report = run("grants", data, admin_actor, dry_run=True)
    assert report.errors == (
        Issue(
            2,
            "approved_by",
            "sup may not approve this grant: no one may decide on their own access grant",
        ),
    )


def test_three_bad_grants_among_ten_are_all_reported_and_nothing_is_written(world, admin_actor):
    data = csv_file(
        GRANTS_HEADER,
        grant_row("off", "mirs", "sup"),  # 2
        grant_row("off", "dmv"),  # 3
        grant_row("nobody", "radar", justification="too short"),  # 4: three problems
        grant_row("off", "plates"),  # 5
        grant_row("off2", "mirs", "sup"),  # 6
        grant_row("off2", "dmv", "sup2"),  # 7: not off2's supervisor
        grant_row("off2", "plates"),  # 8
        grant_row("sup", "mirs", "admin"),  # 9
        grant_row("sup", "dmv", expires_on=START),  # 10: expiry not after start
        grant_row("sup2", "mirs", "admin"),  # 11
    )
    before = counts()
    report = run("grants", data, admin_actor, dry_run=False)
    assert report.rows == 10
    assert report.errors == (
        Issue(4, "username", "no person with username 'nobody'"),
        Issue(4, "system", "no system with code 'radar'"),
        Issue(4, "justification", "explain the need to know (at least 20 characters)"),
        Issue(
            7,
            "approved_by",
            "sup2 may not approve this grant: only the person's supervisor or an administrator "
            "may decide",
        ),
        Issue(10, "expires_on", "the expiry must be after the start"),
    )
    assert {e.line for e in report.errors} == {4, 7, 10}
    assert counts() == before
    assert_ledger_intact()


def test_a_grant_already_open_in_the_database_is_an_error(world, admin_actor):
    run("grants", csv_file(GRANTS_HEADER, grant_row("off", "mirs")), admin_actor, dry_run=False)
    again = csv_file(GRANTS_HEADER, grant_row("off", "mirs", "sup"), grant_row("off", "dmv"))
    report = run("grants", again, admin_actor, dry_run=True)
    assert report.errors == (Issue(2, "system", "off already has an open grant for MIRS"),)
    assert report.created == {"grants": 1, "approvals": 0}


# --- completions ------------------------------------------------------------------------


def test_three_bad_completions_among_ten(world, admin_actor):
    do_record_completion(
        world["off"].pk,
        course_code="privacy",
        completed_on=TODAY,
        evidence="c0",
        actor=admin_actor,
    )
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    rows = [
        f"{u},privacy,{(TODAY - timedelta(days=d)).isoformat()},cert {u} {d}"
        for u in ("off2", "sup", "sup2")
        for d in (1, 2, 3)
    ]
    rows.insert(2, f"off,privacy,{START},c0 again")  # line 4: already recorded
    rows.insert(5, f"off,ethics,{START},c1")  # line 7: unknown course
    rows.insert(8, f"off,privacy,{tomorrow},c2")  # line 10: in the future
    data = csv_file(COMPLETIONS_HEADER, *rows[:10])
    before = counts()
    report = run("completions", data, admin_actor, dry_run=False)
    assert report.rows == 10
    assert report.errors == (
        Issue(4, "completed_on", "this completion is already recorded"),
        Issue(7, "course", "no course with code 'ethics'"),
        Issue(10, "completed_on", f"{tomorrow} is in the future"),
    )
    assert report.created == {"completions": 7}
    assert counts() == before


def test_a_clean_completions_file_is_applied(world, admin_actor):
    data = csv_file(
        COMPLETIONS_HEADER,
        f"off,privacy,{START},cert 1",
        f"off,privacy,{(TODAY - timedelta(days=400)).isoformat()},cert 0",
        f"nobody,privacy,{START},cert 2",
    )
    bad = run("completions", data, admin_actor, dry_run=True)
    assert bad.errors == (Issue(4, "username", "no person with username 'nobody'"),)
    data = data.replace(b"nobody", b"off2")
    report = run("completions", data, admin_actor, dry_run=False)
    assert report.applied
    assert report.created == {"completions": 3}
    assert TrainingCompletion.objects.filter(account=world["off"]).count() == 2
    assert_ledger_intact()


# --- re-import, permission, kinds -------------------------------------------------------


def test_the_same_file_is_never_imported_twice(world, admin_actor):
    data = csv_file(COMPLETIONS_HEADER, f"off,privacy,{START},cert 1")
    first = run("completions", data, admin_actor, dry_run=False)
    assert first.applied
    before = counts()
    for dry_run in (True, False):
        again = run("completions", data, admin_actor, dry_run=dry_run)
        assert not again.applied
        assert again.created == {"completions": 0}
        (issue,) = again.errors
        assert issue.line is None
        assert f"already imported on {timezone.now():%Y-%m-%d}" in issue.message
        assert f"(ledger entry {first.ledger_seq})" in issue.message
        assert counts() == before
    # Other bytes are another file, checked row by row as usual.
    edited = data + b"\r\n"
    assert run("completions", edited, admin_actor, dry_run=True).errors == (
        Issue(2, "completed_on", "this completion is already recorded"),
    )


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.OVERSIGHT])
@pytest.mark.parametrize("dry_run", [True, False])
def test_only_administrators_may_import(world, make_account, role, dry_run):
    person = make_account(f"who-{role.value}", role)
    before = counts()
    with pytest.raises(PermissionDenied, match="may not bulk_import"):
        run("people", CLEAN_PEOPLE, actor_for(person), dry_run=dry_run)
    with pytest.raises(PermissionDenied):
        run("people", b"not even csv \xff", actor_for(person), dry_run=dry_run)
    assert counts() == before


def test_an_unknown_kind_is_refused(world, admin_actor):
    with pytest.raises(ValidationError, match="unknown import kind 'badges'"):
        run("badges", CLEAN_PEOPLE, admin_actor, dry_run=True)
