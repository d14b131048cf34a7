"""The credential actions: enrol and remove a TOTP authenticator, issue and revoke API tokens,
link a single sign-on identity. Each appends one ledger entry; secrets never reach it;
refusals and invalid input change nothing."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from searchledger.apps.accounts import security_actions as actions
from searchledger.apps.accounts import tokens
from searchledger.apps.accounts.models import Account, ApiToken, SsoIdentity
from searchledger.apps.accounts.tests.support import RFC_KEY, totp_code
from searchledger.apps.ledger.models import CommitmentSalt, LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger.canonical import verify_commitment

pytestmark = pytest.mark.django_db

OTHER_KEY = "00112233445566778899aabbccddeeff00112233"


@pytest.fixture
def officer(make_account) -> Account:
    return make_account("o.fficer", Role.OFFICER)


def me(account: Account) -> Actor:
    return Actor(account_id=account.pk, role=Role(account.role))


def _entries_after(count: int) -> list[dict]:
    return [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=count)]


def _state() -> tuple[object, ...]:
    return (
        LedgerEntry.objects.count(),
        sorted(TOTPDevice.objects.values_list("user_id", "key", "confirmed")),
        sorted(ApiToken.objects.values_list("pk", "revoked_at", "scopes")),
        sorted(SsoIdentity.objects.values_list("account_id", "issuer", "subject")),
        sorted(Account.objects.values_list("pk", "role", "is_active")),
    )


@contextlib.contextmanager
def _changes_nothing():
    before = _state()
    yield
    assert _state() == before


def _opens(entry: dict, field: str, value: str) -> bool:
    salt = CommitmentSalt.objects.get(seq=entry["seq"], field=field)
    return verify_commitment(entry["commitments"][field], value, bytes.fromhex(salt.salt))


# ---------------------------------------------------------------------------------------
# TOTP authenticator
# ---------------------------------------------------------------------------------------


def test_enrol_stores_the_device_and_records_it_without_the_secret(officer):
    count = LedgerEntry.objects.count()
    used = totp_code(RFC_KEY)
    device = actions.do_confirm_totp_device(officer.pk, key=RFC_KEY, code=used, actor=me(officer))
    device.refresh_from_db()
    assert device.user_id == officer.pk
    assert device.confirmed
    assert device.key == RFC_KEY
    # The code used to enrol cannot be used again at sign-in: last_t is its time step.
    assert device.last_t >= int(time.time() // 30) - 1
    assert not device.verify_token(used)
    [entry] = _entries_after(count)
    assert entry["event"] == "ACCOUNT_MFA_ENROLLED"
    assert entry["type"] == 620
    assert entry["object"] == {"type": "accounts.account", "id": str(officer.pk)}
    assert entry["actor"] == officer.pk
    assert entry["data"] == {"method": "totp"}
    body = LedgerEntry.objects.get(seq=entry["seq"]).body
    assert RFC_KEY not in body
    assert "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" not in body  # the key in base32


def test_enrol_accepts_the_previous_code_for_clock_skew(officer):
    previous = totp_code(RFC_KEY, time.time() - 30)
    actions.do_confirm_totp_device(officer.pk, key=RFC_KEY, code=previous, actor=me(officer))
    assert TOTPDevice.objects.filter(user=officer).exists()


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "abcdef", "99999x"],
)
def test_enrol_refuses_malformed_codes(officer, code):
    with _changes_nothing(), pytest.raises(ValidationError) as caught:
        actions.do_confirm_totp_device(officer.pk, key=RFC_KEY, code=code, actor=me(officer))
    assert "code" in caught.value.message_dict


def test_enrol_refuses_a_code_from_another_secret(officer):
    with _changes_nothing(), pytest.raises(ValidationError, match="does not match"):
        actions.do_confirm_totp_device(
            officer.pk, key=RFC_KEY, code=totp_code(OTHER_KEY), actor=me(officer)
        )


def test_enrol_refuses_a_stale_code(officer):
    stale = totp_code(RFC_KEY, time.time() - 300)
    with _changes_nothing(), pytest.raises(ValidationError):
        actions.do_confirm_totp_device(officer.pk, key=RFC_KEY, code=stale, actor=me(officer))


@pytest.mark.parametrize(("key", "message"), [("zz" * 20, "hex"), ("00" * 10, "20 bytes")])
def test_enrol_refuses_bad_secrets(officer, key, message):
    with _changes_nothing(), pytest.raises(ValidationError, match=message):
        actions.do_confirm_totp_device(officer.pk, key=key, code="123456", actor=me(officer))


def test_enrol_only_one_device(officer):
    actions.do_confirm_totp_device(
        officer.pk, key=RFC_KEY, code=totp_code(RFC_KEY), actor=me(officer)
    )
    with _changes_nothing(), pytest.raises(ValidationError, match="already enrolled"):
        actions.do_confirm_totp_device(
            officer.pk, key=OTHER_KEY, code=totp_code(OTHER_KEY), actor=me(officer)
        )


@pytest.mark.parametrize("who", ["administrator", "system"])
def test_nobody_enrols_for_someone_else(officer, admin_actor, who):
    actor = admin_actor if who == "administrator" else Actor.system()
    with _changes_nothing(), pytest.raises(PermissionDenied, match="account holder"):
        actions.do_confirm_totp_device(
            officer.pk, key=RFC_KEY, code=totp_code(RFC_KEY), actor=actor
        )


def test_remove_own_device(officer):
    actions.do_confirm_totp_device(
        officer.pk, key=RFC_KEY, code=totp_code(RFC_KEY), actor=me(officer)
    )
    count = LedgerEntry.objects.count()
    actions.do_remove_totp_device(officer.pk, actor=me(officer))
    assert not TOTPDevice.objects.filter(user=officer).exists()
    [entry] = _entries_after(count)
    assert entry["event"] == "ACCOUNT_MFA_REMOVED"
    assert entry["type"] == 621
    assert entry["data"] == {"method": "totp", "by_self": True}
    assert entry["commitments"] == {}


def test_an_administrator_removes_a_lost_device_with_a_reason(officer, admin, admin_actor):
    actions.do_confirm_totp_device(
        officer.pk, key=RFC_KEY, code=totp_code(RFC_KEY), actor=me(officer)
    )
    with _changes_nothing(), pytest.raises(ValidationError, match="reason"):
        actions.do_remove_totp_device(officer.pk, actor=admin_actor, reason="  ")
    count = LedgerEntry.objects.count()
    actions.do_remove_totp_device(officer.pk, actor=admin_actor, reason="lost phone")
    assert not TOTPDevice.objects.filter(user=officer).exists()
    [entry] = _entries_after(count)
    assert entry["actor"] == admin.pk
    assert entry["data"] == {"method": "totp", "by_self": False}
    assert _opens(entry, "reason", "lost phone")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMINISTRATOR], ids=str)
def test_other_roles_cannot_remove_someone_elses_device(officer, make_account, role):
    actions.do_confirm_totp_device(
        officer.pk, key=RFC_KEY, code=totp_code(RFC_KEY), actor=me(officer)
    )
    other = make_account(f"other-{role.value}", role)
    with _changes_nothing(), pytest.raises(PermissionDenied, match="manage_accounts"):
        actions.do_remove_totp_device(officer.pk, actor=me(other), reason="x")


def test_removing_without_a_device_is_refused(officer):
    with _changes_nothing(), pytest.raises(ValidationError, match="no authenticator"):
        actions.do_remove_totp_device(officer.pk, actor=me(officer))


# ---------------------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------------------


def _issue(account: Account, **overrides):
    arguments: dict[str, Any] = {
        "name": "case system sync",
        "scopes": [Permission.VIEW_SYSTEMS, Permission.VIEW_GRANTS],
        "expires_at": timezone.now() + timedelta(days=90),
        "actor": me(account),
    }
    arguments.update(overrides)
    return actions.do_issue_api_token(account.pk, **arguments)


def test_issue_stores_only_a_hash_and_records_no_secret(officer):
    count = LedgerEntry.objects.count()
    issued = _issue(officer)
    token = ApiToken.objects.get(pk=issued.token.pk)
    match = tokens.TOKEN_PATTERN.fullmatch(issued.secret)
    assert match is not None
    prefix, secret = match.groups()
    assert token.prefix == prefix
    assert token.secret_hash == tokens.hash_secret(secret)
    assert secret not in token.secret_hash
    assert token.scopes == ["view_grants", "view_systems"]
    assert token.account_id == officer.pk
    assert token.revoked_at is None
    assert token.last_used_at is None
    [entry] = _entries_after(count)
    assert entry["event"] == "ACCOUNT_TOKEN_ISSUED"
    assert entry["type"] == 630
    assert entry["object"] == {"type": "accounts.apitoken", "id": str(token.pk)}
    assert entry["data"]["account"] == officer.pk
    assert entry["data"]["scopes"] == ["view_grants", "view_systems"]
    assert entry["data"]["expires_at"].startswith(token.expires_at.strftime("%Y-%m-%dT%H:%M"))
    assert _opens(entry, "name", "case system sync")
    body = LedgerEntry.objects.get(seq=entry["seq"]).body
    assert secret not in body
    assert token.secret_hash not in body
    assert "case system sync" not in body


def test_each_token_is_different(officer):
    first, second = _issue(officer), _issue(officer)
    assert first.secret != second.secret
    assert first.token.prefix != second.token.prefix


def test_scopes_must_be_held_by_the_role(officer):
    with _changes_nothing(), pytest.raises(ValidationError, match="view_ledger"):
        _issue(officer, scopes=[Permission.VIEW_SYSTEMS, Permission.VIEW_LEDGER])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["no_such_permission"]}, "scopes"),
        ({"scopes": [Permission.MANAGE_OWN_CREDENTIALS]}, "scopes"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expires_at"),
        ({"expires_at": timezone.now() + timedelta(days=366)}, "expires_at"),
    ],
)
def test_invalid_tokens_are_refused(officer, overrides, field):
    with _changes_nothing(), pytest.raises(ValidationError) as caught:
        _issue(officer, **overrides)
    assert field in caught.value.message_dict


def test_a_naive_expiry_is_refused(officer):
    naive = timezone.now().replace(tzinfo=None) + timedelta(days=1)
    with _changes_nothing(), pytest.raises(ValidationError, match="time zone"):
        _issue(officer, expires_at=naive)


def test_a_year_is_the_longest_lifetime(officer):
    issued = _issue(officer, expires_at=timezone.now() + timedelta(days=365) - timedelta(minutes=1))
    assert issued.token.pk


@pytest.mark.parametrize("who", ["administrator", "system"])
def test_tokens_are_personal(officer, admin_actor, who):
    actor = admin_actor if who == "administrator" else Actor.system()
    with _changes_nothing(), pytest.raises(PermissionDenied, match="personal"):
        _issue(officer, actor=actor)


def test_a_deactivated_account_gets_no_token(officer, admin_actor):
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    with _changes_nothing(), pytest.raises(ValidationError, match="deactivated"):
        _issue(officer)


def test_revoke_own_token(officer):
    issued = _issue(officer)
    count = LedgerEntry.objects.count()
    actions.do_revoke_api_token(issued.token.pk, actor=me(officer))
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    [entry] = _entries_after(count)
    assert entry["event"] == "ACCOUNT_TOKEN_REVOKED"
    assert entry["type"] == 631
    assert entry["data"] == {"account": officer.pk, "by_self": True}
    with _changes_nothing(), pytest.raises(ValidationError, match="already revoked"):
        actions.do_revoke_api_token(issued.token.pk, actor=me(officer))


def test_an_administrator_revokes_anyones_token(officer, admin, admin_actor):
    issued = _issue(officer)
    count = LedgerEntry.objects.count()
    actions.do_revoke_api_token(issued.token.pk, actor=admin_actor, reason="leaked in a ticket")
    [entry] = _entries_after(count)
    assert entry["actor"] == admin.pk
    assert entry["data"] == {"account": officer.pk, "by_self": False}
    assert _opens(entry, "reason", "leaked in a ticket")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMINISTRATOR], ids=str)
def test_other_roles_cannot_revoke_someone_elses_token(officer, make_account, role):
    issued = _issue(officer)
    other = make_account(f"other-{role.value}", role)
    with _changes_nothing(), pytest.raises(PermissionDenied, match="manage_accounts"):
        actions.do_revoke_api_token(issued.token.pk, actor=me(other))


def test_revoking_an_unknown_token(officer):
    with _changes_nothing(), pytest.raises(ValidationError, match="no token"):
        actions.do_revoke_api_token(999_999, actor=me(officer))


# ---------------------------------------------------------------------------------------
# Single sign-on link
# ---------------------------------------------------------------------------------------

ISSUER = "https://idp.agency.example/realms/staff"


def test_link_records_the_issuer_in_clear_and_the_subject_as_a_commitment(officer):
    count = LedgerEntry.objects.count()
    identity = actions.do_link_sso_identity(
        officer.pk, issuer=ISSUER, subject="f3c1-77", actor=Actor.system()
    )
    assert (identity.account_id, identity.issuer, identity.subject) == (
        officer.pk,
        ISSUER,
        "f3c1-77",
    )
    [entry] = _entries_after(count)
    assert entry["event"] == "ACCOUNT_SSO_LINKED"
    assert entry["type"] == 640
    assert entry["actor"] == 0
    assert entry["data"] == {"issuer": ISSUER}
    assert _opens(entry, "subject", "f3c1-77")
    assert "f3c1-77" not in LedgerEntry.objects.get(seq=entry["seq"]).body


def test_one_identity_one_account(officer, make_account):
    actions.do_link_sso_identity(officer.pk, issuer=ISSUER, subject="s-1", actor=Actor.system())
    other = make_account("other", Role.OFFICER)
    with _changes_nothing(), pytest.raises(ValidationError, match="already linked"):
        actions.do_link_sso_identity(other.pk, issuer=ISSUER, subject="s-1", actor=Actor.system())
    with _changes_nothing(), pytest.raises(ValidationError, match="already linked"):
        actions.do_link_sso_identity(officer.pk, issuer=ISSUER, subject="s-2", actor=Actor.system())


def test_linking_needs_manage_accounts(officer):
    with _changes_nothing(), pytest.raises(PermissionDenied):
        actions.do_link_sso_identity(officer.pk, issuer=ISSUER, subject="s", actor=me(officer))
