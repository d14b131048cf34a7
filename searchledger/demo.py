"""The demo scenario: a field office whose every record is created through the actions, so
the demo ledger is as real as a production one.

About forty officers in two teams with their supervisors; the state's dashboard portal and
the face-image repository behind it; a vendor's face-recognition service; training records
with some lapsed; grants with some expired, some awaiting a decision and some out of force
because a new version of the rules of behaviour has not been acknowledged yet. Dates are
relative to the day the demo is loaded. Demo passwords are for a local demonstration only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
)
from searchledger.apps.accounts.models import Account
from searchledger.apps.grants.actions import do_approve_grant, do_request_grant
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.training.actions import (
    do_acknowledge_rules,
    do_create_course,
    do_record_completion,
)
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "load_demo"]

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  # printed by make demo; demo only

# (username, full name, role, unit code, supervisor username)
DEMO_ACCOUNTS: list[tuple[str, str, Role, str, str]] = [
    ("admin", "Avery Admin", Role.ADMINISTRATOR, "agency", ""),
    ("auditor", "Ada Auditor", Role.AUDITOR, "agency", ""),
    ("oversight", "Olu Oversight", Role.OVERSIGHT, "", ""),
    ("fod", "Farah Director", Role.SUPERVISOR, "bal", ""),
    ("supervisor", "Sam Supervisor", Role.SUPERVISOR, "bal-fugops-a", "fod"),
    ("supervisor2", "Tess Supervisor", Role.SUPERVISOR, "bal-fugops-b", "fod"),
    ("officer", "Oscar Officer", Role.OFFICER, "bal-fugops-a", "supervisor"),
    ("officer2", "Priya Patel", Role.OFFICER, "bal-fugops-a", "supervisor"),
    ("officer3", "Diego Ramirez", Role.OFFICER, "bal-fugops-b", "supervisor2"),
]

_GIVEN = [
    "Alex",
    "Blake",
    "Casey",
    "Dana",
    "Eli",
    "Frances",
    "Gabe",
    "Hana",
    "Ivan",
    "Jo",
    "Kai",
    "Lena",
    "Marco",
    "Nora",
    "Owen",
    "Pia",
    "Quinn",
    "Rosa",
    "Seth",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xena",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bea",
    "Cole",
    "Dina",
    "Ezra",
    "Fay",
    "Gus",
]
_FAMILY = [
    "Adams",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fisher",
    "Garcia",
    "Hughes",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Moore",
    "Nguyen",
    "Okafor",
    "Price",
    "Quinlan",
    "Reyes",
    "Singh",
    "Turner",
    "Usman",
    "Vargas",
    "Walsh",
    "Xu",
    "Young",
    "Zhang",
]

MIRS_RULES_V1 = """Rules of behaviour for the Maryland Image Repository System (MIRS)

1. Search MIRS only to advance an existing lead in an open case, never to generate leads.
2. Try conventional identification techniques first and record them.
3. Never search on the basis of First Amendment activity or of race, ethnicity, religion,
   national origin, sex, sexual orientation, gender identity or another protected trait.
4. Record every search in the case file with the system used; candidates are leads only
   after a trained person has vetted them.
5. Do not share your account; report misuse to your supervisor."""

MIRS_RULES_V2 = (
    MIRS_RULES_V1
    + """
6. (Added in version 2) Probe images from social media require a supervisor's prior approval."""
)

VENDOR_RULES = """Rules of behaviour for the vendor face-recognition service

1. Use only for an open case with a documented lead; results are investigative leads only.
2. Upload only lawfully obtained probe images; never images of lawful protest.
3. Every candidate must be vetted by a trained examiner before any action."""

DASHBOARD_RULES = """Rules of behaviour for the Maryland Dashboard portal

1. Your dashboard account is personal; log out after each session.
2. Use each system reached through the dashboard only within its own rules of behaviour."""


def _actor(account: Account) -> Actor:
    return Actor(account_id=account.pk, role=Role(account.role))


