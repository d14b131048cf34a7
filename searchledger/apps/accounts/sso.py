"""Optional OIDC single sign-on (mozilla-django-oidc), with the identity provider's groups
mapped to a role.

Off unless ``SEARCHLEDGER_OIDC_*`` is configured (``settings.SEARCHLEDGER_OIDC_ENABLED``);
while off, the two URLs answer 404. When on:

* the ID token must come from the configured issuer and be meant for this client (the
  library checks the signature and nonce, not the issuer or audience);
* the userinfo ``sub`` must equal the ID token's;
* the groups claim must contain a mapped group (``core.sso.role_for_groups``: the first
  configured pair that matches wins), else the sign-in is refused;
* a person signs in as the account linked to their (issuer, subject); on the first
  sign-in an account is created through ``do_create_account`` by the system actor and
  linked (``ACCOUNT_SSO_LINKED``). An existing account with the same username is linked
  only when ``SEARCHLEDGER_OIDC_LINK_EXISTING`` is on; otherwise the sign-in is refused;
* a deactivated account is refused and never reactivated;
* the role follows the mapping at every sign-in (``do_change_account_role``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView
from typing_extensions import override

from searchledger.apps.accounts import actions, security_actions
from searchledger.apps.accounts.models import Account, SsoIdentity
from searchledger.apps.web.permissions import public
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.core.sso import groups_from_claim, parse_group_roles, role_for_groups

__all__ = ["SsoBackend", "sso_callback", "sso_start"]

log = logging.getLogger("searchledger.auth")


class SsoBackend(OIDCAuthenticationBackend):  # type: ignore[misc]  # untyped library
    """mozilla-django-oidc's backend, tied to searchledger's accounts, actions and roles."""

    @override
    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Account | None:
        """Only the OIDC callback authenticates here (it passes a nonce); a password sign-in
        that happens to carry ``code`` and ``state`` in its query string does not."""
        if request is None or "nonce" not in kwargs:
            return None
        account: Account | None = super().authenticate(request, **kwargs)
        return account

    # -- tokens and claims -------------------------------------------------------------

    @override
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library's signature and nonce check, plus issuer and audience."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        if payload.get("iss") != settings.SEARCHLEDGER_OIDC_ISSUER:
            raise SuspiciousOperation("the ID token was issued by another issuer")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token is meant for another client")
        if len(audiences) > 1 and payload.get("azp") != settings.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("the ID token's authorised party is another client")
        return payload

    @override
    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """The userinfo claims, which must be about the ID token's subject. Groups missing
        from userinfo are taken from the ID token, where some providers put them."""
        return self.check_userinfo(super().get_userinfo(access_token, id_token, payload), payload)

    def check_userinfo(self, info: object, payload: dict[str, Any]) -> dict[str, Any]:
        """Refuse userinfo about another subject than the ID token's ``payload``; fill in
        the groups from the ID token when userinfo has none."""
        if not isinstance(info, dict) or info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo is about another subject than the ID token")
        groups_claim = settings.SEARCHLEDGER_OIDC_GROUPS_CLAIM
        if groups_claim not in info and groups_claim in payload:
            info = {**info, groups_claim: payload[groups_claim]}
        return info

    def role_for(self, claims: dict[str, Any]) -> Role | None:
        """The role the claims' groups map to, or None."""
        mapping = parse_group_roles(settings.SEARCHLEDGER_OIDC_GROUP_ROLES)
        groups = groups_from_claim(claims.get(settings.SEARCHLEDGER_OIDC_GROUPS_CLAIM))
        return role_for_groups(groups, mapping)

    @staticmethod
    def _subject(claims: dict[str, Any]) -> str:
        subject = claims.get("sub")
        return subject if isinstance(subject, str) else ""

    @staticmethod
    def _username(claims: dict[str, Any]) -> str:
        username = claims.get(settings.SEARCHLEDGER_OIDC_USERNAME_CLAIM)
        return username.strip() if isinstance(username, str) else ""

    @override
    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """A subject, a username, and a group that maps to a role."""
        subject = self._subject(claims)
        if not subject or not self._username(claims):
            log.warning("single sign-on refused: no subject or username claim")
            return False
        if self.role_for(claims) is None:
            log.warning("single sign-on refused: subject=%r is in no mapped group", subject)
            return False
        return True

    @override
    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Account]:
        """The account linked to this (issuer, subject); else, if linking existing accounts
        is on, the unlinked account with the same username; else none (a new account)."""
        issuer = settings.SEARCHLEDGER_OIDC_ISSUER
        subject = self._subject(claims)
        linked = SsoIdentity.objects.filter(issuer=issuer, subject=subject).first()
        if linked is not None:
            return Account.objects.filter(pk=linked.account_id)
        same_name = Account.objects.filter(username__iexact=self._username(claims))
        existing = same_name.first()
        if existing is None:
            return Account.objects.none()
        if SsoIdentity.objects.filter(account=existing, issuer=issuer).exists():
            raise SuspiciousOperation(
                f"the account {existing.username!r} is linked to another identity"
            )
        if not settings.SEARCHLEDGER_OIDC_LINK_EXISTING:
            raise SuspiciousOperation(
                f"an account named {existing.username!r} exists and is not linked to single "
                "sign-on (SEARCHLEDGER_OIDC_LINK_EXISTING is off)"
            )
        return same_name

    # -- accounts ----------------------------------------------------------------------

    def _actor(self) -> Actor:
        request = getattr(self, "request", None)
        return Actor.system(request_id=getattr(request, "request_id", None))

    @override
    def create_user(self, claims: dict[str, Any]) -> Account:
        """Create and link the account on a person's first sign-in."""
        role = self.role_for(claims)
        if role is None:  # verify_claims refused already; kept for direct callers
            raise SuspiciousOperation("no mapped group")
        actor = self._actor()
        name = claims.get("name")
        email = claims.get("email")
        try:
            with transaction.atomic():
                account = actions.do_create_account(
                    username=self._username(claims),
                    role=role,
                    password=None,
                    full_name=name if isinstance(name, str) else "",
                    email=email if isinstance(email, str) else "",
                    actor=actor,
                    reason="first sign-in through single sign-on",
                )
                security_actions.do_link_sso_identity(
                    account.pk,
                    issuer=settings.SEARCHLEDGER_OIDC_ISSUER,
                    subject=self._subject(claims),
                    actor=actor,
                )
        except ValidationError as exc:
            raise SuspiciousOperation(f"cannot create the account: {exc.messages}") from exc
        log.info("single sign-on created account=%s role=%s", account.pk, account.role)
        return account

    @override
    def update_user(self, user: Account, claims: dict[str, Any]) -> Account:
        """Refuse a deactivated account; link an unlinked one; bring the role in line with
        the mapping."""
        if not user.is_active:
            raise SuspiciousOperation(f"the account {user.pk} is deactivated")
        role = self.role_for(claims)
        if role is None:
            raise SuspiciousOperation("no mapped group")
        actor = self._actor()
        issuer = settings.SEARCHLEDGER_OIDC_ISSUER
        try:
            with transaction.atomic():
                if not SsoIdentity.objects.filter(account=user, issuer=issuer).exists():
                    security_actions.do_link_sso_identity(
                        user.pk, issuer=issuer, subject=self._subject(claims), actor=actor
                    )
                if user.role != role.value:
                    user = actions.do_change_account_role(
                        user.pk,
                        role=role,
                        actor=actor,
                        reason="single sign-on group mapping",
                    )
        except ValidationError as exc:
            raise SuspiciousOperation(f"cannot update the account: {exc.messages}") from exc
        return user


_start_view = OIDCAuthenticationRequestView.as_view()
_callback_view = OIDCAuthenticationCallbackView.as_view()


@public
@never_cache
def sso_start(request: HttpRequest) -> HttpResponse:
    """Send the visitor to the identity provider (404 while single sign-on is off)."""
    if not settings.SEARCHLEDGER_OIDC_ENABLED:
        raise Http404("single sign-on is not configured")
    response: HttpResponse = _start_view(request)
    return response


@public
@never_cache
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Where the identity provider sends the visitor back (404 while single sign-on is
    off)."""
    if not settings.SEARCHLEDGER_OIDC_ENABLED:
        raise Http404("single sign-on is not configured")
    response: HttpResponse = _callback_view(request)
    return response
