"""The demo scenario: a field office whose every record is created through the actions, so
the demo ledger is as real as a production one.

About forty officers in two teams with their supervisors; the state's dashboard portal and
the face-image repository behind it; a vendor's face-recognition service; training records
with some lapsed; grants with some expired, some awaiting a decision and some out of force
because a new version of the rules of behaviour has not been acknowledged yet. Dates are
relative to the day the demo is loaded. Demo passwords are for a local demonstration only.

Searches: the offence categories, search policies (MIRS needs a supervisor's prior approval
for the fugitive teams, only to advance an existing lead in a known open case; the vendor's
service needs two-person verification of a lead; civil immigration enforcement is never a
purpose; outcomes are due within two business days), known cases, and a year of searches.

How the year was made: the actions stamp records with the time they are made, so the demo
cannot *run* searches in the past. Instead, as an agency adopting searchledger would, it
transcribes the searches of the past year (eleven months back to one month ago, a few on
most weekdays, now and then one at a weekend) with ``do_enter_past_search``, from the source
:data:`PAST_SOURCE` (the 2025-26 search log). Each such record keeps its original request
and search times, is decided by today's policies and grants, is marked entered after the
fact, and has one ledger entry stamped with the real time of loading: the ledger shows
plainly that the history was transcribed on the day the demo was loaded. Most are approved,
vetted and documented (with an ROI number recorded today); some were refused by the policy,
the access rule or a supervisor; a few were never documented and are overdue. The last
month's searches then go through the live actions, today: most documented, some refused,
some awaiting a supervisor, some cancelled, some not documented yet (due two business days
after loading).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accesslogs import actions as accesslogs
from searchledger.apps.accesslogs.models import ExternalAccount
from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
)
from searchledger.apps.accounts.models import Account
from searchledger.apps.grants.actions import do_approve_grant, do_request_grant
from searchledger.apps.grants.selectors import check_access
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.oversight import actions as oversight
from searchledger.apps.oversight.models import Recommendation
from searchledger.apps.reconciliation.actions import do_reconcile
from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.apps.reviews import actions as reviews
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.models import SearchRecord
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.training.actions import (
    do_acknowledge_rules,
    do_create_course,
    do_record_completion,
)
from searchledger.core.accesslogs import MappingSpec
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.demo_log import dashboard_account, write_dashboard_log

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


# Purposes of the demo's searches, with their weights.
_PURPOSES: list[tuple[str, int]] = [
    ("fugitive_offences", 30),
    ("immigration_violations", 16),
    ("drug_offences", 10),
    ("assault", 8),
    ("human_trafficking", 6),
    ("fraud", 6),
    ("weapon_law_violations", 6),
    ("robbery", 5),
    ("failure_to_appear", 5),
    ("sex_offences", 4),
    ("missing_person", 3),
    ("homicide", 1),
]
_TECHNIQUES = [
    "government_databases",
    "criminal_history",
    "driver_records_biographical",
    "open_source",
    "interviews",
    "field_investigation",
]
_SOURCES = [("surveillance_still", 6), ("booking_photo", 3), ("social_media", 1)]
_SEARCHES = 80  # the last month's, through the live actions today
_PAST_FROM_DAYS = 335  # the transcribed year: eleven months back ...
_PAST_TO_DAYS = 31  # ... to one month ago
_PAST_UNDOCUMENTED = 0.05  # transcribed searches with no outcome on file: overdue
PAST_SOURCE = "demo: transcribed from the 2025–26 search log"  # noqa: RUF001  # an en dash
_REFUSED = "refused by the policy or the access rule"
_NOT_EXHAUSTED = "Conventional techniques not exhausted."


def _search_policies(admin: Actor) -> None:
    """Offence categories and the three policies the demo's searches are decided by."""
    searches.do_seed_offence_categories(actor=admin)
    forbidden = ["immigration_civil_enforcement"]
    searches.do_set_search_policy(
        org_unit_code=None,
        system_code=None,
        settings=searches.PolicySettings(forbidden_purposes=forbidden),
        actor=admin,
        reason="Agency baseline: no civil immigration enforcement; document within 2 days.",
    )
    searches.do_set_search_policy(
        org_unit_code="bal",
        system_code="mirs",
        settings=searches.PolicySettings(
            forbidden_purposes=forbidden,
            approval_required=True,
            lead_generation="forbidden",
            require_known_open_case=True,
        ),
        actor=admin,
        reason="MOU 2019-14: prior approval, existing leads in known open cases only.",
    )
    searches.do_set_search_policy(
        org_unit_code=None,
        system_code="vendor-fr",
        settings=searches.PolicySettings(
            forbidden_purposes=forbidden,
            lead_generation="needs_approval",
            two_person_verification=True,
        ),
        actor=admin,
        reason="Vendor results are leads only after two examiners confirm the match.",
    )