def _org(admin: Actor) -> None:
    units = [
        ("agency", "Demo Enforcement Agency", "agency", ""),
        ("enf", "Enforcement and Removal", "component", "agency"),
        ("inv", "Investigations", "component", "agency"),
        ("bal", "Baltimore Field Office", "field_office", "enf"),
        ("bal-fugops-a", "Fugitive Operations Team A", "unit", "bal"),
        ("bal-fugops-b", "Fugitive Operations Team B", "unit", "bal"),
    ]
    for code, name, kind, parent in units:
        do_create_org_unit(code=code, name=name, kind=kind, parent_code=parent, actor=admin)


def _people(admin: Actor, rng: random.Random) -> list[Account]:
    created: dict[str, Account] = {}
    for username, full_name, role, unit, supervisor in DEMO_ACCOUNTS[1:]:
        created[username] = do_create_account(
            username=username,
            role=role,
            password=DEMO_PASSWORD,
            full_name=full_name,
            actor=admin,
            reason="demo scenario",
        )
        do_assign_account(
            created[username].pk,
            org_unit_code=unit or None,
            supervisor_id=created[supervisor].pk if supervisor else None,
            job_title=role.label,
            actor=admin,
        )
    names = [f"{g} {f}" for g, f in zip(_GIVEN, rng.sample(_FAMILY * 2, len(_GIVEN)), strict=True)]
    for number, full_name in enumerate(names[:35], start=4):
        team = "a" if number % 2 else "b"
        account = do_create_account(
            username=f"officer{number:02d}",
            role=Role.OFFICER,
            password=None,  # signs in through the agency's single sign-on
            full_name=full_name,
            actor=admin,
            reason="demo scenario",
        )
        do_assign_account(
            account.pk,
            org_unit_code=f"bal-fugops-{team}",
            supervisor_id=created["supervisor" if team == "a" else "supervisor2"].pk,
            job_title="Deportation officer",
            actor=admin,
        )
        created[account.username] = account
    # Reload: the assignments above changed rows these instances were read from.
    return list(Account.objects.filter(role=Role.OFFICER.value).order_by("pk"))


def _catalogue(admin: Actor) -> dict[str, int]:
    do_create_course(
        code="privacy",
        name="Agency privacy and civil liberties training",
        provider="agency",
        valid_for_days=365,
        actor=admin,
    )
    do_create_course(
        code="mirs-user",
        name="MIRS user training (state)",
        provider="system_owner",
        valid_for_days=730,
        actor=admin,
    )
    do_create_course(
        code="fr-examiner",
        name="Face-recognition candidate vetting",
        provider="agency",
        valid_for_days=730,
        actor=admin,
    )
    dashboard = do_create_system(
        "md-dashboard",
        SystemDetails(
            name="Maryland Dashboard",
            owner="State of Maryland",
            kind="other",
            access_method="web_portal",
            has_agreement=True,
            agreement_reference="MOU 2019-14",
            privacy_assessment="approved",
            required_course_codes=["privacy"],
        ),
        actor=admin,
    )
    mirs = do_create_system(
        "mirs",
        SystemDetails(
            name="Maryland Image Repository System (MIRS)",
            owner="Maryland Motor Vehicle Administration",
            kind="face_images",
            access_method="web_portal",
            has_agreement=True,
            agreement_reference="MOU 2019-14",
            privacy_assessment="approved",
            required_course_codes=["privacy", "mirs-user"],
            reached_through_code="md-dashboard",
        ),
        actor=admin,
    )
    vendor = do_create_system(
        "vendor-fr",
        SystemDetails(
            name="Vendor face-recognition service",
            owner="A commercial vendor",
            kind="face_recognition",
            access_method="api",
            privacy_assessment="in_progress",
            required_course_codes=["privacy", "fr-examiner"],
        ),
        actor=admin,
    )
    do_publish_rules(dashboard.pk, text=DASHBOARD_RULES, actor=admin)
    do_publish_rules(mirs.pk, text=MIRS_RULES_V1, actor=admin)
    do_publish_rules(vendor.pk, text=VENDOR_RULES, actor=admin)
    return {"md-dashboard": dashboard.pk, "mirs": mirs.pk, "vendor-fr": vendor.pk}


