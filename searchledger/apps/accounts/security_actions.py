"""The actions for sign-in credentials: the TOTP authenticator, personal API tokens and
the link to a single sign-on identity. Like every action, each checks permission, changes
the rows and appends its ledger entry in one transaction; secrets never reach the ledger.

They sit apart from ``accounts.actions`` (the administration of accounts) because most are
self-service: an account manages its own authenticator and tokens, and administrators may
only remove or revoke them.
"""

from __future__ import annotations

import time
from binascii import Error as BinasciiError
from binascii import unhexlify
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from searchledger.apps.accounts import tokens
from searchledger.apps.accounts.models import TOKEN_MAX_LIFETIME, Account, ApiToken, SsoIdentity
from searchledger.apps.authz import require
from searchledger.apps.ledger import writer
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "TOTP_KEY_BYTES",
    "IssuedToken",
    "do_confirm_totp_device",
    "do_issue_api_token",
    "do_link_sso_identity",
    "do_remove_totp_device",
    "do_revoke_api_token",
]

_ACCOUNT = "accounts.account"
_TOKEN = "accounts.apitoken"  # noqa: S105  # an object type, not a secret
# A TOTP secret is 20 random bytes (160 bits, RFC 4226's recommendation).
TOTP_KEY_BYTES = 20


def _lock(account_id: int) -> Account:
    # FOR NO KEY UPDATE: records that refer to the account (a search request, a grant)
    # check that foreign key at COMMIT after taking the ledger head; they must not wait for
    # this lock, or the two transactions deadlock (this one then waits for the head).
    try:
        return Account.objects.select_for_update(no_key=True).get(pk=account_id)
    except Account.DoesNotExist as exc:
        raise ValidationError({"account": f"no account with id {account_id}"}) from exc


# ---------------------------------------------------------------------------------------
# Second factor (TOTP)
# ---------------------------------------------------------------------------------------


def _totp_step_for(key: bytes, code: str) -> tuple[int, int] | None:
    """``(time step, drift)`` at which ``code`` is valid for ``key`` now (one step of clock
    skew either way), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = time.time()
    if not totp.verify(int(code), tolerance=1):
        return None
    return int(totp.t()), int(totp.drift)


@transaction.atomic
def do_confirm_totp_device(account_id: int, *, key: str, code: str, actor: Actor) -> TOTPDevice:
    """Enrol a TOTP authenticator: store the secret ``key`` (hex) as the account's device
    once the person has shown a current ``code`` from it.

    Only the account holder enrols (whoever enrols learns the secret). One device per
    account. The ledger records that a second factor was enrolled, never the secret.
    """
    require(actor, Permission.MANAGE_OWN_CREDENTIALS)
    if actor.is_system or actor.account_id != account_id:
        raise PermissionDenied("only the account holder can enrol an authenticator")
    account = _lock(account_id)
    if not account.is_active:
        raise ValidationError({"account": "the account is deactivated"})
    if TOTPDevice.objects.filter(user=account).exists():
        raise ValidationError({"code": "an authenticator is already enrolled; remove it first"})
    try:
        binary = unhexlify(key.encode("ascii"))
    except (BinasciiError, UnicodeEncodeError, ValueError) as exc:
        raise ValidationError({"key": "the secret is not hex"}) from exc
    if len(binary) != TOTP_KEY_BYTES:
        raise ValidationError({"key": f"the secret must be {TOTP_KEY_BYTES} bytes"})
    matched = _totp_step_for(binary, code)
    if matched is None:
        raise ValidationError({"code": "that code does not match; check the time on your phone"})
    step, drift = matched
    # last_t = the step just used, so the same code cannot also complete a sign-in.
    device = TOTPDevice.objects.create(
        user=account, name="Authenticator app", key=key, confirmed=True, last_t=step, drift=drift
    )
    writer.append(
        LedgerEventType.ACCOUNT_MFA_ENROLLED,
        object_type=_ACCOUNT,
        object_id=account.pk,
        actor=actor,
        data={"method": "totp"},
    )
    return device


@transaction.atomic
def do_remove_totp_device(account_id: int, *, actor: Actor, reason: str = "") -> None:
    """Remove an account's TOTP authenticator: the holder themself (from a session that
    passed the second factor), or an administrator (e.g. for a lost phone, with a reason)."""
    by_self = not actor.is_system and actor.account_id == account_id
    require(actor, Permission.MANAGE_OWN_CREDENTIALS if by_self else Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    if not by_self and not reason.strip():
        raise ValidationError({"reason": "give the reason for removing someone's authenticator"})
    deleted, _ = TOTPDevice.objects.filter(user=account).delete()
    if not deleted:
        raise ValidationError({"account": "no authenticator is enrolled"})
    writer.append(
        LedgerEventType.ACCOUNT_MFA_REMOVED,
        object_type=_ACCOUNT,
        object_id=account.pk,
        actor=actor,
        data={"method": "totp", "by_self": by_self},
        personal={"reason": reason.strip()} if reason.strip() else None,
    )


# ---------------------------------------------------------------------------------------
# Personal API tokens
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token and its full string, which is shown once and never stored."""

    token: ApiToken
    secret: str