def _cases(admin: Actor) -> dict[str, list[str]]:
    """Known cases per team (ICM numbers); a few are closed. Returns the open ones."""
    open_cases: dict[str, list[str]] = {}
    for team in ("a", "b"):
        unit = f"bal-fugops-{team}"
        cases = [
            searches.do_open_case(
                org_unit_code=unit,
                case_system="ICM",
                number=f"BAL-{team.upper()}-2026-{n:04d}",
                actor=admin,
            )
            for n in range(1, 31)
        ]
        open_cases[unit] = [case.number for case in cases[3:]]
        for case in cases[:3]:
            searches.do_close_case(case.pk, actor=admin)
    return open_cases


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _demo_request(
    rng: random.Random, system: str, purpose: str, case_number: str, posture: str
) -> searches.SearchRequest:
    source = _weighted(rng, _SOURCES)
    tried = sorted(rng.sample(_TECHNIQUES, rng.randint(1, 3)))
    return searches.SearchRequest(
        system_code=system,
        purpose=purpose,
        case_system="ICM",
        case_number=case_number,
        lead_posture=posture,
        techniques_tried=tried,
        techniques_notes="Records checks and the known addresses gave no name for the person "
        "in the image.",
        probe_source=source,
        probe_lawfully_obtained=True,
        attested_not_protected=True,
        justification="Subject of the case seen in the probe image; identity unconfirmed.",
    )


def _outcome(
    rng: random.Random,
    system_code: str,
    officer: Account,
    examiners: list[Account],
    searched_at: datetime,
) -> searches.SearchOutcome:
    """A plausible outcome. The vendor's candidates are vetted by two ``examiners`` other
    than the officer; a lead is derived from about four searches in ten with candidates."""
    candidates = rng.choice([0, 0, 1, 2, 3, 4, 5, 8, 10])
    lead = candidates > 0 and rng.random() < 0.4
    vettings: list[searches.VettingInput] = []
    if candidates and system_code == "vendor-fr":
        others = [e for e in examiners if e.pk != officer.pk]
        for examiner in rng.sample(others, 2):
            result = "match_confirmed" if lead else rng.choice(["no_match", "inconclusive"])
            vettings.append(searches.VettingInput(examiner.pk, result, "Compared features."))
    elif candidates:
        result = "match_confirmed" if lead else rng.choice(["no_match", "inconclusive"])
        vettings.append(searches.VettingInput(officer.pk, result, "Compared with the file."))
    further = (
        "Lead added to the case file; surveillance of the address planned."
        if lead
        else "No lead; conventional investigation continues."
    )
    return searches.SearchOutcome(
        searched_at=searched_at,
        candidates_returned=candidates,
        lead_derived=lead,
        further_action=further,
        vettings=vettings,
    )


def _document(
    rng: random.Random, search: SearchRecord, officer: Account, examiners: list[Account]
) -> bool:
    """Document the outcome of an authorised search now; True when a lead was derived."""
    outcome = _outcome(rng, search.system.code, officer, examiners, timezone.now())
    searches.do_document_outcome(search.pk, outcome, actor=_actor(officer))
    return outcome.lead_derived


def _past_days(rng: random.Random) -> Iterator[date]:
    """The days of the transcribed year (eleven months back to one month ago), each as
    often as searches were run on it: one to four on most weekdays, now and then one at a
    weekend."""
    today = timezone.localdate()
    day = today - timedelta(days=_PAST_FROM_DAYS)
    while day <= today - timedelta(days=_PAST_TO_DAYS):
        if day.weekday() < 5:
            count = rng.choice([0, 1, 1, 1, 2, 2, 2, 3, 4])
        else:
            count = 1 if rng.random() < 0.15 else 0
        for _ in range(count):
            yield day
        day += timedelta(days=1)


def _working_time(moment: datetime) -> datetime:
    """``moment``, or the next working time after it (08:00 to 18:00, Monday to Friday):
    officers run searches at work, so reconciliation's out-of-hours rule stays quiet for
    the honest ones."""
    while moment.weekday() >= 5 or not 8 <= moment.hour < 18:
        moment = (moment + timedelta(hours=1)).replace(minute=moment.minute % 50 + 5)
    return moment


