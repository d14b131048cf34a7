"""Account actions: the ledger entries each one appends, and what each one refuses.

A refused action (permission or validation) must raise, append nothing and change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from searchledger.apps.accounts import actions
from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.ledger.models import CommitmentSalt, LedgerEntry
from searchledger.core.actor import SYSTEM_ACCOUNT_ID, Actor
from searchledger.core.roles import Role
from searchledger.ledger.canonical import verify_commitment

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"
NON_ADMIN_ROLES = [role for role in Role if role is not Role.ADMINISTRATOR]


def _entries_after(seq: int) -> list[dict[str, Any]]:
    return [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gt=seq).order_by("seq")]


def _last_seq() -> int:
    last = LedgerEntry.objects.order_by("-seq").first()
    return -1 if last is None else last.seq


def _state() -> tuple[object, ...]:
    return (
        LedgerEntry.objects.count(),
        CommitmentSalt.objects.count(),
        sorted(
            Account.objects.values_list(
                "username",
                "role",
                "is_active",
                "password",
                "first_name",
                "email",
                "org_unit",
                "supervisor",
                "job_title",
            )
        ),
        sorted(OrgUnit.objects.values_list("code", "name", "kind", "parent")),
    )


@contextmanager
def _changes_nothing() -> Iterator[None]:
    before = _state()
    yield
    assert _state() == before


def _opens(entry: dict[str, Any], field: str, value: str) -> bool:
    salt = CommitmentSalt.objects.get(seq=entry["seq"], field=field)
    return verify_commitment(entry["commitments"][field], value, bytes.fromhex(salt.salt))


@pytest.fixture
def officer(make_account) -> Account:
    return make_account("o.fficer", Role.OFFICER)


# ---------------------------------------------------------------------------------------
# What each action appends
# ---------------------------------------------------------------------------------------


def test_bootstrap_account_is_created_by_the_system(admin):
    [entry] = _entries_after(-1)
    assert entry["event"] == "ACCOUNT_CREATED"
    assert entry["actor"] == SYSTEM_ACCOUNT_ID
    assert entry["data"] == {"role": "administrator", "has_password": False}
    assert entry["object"] == {"type": "accounts.account", "id": str(admin.pk)}
    assert _opens(entry, "reason", "bootstrap")


def test_create_account(admin, admin_actor):
    seq = _last_seq()
    account = actions.do_create_account(
        username="  Jane.Doe ",
        role=Role.SUPERVISOR,
        password=STRONG,
        full_name="Jane Q Doe",
        email="jane@example.gov",
        actor=admin_actor,
        reason="promoted",
    )
    account.refresh_from_db()
    assert account.username == "Jane.Doe"
    assert account.role == "supervisor"
    assert (account.first_name, account.last_name) == ("Jane", "Q Doe")
    assert account.check_password(STRONG)
    [entry] = _entries_after(seq)
    assert entry["event"] == "ACCOUNT_CREATED"
    assert entry["type"] == 600
    assert entry["data"] == {"role": "supervisor", "has_password": True}
    assert entry["object"] == {"type": "accounts.account", "id": str(account.pk)}
    assert entry["actor"] == admin.pk
    assert entry["request_id"] == admin_actor.request_id
    assert set(entry["commitments"]) == {"username", "full_name", "email", "reason"}
    assert _opens(entry, "username", "Jane.Doe")
    assert _opens(entry, "full_name", "Jane Q Doe")
    assert _opens(entry, "email", "jane@example.gov")
    assert _opens(entry, "reason", "promoted")
    for secret in ("Jane", "Doe", "example.gov", "promoted", STRONG, account.password):
        assert secret not in LedgerEntry.objects.get(seq=entry["seq"]).body


def test_create_account_without_password_is_unusable(admin_actor):
    seq = _last_seq()
    account = actions.do_create_account(
        username="nopass", role=Role.OFFICER, password=None, actor=admin_actor
    )
    assert not account.has_usable_password()
    [entry] = _entries_after(seq)
    assert entry["data"] == {"role": "officer", "has_password": False}


def test_change_role(admin_actor, officer):
    seq = _last_seq()
    actions.do_change_account_role(
        officer.pk, role=Role.AUDITOR, actor=admin_actor, reason="moved to compliance"
    )
    officer.refresh_from_db()
    assert officer.role == "auditor"
    [entry] = _entries_after(seq)
    assert entry["event"] == "ACCOUNT_ROLE_CHANGED"
    assert entry["data"] == {"before": "officer", "after": "auditor"}
    assert entry["object"]["id"] == str(officer.pk)
    assert set(entry["commitments"]) == {"reason"}
    assert _opens(entry, "reason", "moved to compliance")


def test_deactivate_then_reactivate(admin_actor, officer):
    seq = _last_seq()
    actions.do_deactivate_account(officer.pk, actor=admin_actor, reason="left")
    officer.refresh_from_db()
    assert not officer.is_active
    actions.do_reactivate_account(officer.pk, actor=admin_actor, reason="returned")
    officer.refresh_from_db()
    assert officer.is_active
    entries = _entries_after(seq)
    assert [e["event"] for e in entries] == ["ACCOUNT_DEACTIVATED", "ACCOUNT_REACTIVATED"]
    assert [e["data"] for e in entries] == [{}, {}]
    assert [e["object"]["id"] for e in entries] == [str(officer.pk)] * 2
    assert _opens(entries[0], "reason", "left")
    assert _opens(entries[1], "reason", "returned")


def test_set_password_by_an_administrator(admin, admin_actor, officer):
    seq = _last_seq()
    actions.do_set_account_password(officer.pk, password=STRONG, actor=admin_actor)
    officer.refresh_from_db()
    assert officer.check_password(STRONG)
    [entry] = _entries_after(seq)
    assert entry["event"] == "ACCOUNT_PASSWORD_SET"
    assert entry["data"] == {"by_self": False}
    assert entry["actor"] == admin.pk
    assert entry["commitments"] == {}
    body = LedgerEntry.objects.get(seq=entry["seq"]).body
    assert STRONG not in body
    assert officer.password not in body


def test_set_own_password_needs_no_account_permission(officer):
    seq = _last_seq()
    self_actor = Actor(account_id=officer.pk, role=Role.OFFICER)
    actions.do_set_account_password(officer.pk, password=STRONG, actor=self_actor)
    officer.refresh_from_db()
    assert officer.check_password(STRONG)
    [entry] = _entries_after(seq)
    assert entry["data"] == {"by_self": True}
    assert entry["actor"] == officer.pk


# ---------------------------------------------------------------------------------------
# Permission refusals: nothing appended, nothing changed
# ---------------------------------------------------------------------------------------


@pytest.fixture
def refusable(officer, make_account) -> dict[str, Callable[[Actor], object]]:
    """Each action, bound to arguments that would succeed for an administrator."""
    target = make_account("target", Role.SUPERVISOR)
    inactive = make_account("inactive", Role.OFFICER)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    return {
        "create": lambda actor: actions.do_create_account(
            username="someone", role=Role.ADMINISTRATOR, password=None, actor=actor
        ),
        "change_role": lambda actor: actions.do_change_account_role(
            officer.pk, role=Role.ADMINISTRATOR, actor=actor, reason="x"
        ),
        "deactivate": lambda actor: actions.do_deactivate_account(
            target.pk, actor=actor, reason="x"
        ),
        "reactivate": lambda actor: actions.do_reactivate_account(
            inactive.pk, actor=actor, reason="x"
        ),
        "set_password": lambda actor: actions.do_set_account_password(
            target.pk, password=STRONG, actor=actor
        ),
        "create_org_unit": lambda actor: actions.do_create_org_unit(
            code="hsi", name="HSI", kind="component", actor=actor
        ),
        "assign": lambda actor: actions.do_assign_account(
            target.pk, org_unit_code=None, supervisor_id=None, job_title="Analyst", actor=actor
        ),
    }


ACTION_NAMES = [
    "create",
    "change_role",
    "deactivate",
    "reactivate",
    "set_password",
    "create_org_unit",
    "assign",
]


def test_every_action_is_checked_for_refusal():
    # A new action in accounts.actions must join ``refusable`` (and so the tests below).
    names = {name.removeprefix("do_") for name in actions.__all__}
    expected = {
        "create_account": "create",
        "change_account_role": "change_role",
        "deactivate_account": "deactivate",
        "reactivate_account": "reactivate",
        "set_account_password": "set_password",
        "create_org_unit": "create_org_unit",
        "assign_account": "assign",
    }
    assert names == set(expected)
    assert sorted(expected.values()) == sorted(ACTION_NAMES)


@pytest.mark.parametrize("name", ACTION_NAMES)
@pytest.mark.parametrize("role", NON_ADMIN_ROLES, ids=str)
def test_roles_without_manage_accounts_are_refused(name, role, refusable, officer):
    # Acting as the officer account (not as the target) with each non-administrator role.
    actor = Actor(account_id=officer.pk, role=role)
    with _changes_nothing(), pytest.raises(PermissionDenied, match="manage_accounts"):
        refusable[name](actor)


@pytest.mark.parametrize("name", ACTION_NAMES)
@pytest.mark.parametrize("role", [None, "root", ""])
def test_actors_without_a_known_role_are_refused(name, role, refusable, officer):
    actor = Actor(account_id=officer.pk, role=role)
    with _changes_nothing(), pytest.raises(PermissionDenied):
        refusable[name](actor)


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_the_control_administrator_succeeds(name, refusable, admin_actor):
    # The refusals above are meaningful only if the same calls work for an administrator.
    before = LedgerEntry.objects.count()
    refusable[name](admin_actor)
    assert LedgerEntry.objects.count() == before + 1


# ---------------------------------------------------------------------------------------
# Validation errors: raise naming the field, append nothing, change nothing
# ---------------------------------------------------------------------------------------


def _raises_on(field: str, call: Callable[[], object], match: str = "") -> None:
    with _changes_nothing(), pytest.raises(ValidationError) as caught:
        call()
    assert field in caught.value.message_dict, caught.value.message_dict
    if match:
        assert any(match in message for message in caught.value.message_dict[field])


@pytest.mark.parametrize("username", ["ADMIN", "Admin", "admin", " admin "])
def test_duplicate_username_case_insensitive(admin_actor, username):
    _raises_on(
        "username",
        lambda: actions.do_create_account(
            username=username, role=Role.OFFICER, password=None, actor=admin_actor
        ),
        "is taken",
    )


@pytest.mark.parametrize("username", ["", "   "])
def test_blank_username(admin_actor, username):
    _raises_on(
        "username",
        lambda: actions.do_create_account(
            username=username, role=Role.OFFICER, password=None, actor=admin_actor
        ),
        "required",
    )


def test_invalid_username_characters(admin_actor):
    _raises_on(
        "username",
        lambda: actions.do_create_account(
            username="bad name!", role=Role.OFFICER, password=None, actor=admin_actor
        ),
    )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "too short"),
        ("123456789012", "entirely numeric"),
        ("password1234", "too common"),
        ("newofficer.smith", "too similar"),
    ],
)
def test_weak_password_on_create(admin_actor, password, reason):
    _raises_on(
        "password",
        lambda: actions.do_create_account(
            username="newofficer.smith", role=Role.OFFICER, password=password, actor=admin_actor
        ),
        reason,
    )


def test_weak_password_on_set_keeps_the_old_one(admin_actor, officer):
    actions.do_set_account_password(officer.pk, password=STRONG, actor=admin_actor)
    _raises_on(
        "password",
        lambda: actions.do_set_account_password(officer.pk, password="short", actor=admin_actor),
        "too short",
    )
    officer.refresh_from_db()
    assert officer.check_password(STRONG)


def test_deactivating_yourself(admin, admin_actor):
    _raises_on(
        "account",
        lambda: actions.do_deactivate_account(admin.pk, actor=admin_actor, reason="x"),
        "your own account",
    )
    admin.refresh_from_db()
    assert admin.is_active


def test_deactivating_twice(admin_actor, officer):
    actions.do_deactivate_account(officer.pk, actor=admin_actor, reason="left")
    _raises_on(
        "account",
        lambda: actions.do_deactivate_account(officer.pk, actor=admin_actor, reason="again"),
        "already deactivated",
    )


def test_reactivating_an_active_account(admin_actor, officer):
    _raises_on(
        "account",
        lambda: actions.do_reactivate_account(officer.pk, actor=admin_actor, reason="x"),
        "already active",
    )


def test_changing_to_the_same_role(admin_actor, officer):
    _raises_on(
        "role",
        lambda: actions.do_change_account_role(
            officer.pk, role=Role.OFFICER, actor=admin_actor, reason="x"
        ),
        "already has the role officer",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda a: actions.do_deactivate_account(999_999, actor=a, reason="x"),
        lambda a: actions.do_reactivate_account(999_999, actor=a, reason="x"),
        lambda a: actions.do_change_account_role(999_999, role=Role.AUDITOR, actor=a, reason="x"),
        lambda a: actions.do_set_account_password(999_999, password=STRONG, actor=a),
    ],
    ids=["deactivate", "reactivate", "change_role", "set_password"],
)
def test_unknown_account(admin_actor, call):
    _raises_on("account", lambda: call(admin_actor), "no account with id 999999")


def test_unknown_role_on_create(admin_actor):
    with _changes_nothing(), pytest.raises(ValueError, match="not a valid Role"):
        actions.do_create_account(
            username="x",
            role="root",  # type: ignore[arg-type]  # what an unchecked caller might pass
            password=None,
            actor=admin_actor,
        )


# ---------------------------------------------------------------------------------------
# Organisation units and assignments
# ---------------------------------------------------------------------------------------


@pytest.fixture
def unit(admin_actor) -> OrgUnit:
    return actions.do_create_org_unit(
        code="ero", name="Enforcement and Removal", kind="component", actor=admin_actor
    )


@pytest.fixture
def boss(make_account) -> Account:
    return make_account("s.upervisor", Role.SUPERVISOR)


def test_create_org_units(admin, admin_actor):
    seq = _last_seq()
    agency = actions.do_create_org_unit(
        code="agency", name="The Agency", kind="agency", actor=admin_actor
    )
    office = actions.do_create_org_unit(
        code="nyc", name=" New York ", kind="field_office", parent_code="agency", actor=admin_actor
    )
    office.refresh_from_db()
    assert (office.name, office.kind, office.parent) == ("New York", "field_office", agency)
    entries = _entries_after(seq)
    assert [e["event"] for e in entries] == ["ORG_UNIT_CREATED", "ORG_UNIT_CREATED"]
    assert [e["data"] for e in entries] == [
        {"code": "agency", "name": "The Agency", "kind": "agency", "parent": None},
        {"code": "nyc", "name": "New York", "kind": "field_office", "parent": "agency"},
    ]
    assert [e["object"] for e in entries] == [
        {"type": "accounts.orgunit", "id": str(agency.pk)},
        {"type": "accounts.orgunit", "id": str(office.pk)},
    ]
    assert {e["actor"] for e in entries} == {admin.pk}
    assert [e["commitments"] for e in entries] == [{}, {}]


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({"code": " "}, {"code"}),
        ({"code": "ero"}, {"code"}),  # taken by the ``unit`` fixture
        ({"name": "  "}, {"name"}),
        ({"kind": "division"}, {"kind"}),
        ({"parent_code": "nowhere"}, {"parent"}),
        (
            {"code": "", "name": "", "kind": "x", "parent_code": "y"},
            {"code", "name", "kind", "parent"},
        ),
    ],
)
def test_create_org_unit_validation(admin_actor, unit, arguments, fields):
    good = {"code": "hsi", "name": "Homeland Security Investigations", "kind": "component"}
    with _changes_nothing(), pytest.raises(ValidationError) as caught:
        actions.do_create_org_unit(**{**good, **arguments}, actor=admin_actor)
    assert set(caught.value.message_dict) == fields
    assert OrgUnit.objects.count() == 1


def test_assign_and_reassign_an_account(admin_actor, officer, unit, boss):
    seq = _last_seq()
    actions.do_assign_account(
        officer.pk,
        org_unit_code="ero",
        supervisor_id=boss.pk,
        job_title=" Deportation Officer ",
        actor=admin_actor,
    )
    officer.refresh_from_db()
    assert (officer.org_unit, officer.supervisor, officer.job_title) == (
        unit,
        boss,
        "Deportation Officer",
    )
    actions.do_assign_account(officer.pk, org_unit_code=None, supervisor_id=None, actor=admin_actor)
    officer.refresh_from_db()
    assert (officer.org_unit, officer.supervisor, officer.job_title) == (None, None, "")
    entries = _entries_after(seq)
    assert [e["event"] for e in entries] == ["ACCOUNT_ASSIGNED", "ACCOUNT_ASSIGNED"]
    assert [e["data"] for e in entries] == [
        {
            "before": {"org_unit": None, "supervisor": None},
            "after": {"org_unit": "ero", "supervisor": boss.pk},
        },
        {
            "before": {"org_unit": "ero", "supervisor": boss.pk},
            "after": {"org_unit": None, "supervisor": None},
        },
    ]
    assert [e["object"]["id"] for e in entries] == [str(officer.pk)] * 2
    assert set(entries[0]["commitments"]) == {"job_title"}
    assert _opens(entries[0], "job_title", "Deportation Officer")
    assert "Deportation" not in LedgerEntry.objects.get(seq=entries[0]["seq"]).body


@pytest.mark.usefixtures("unit")
def test_assign_validation(admin_actor, officer, boss, make_account, admin):
    auditor = make_account("a.uditor", Role.AUDITOR)
    gone = make_account("g.one", Role.SUPERVISOR)
    actions.do_deactivate_account(gone.pk, actor=admin_actor, reason="left")
    cases: list[tuple[dict[str, Any], set[str], str]] = [
        ({"org_unit_code": "nowhere"}, {"org_unit"}, "no unit with code 'nowhere'"),
        ({"supervisor_id": 999_999}, {"supervisor"}, "no active account with id 999999"),
        ({"supervisor_id": gone.pk}, {"supervisor"}, f"no active account with id {gone.pk}"),
        ({"supervisor_id": auditor.pk}, {"supervisor"}, "a.uditor is not a supervisor"),
        ({"org_unit_code": "x", "supervisor_id": auditor.pk}, {"org_unit", "supervisor"}, ""),
    ]
    for changes, fields, message in cases:
        arguments = {"org_unit_code": "ero", "supervisor_id": boss.pk, **changes}
        with _changes_nothing(), pytest.raises(ValidationError) as caught:
            actions.do_assign_account(officer.pk, **arguments, actor=admin_actor)
        assert set(caught.value.message_dict) == fields, changes
        assert message in " ".join(caught.value.messages)
    # A supervisor cannot supervise themself; an administrator may supervise.
    _raises_on(
        "supervisor",
        lambda: actions.do_assign_account(
            boss.pk, org_unit_code="ero", supervisor_id=boss.pk, actor=admin_actor
        ),
        "cannot supervise themself",
    )
    actions.do_assign_account(
        officer.pk, org_unit_code=None, supervisor_id=admin.pk, actor=admin_actor
    )
    officer.refresh_from_db()
    assert officer.supervisor == admin
    _raises_on(
        "account",
        lambda: actions.do_assign_account(
            999_999, org_unit_code="ero", supervisor_id=None, actor=admin_actor
        ),
        "no account with id 999999",
    )