@transaction.atomic
def do_issue_api_token(
    account_id: int,
    *,
    name: str,
    scopes: Iterable[Permission | str],
    expires_at: datetime,
    actor: Actor,
) -> IssuedToken:
    """Issue a personal API token to the actor's own account.

    ``scopes`` must be a non-empty subset of what the account's role holds; ``expires_at``
    must be in the future and at most a year away. The ledger records the token's id,
    scopes and expiry, and its name as a commitment; never the secret or its hash.
    """
    require(actor, Permission.MANAGE_OWN_CREDENTIALS)
    if actor.is_system or actor.account_id != account_id:
        raise PermissionDenied("API tokens are personal: only the account holder issues one")
    account = _lock(account_id)
    if not account.is_active:
        raise ValidationError({"account": "the account is deactivated"})
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "name the token after the integration that will use it"
    elif len(name) > 100:
        errors["name"] = "at most 100 characters"
    allowed = {p.value for p in tokens.token_scopes_for(account.role)}
    wanted = sorted({str(scope) for scope in scopes})
    if not wanted:
        errors["scopes"] = "choose at least one scope"
    elif not set(wanted) <= allowed:
        refused = ", ".join(sorted(set(wanted) - allowed))
        errors["scopes"] = f"your role does not hold: {refused}"
    now = timezone.now()
    if timezone.is_naive(expires_at):
        errors["expires_at"] = "the expiry must carry a time zone"
    elif expires_at <= now:
        errors["expires_at"] = "the expiry must be in the future"
    elif expires_at > now + TOKEN_MAX_LIFETIME:
        errors["expires_at"] = "a token may live at most a year"
    if errors:
        raise ValidationError(errors)
    for _attempt in range(5):
        prefix, secret = tokens.new_token_parts()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    account=account,
                    name=name,
                    prefix=prefix,
                    secret_hash=tokens.hash_secret(secret),
                    scopes=wanted,
                    created_at=now,
                    expires_at=expires_at,
                )
        except IntegrityError:  # prefix collision (about 1 in 2**41): draw again
            continue
        break
    else:  # pragma: no cover - five collisions in a row mean the generator is broken
        raise RuntimeError("could not draw an unused token prefix")
    writer.append(
        LedgerEventType.ACCOUNT_TOKEN_ISSUED,
        object_type=_TOKEN,
        object_id=token.pk,
        actor=actor,
        data={
            "account": account.pk,
            "scopes": wanted,
            "expires_at": token.expires_at.astimezone(UTC).isoformat(),
        },
        personal={"name": name},
    )
    return IssuedToken(token=token, secret=tokens.format_token(prefix, secret))


@transaction.atomic
def do_revoke_api_token(token_id: int, *, actor: Actor, reason: str = "") -> ApiToken:
    """Revoke a token: one's own, or anyone's for an administrator."""
    try:
        token = ApiToken.objects.select_for_update().get(pk=token_id)
    except ApiToken.DoesNotExist as exc:
        raise ValidationError({"token": f"no token with id {token_id}"}) from exc
    by_self = not actor.is_system and actor.account_id == token.account_id
    require(actor, Permission.MANAGE_OWN_CREDENTIALS if by_self else Permission.MANAGE_ACCOUNTS)
    if token.revoked_at is not None:
        raise ValidationError({"token": "the token is already revoked"})
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    writer.append(
        LedgerEventType.ACCOUNT_TOKEN_REVOKED,
        object_type=_TOKEN,
        object_id=token.pk,
        actor=actor,
        data={"account": token.account_id, "by_self": by_self},
        personal={"reason": reason.strip()} if reason.strip() else None,
    )
    return token


# ---------------------------------------------------------------------------------------
# Single sign-on
# ---------------------------------------------------------------------------------------


@transaction.atomic
def do_link_sso_identity(
    account_id: int, *, issuer: str, subject: str, actor: Actor
) -> SsoIdentity:
    """Link an account to the identity provider's subject it signs in as. The issuer is
    recorded in clear, the subject (a personal identifier) as a commitment."""
    require(actor, Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    if not issuer or not subject:
        raise ValidationError({"subject": "an issuer and a subject are required"})
    if not account.is_active:
        raise ValidationError({"account": "the account is deactivated"})
    if SsoIdentity.objects.filter(issuer=issuer, subject=subject).exists():
        raise ValidationError({"subject": "that identity is already linked to an account"})
    if SsoIdentity.objects.filter(account=account, issuer=issuer).exists():
        raise ValidationError({"account": "the account is already linked to this issuer"})
    identity = SsoIdentity.objects.create(
        account=account, issuer=issuer, subject=subject, linked_at=timezone.now()
    )
    writer.append(
        LedgerEventType.ACCOUNT_SSO_LINKED,
        object_type=_ACCOUNT,
        object_id=account.pk,
        actor=actor,
        data={"issuer": issuer},
        personal={"subject": subject},
    )
    return identity