def _enter_past(
    rng: random.Random,
    request: searches.SearchRequest,
    officer: Account,
    *,
    day: date,
    examiners: list[Account],
    admin: Actor,
) -> tuple[str, SearchRecord]:
    """Transcribe one search of the past year: requested on ``day`` in working hours, decided
    as the policy in force asks (a supervisor approved or, now and then, refused it), and
    mostly documented; a few were never documented and are overdue."""
    hour = rng.randint(8, 17)
    requested_at = timezone.make_aware(datetime.combine(day, time(hour, rng.randint(0, 59))))
    outcome: searches.SearchOutcome | None = None
    if rng.random() >= _PAST_UNDOCUMENTED:
        searched_at = _working_time(requested_at + timedelta(hours=rng.randint(1, 26)))
        outcome = _outcome(rng, request.system_code, officer, examiners, searched_at)
    decision = searches.PastDecision()
    supervisor = officer.supervisor_id
    for _ in range(3):
        try:
            search = searches.do_enter_past_search(
                request,
                officer_id=officer.pk,
                requested_at=requested_at,
                outcome=outcome,
                decision=decision,
                actor=admin,
                source=PAST_SOURCE,
            )
        except ValidationError as error:
            fields = set(error.message_dict)
            if fields == {"decision"} and supervisor is not None:
                decision = (
                    searches.PastDecision(refused_by=supervisor, reason=_NOT_EXHAUSTED)
                    if rng.random() < 0.04
                    else searches.PastDecision(approved_by=supervisor)
                )
            elif fields == {"outcome"}:
                outcome = None
            else:
                raise
        else:
            break
    else:  # pragma: no cover - the loop settles within three tries
        raise RuntimeError("a demo past search could not be entered")
    if search.status == "refused":
        what = "refused by a supervisor" if decision.refused_by else _REFUSED
        return f"{what} (transcribed)", search
    if search.status == "authorised":
        return "overdue, never documented (transcribed)", search
    return "documented (transcribed)", search


def _searches(
    officers: list[Account], open_cases: dict[str, list[str]], rng: random.Random, admin: Actor
) -> str:
    """The demo's searches; returns a summary of what happened. The past year (eleven months
    back to one month ago) is transcribed with ``do_enter_past_search``; the last month's
    searches go through the live actions, today."""
    systems = {code: ExternalSystem.objects.get(code=code) for code in ("mirs", "vendor-fr")}
    able = {
        code: [o for o in officers if check_access(o, system).allowed]
        for code, system in systems.items()
    }
    unable = [o for o in officers if o not in able["mirs"]]
    supervisors = {a.pk: a for a in Account.objects.filter(role=Role.SUPERVISOR.value)}
    units = dict(Account.objects.values_list("pk", "org_unit__code"))
    tally: dict[str, int] = {}

    def pick() -> tuple[Account, searches.SearchRequest]:
        system = "vendor-fr" if able["vendor-fr"] and rng.random() < 0.15 else "mirs"
        officer = rng.choice(unable if rng.random() < 0.04 else able[system])
        purpose = _weighted(rng, _PURPOSES)
        if rng.random() < 0.03:
            purpose = "immigration_civil_enforcement"  # refused by every policy
        posture = "generates_new" if rng.random() < 0.05 else "advances_existing"
        case = rng.choice(open_cases[units[officer.pk]])
        if rng.random() < 0.02:
            case = f"BAL-{units[officer.pk][-1].upper()}-2026-0001"  # a closed case
        return officer, _demo_request(rng, system, purpose, case, posture)

    for day in _past_days(rng):
        officer, request = pick()
        what, search = _enter_past(rng, request, officer, day=day, examiners=officers, admin=admin)
        if search.status == "documented" and rng.random() < 0.9:
            searches.do_record_roi_number(
                search.pk, f"ROI-BAL-{day.year}-{search.pk:04d}", actor=_actor(officer)
            )
        tally[what] = tally.get(what, 0) + 1
    for n in range(_SEARCHES):
        officer, request = pick()
        try:
            search = searches.do_request_search(request, actor=_actor(officer))
        except searches.SearchRefused:
            tally[_REFUSED] = tally.get(_REFUSED, 0) + 1
            continue
        outcome = "documented"
        if search.status == "pending_approval":
            supervisor = _actor(supervisors[officer.supervisor_id or 0])
            if n >= _SEARCHES - 8:
                outcome = "awaiting approval"
            elif rng.random() < 0.04:
                searches.do_refuse_search(search.pk, actor=supervisor, reason=_NOT_EXHAUSTED)
                outcome = "refused by a supervisor"
            else:
                searches.do_approve_search(
                    search.pk, actor=supervisor, reason="Open case; existing lead."
                )
        if outcome == "documented":
            roll = rng.random()
            if roll < 0.02:
                searches.do_cancel_search(
                    search.pk, actor=_actor(officer), reason="Subject identified otherwise."
                )
                outcome = "cancelled"
            elif roll < 0.10:
                outcome = "not documented yet"
            elif _document(rng, search, officer, officers) and rng.random() < 0.9:
                searches.do_record_roi_number(
                    search.pk, f"ROI-BAL-2026-{search.pk:04d}", actor=_actor(officer)
                )
        tally[outcome] = tally.get(outcome, 0) + 1
    return ", ".join(f"{count} {what}" for what, count in sorted(tally.items()))