def _grant(
    officer: Account, system: str, approver: Account, start: date, end: date, *, approve: bool
) -> None:
    grant = do_request_grant(
        account_id=officer.pk,
        system_code=system,
        job_function=officer.job_title or "Deportation officer",
        justification="Identify subjects of open fugitive cases from existing leads.",
        starts_on=start,
        expires_on=end,
        external_account_id=f"MD-{officer.pk:05d}" if system != "vendor-fr" else "",
        actor=_actor(approver),
    )
    if approve:
        do_approve_grant(grant.pk, actor=_actor(approver), reason="need to know confirmed")


def _access(officers: list[Account], admin: Actor, rng: random.Random) -> None:
    today = timezone.localdate()
    supervisors = {a.pk: a for a in Account.objects.filter(role=Role.SUPERVISOR.value)}
    for i, officer in enumerate(officers):
        approver = supervisors[officer.supervisor_id or 0]
        expired = i % 11 == 5
        start = today - timedelta(days=rng.randint(30, 600))
        end = today - timedelta(days=rng.randint(1, 20)) if expired else start + timedelta(days=730)
        pending = i % 13 == 7
        for system in ("md-dashboard", "mirs"):
            _grant(officer, system, approver, start, end, approve=not pending)
        if i % 6 == 0:
            _grant(officer, "vendor-fr", approver, start, start + timedelta(days=365), approve=True)
        # Training: most current, some lapsed (completed more than a year ago).
        lapsed = i % 7 == 3
        privacy_done = today - timedelta(
            days=rng.randint(400, 500) if lapsed else rng.randint(5, 300)
        )
        do_record_completion(
            officer.pk,
            course_code="privacy",
            completed_on=privacy_done,
            evidence=f"LMS-{2026 - (today - privacy_done).days // 365}-{officer.pk:04d}",
            actor=admin,
        )
        do_record_completion(
            officer.pk,
            course_code="mirs-user",
            completed_on=today - timedelta(days=rng.randint(10, 700)),
            evidence=f"MVA roster {officer.pk:04d}",
            actor=admin,
        )
        if i % 6 == 0:
            do_record_completion(
                officer.pk,
                course_code="fr-examiner",
                completed_on=today - timedelta(days=rng.randint(10, 300)),
                evidence=f"FR-{officer.pk:04d}",
                actor=admin,
            )


def _acknowledge(officers: list[Account], systems: dict[str, int], admin: Actor) -> None:
    from searchledger.apps.systems.models import ExternalSystem  # noqa: PLC0415

    for code in ("md-dashboard", "mirs", "vendor-fr"):
        rules = ExternalSystem.objects.get(pk=systems[code]).current_rules()
        assert rules is not None  # published above
        for officer in officers:
            do_acknowledge_rules(rules.pk, actor=_actor(officer))
    # Version 2 of the MIRS rules: about a third have not acknowledged it yet, so their
    # access is not in force until they do.
    v2 = do_publish_rules(systems["mirs"], text=MIRS_RULES_V2, actor=admin)
    for i, officer in enumerate(officers):
        if i % 3:
            do_acknowledge_rules(v2.pk, actor=_actor(officer))


def load_demo() -> Iterator[str]:
    """Load the demo scenario if it is not loaded yet; yield what happened."""
    if Account.objects.filter(username="admin").exists():
        yield "demo scenario already loaded"
    else:
        rng = random.Random(20260930)  # noqa: S311  # reproducible demo data, not security
        with transaction.atomic():
            name, full, role, _, _ = DEMO_ACCOUNTS[0]
            admin_account = do_create_account(
                username=name,
                role=role,
                password=DEMO_PASSWORD,
                full_name=full,
                actor=Actor.system(),
                reason="demo scenario: first administrator",
            )
            admin = _actor(admin_account)
            _org(admin)
            do_assign_account(
                admin_account.pk,
                org_unit_code="agency",
                supervisor_id=None,
                job_title="System administrator",
                actor=admin,
            )
            officers = _people(admin, rng)
            systems = _catalogue(admin)
            _access(officers, admin, rng)
            _acknowledge(officers, systems, admin)
        yield f"created {Account.objects.count()} accounts, 3 systems, grants and training"
    checkpoint = sign_checkpoint_if_grown()
    yield f"ledger checkpoint at size {checkpoint.size}"
    yield (
        "demo log-ins (password "
        + DEMO_PASSWORD
        + "): "
        + ", ".join(f"{username} ({role.value})" for username, _, role, _, _ in DEMO_ACCOUNTS)
    )