CRCL_RECOMMENDATIONS = [
    "(b) (5) Redacted in the public version. Per CRCL's public summary, this recommendation "
    "concerns ERO's oversight of its officers' access to databases of facial images.",
    "(b) (5) Redacted in the public version. Per CRCL's public summary, this recommendation "
    "concerns ERO's access to facial-recognition databases and the documentation of searches.",
    "HSI should ensure it is fulfilling its audit requirements, including reviewing instances "
    "where FRS is accessed and used.",
]
_ERO_REASONS = (
    "Per CRCL's public summary of 24 April 2023, ICE did not concur: facial recognition was "
    "removed from the Maryland Dashboard in July 2021 and ERO had no access to other "
    "facial-recognition software."
)


def _oversight_register(admin: Actor, director: Account) -> None:
    """The CRCL memorandum of 30 September 2022 (complaint 20-05-ICE-0474) and ICE's response
    of 30 January 2023, as the public record gives them; the action plan for the
    recommendation ICE concurred with uses this field office's review campaigns."""
    memo = oversight.do_record_memo(
        body="DHS Office for Civil Rights and Civil Liberties (CRCL)",
        reference="Complaint No. 20-05-ICE-0474",
        title="Recommendations regarding ICE's use of databases containing facial images "
        "and other sensitive data",
        issued_on=date(2022, 9, 30),
        recommendations=CRCL_RECOMMENDATIONS,
        actor=admin,
    )
    first, second, third = memo.recommendations.order_by("number")
    for recommendation in (first, second):
        oversight.do_respond_to_recommendation(
            recommendation.pk,
            response="non_concur",
            reasons=_ERO_REASONS,
            responded_on=date(2023, 1, 30),
            actor=admin,
        )
    oversight.do_respond_to_recommendation(
        third.pk, response="concur", reasons="", responded_on=date(2023, 1, 30), actor=admin
    )
    today = timezone.localdate()
    oversight.do_add_milestone(
        third.pk,
        description="Quarterly supervisory review campaign of every unit's searches, with "
        "findings routed to supervisors (searchledger reviews).",
        owner_id=director.pk,
        due_on=today + timedelta(days=60),
        actor=admin,
    )
    oversight.do_add_milestone(
        third.pk,
        description="Reconcile the Maryland Dashboard's own access log against documented "
        "searches every quarter (searchledger reconciliation).",
        owner_id=director.pk,
        due_on=today + timedelta(days=90),
        actor=admin,
    )


DASHBOARD_MAPPING = MappingSpec(
    account_column="user_id",
    timestamp_column="event_time",
    action_column="event_type",
    reference_column="query_id",
    case_ref_column="case_no",
    search_actions=("FACE_SEARCH",),
)


def _reconciliation(admin: Actor, rng: random.Random) -> str:
    """The state dashboard's own log of MIRS searches for the transcribed year, imported
    and reconciled as an agency would: the mapping of its columns, the import, each
    dashboard account mapped to its officer (the temporary-duty account is nobody the
    agency knows), then the auditor's reconciliation of the year."""
    folder = Path(settings.HOME) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "md-dashboard-mirs-access-log.csv"
    planted = write_dashboard_log(path, rng)
    # The answer key, for a first-time user (and the demo's test) to check against.
    (folder / "md-dashboard-mirs-planted.json").write_text(planted.to_json() + "\n")
    accesslogs.do_set_column_mapping("mirs", DASHBOARD_MAPPING, actor=admin)
    imported = accesslogs.do_import_access_log("mirs", path, original_name=path.name, actor=admin)
    if imported.status != "completed":  # pragma: no cover - the demo's own log is clean
        raise RuntimeError(f"the demo access log did not import: {imported.failure}")
    officers = Account.objects.filter(role__in=[Role.OFFICER.value, Role.SUPERVISOR.value])
    rows = [
        (line, dashboard_account(account), account.username)
        for line, account in enumerate(officers.order_by("username"), start=2)
    ]
    seen = set(
        ExternalAccount.objects.filter(system=imported.system).values_list("external_id", flat=True)
    )
    accesslogs.do_map_external_accounts(
        "mirs", [row for row in rows if row[1] in seen], actor=admin
    )
    auditor = _actor(Account.objects.get(username="auditor"))
    first = imported.first_event_at
    last = imported.last_event_at
    if first is None or last is None:  # pragma: no cover - the log has events
        raise RuntimeError("the demo access log has no events")
    run = do_reconcile(
        "mirs",
        start=timezone.localdate(first),
        end=timezone.localdate(last),
        actor=auditor,
    )
    counts = ", ".join(
        f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(run.counts.items()) if n
    )
    return (
        f"access log: {imported.searches} dashboard searches imported; reconciliation found "
        f"{counts or 'nothing'} (planted: {len(planted.undocumented)} undocumented, "
        f"{len(planted.after_refusal)} after a refusal, 1 unknown account, "
        f"{len(planted.case_mismatch)} case mismatch, {len(planted.no_external_event)} "
        "with no dashboard event)"
    )


def _review_and_report(admin: Actor) -> str:
    """The first team's supervisor opens a review of the last quarter of the transcribed
    year and reviews part of the sample (the rest stays on the work list); the agency
    publishes its transparency report for the transcribed year and cites it as evidence for
    the recommendation it concurred with."""
    today = timezone.localdate()
    end = today - timedelta(days=_PAST_TO_DAYS)
    supervisor = Account.objects.get(username="supervisor")
    campaign = reviews.do_open_campaign(
        reviews.CampaignRequest(
            org_unit_code="bal-fugops-a",
            period_start=end - timedelta(days=90),
            period_end=end,
            deadline=today + timedelta(days=21),
            random_share="0.10",
            seed=20260930,
        ),
        actor=_actor(supervisor),
    )
    items = list(campaign.items.order_by("pk"))
    done = 0
    for item in items[: len(items) // 2]:
        if item.search.officer_id == supervisor.pk:
            continue
        documented = item.search.status == "documented" and bool(item.search.roi_number)
        answer = "yes" if documented else "no"
        reviews.do_record_review(
            item.pk,
            reviews.ReviewInput(
                answers={
                    "documentation_complete": answer,
                    "purpose_allowed": "yes",
                    "techniques_attested": "yes",
                    "candidates_vetted": "yes" if documented else "na",
                    "lead_correctly_recorded": "yes" if documented else "na",
                },
                verdict="compliant" if documented else "non_compliant",
                notes="" if documented else "Outcome or ROI number missing from the record.",
                raise_findings=() if documented else ("documentation_complete",),
            ),
            actor=_actor(supervisor),
        )
        done += 1
    report = do_publish_transparency_report(
        today - timedelta(days=_PAST_FROM_DAYS),
        end,
        5,
        agency_title="ERO Baltimore Field Office (demo)",
        actor=admin,
    )
    concurred = Recommendation.objects.get(memo__reference="Complaint No. 20-05-ICE-0474", number=3)
    oversight.do_link_report(concurred.pk, report.pk, actor=admin)
    return (
        f"review: {len(items)} searches sampled for bal-fugops-a, {done} reviewed; "
        f"transparency report {report.pk} published from checkpoint {report.checkpoint_size}"
    )


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
            _search_policies(admin)
            open_cases = _cases(admin)
            summary = _searches(officers, open_cases, rng, admin)
            _oversight_register(admin, Account.objects.get(username="fod"))
        yield f"created {Account.objects.count()} accounts, 3 systems, grants and training"
        yield f"searches: {summary}"
        yield _reconciliation(admin, rng)
        yield _review_and_report(admin)
    checkpoint = sign_checkpoint_if_grown()
    yield f"ledger checkpoint at size {checkpoint.size}"
    yield (
        "demo log-ins (password "
        + DEMO_PASSWORD
        + "): "
        + ", ".join(f"{username} ({role.value})" for username, _, role, _, _ in DEMO_ACCOUNTS)
    )
