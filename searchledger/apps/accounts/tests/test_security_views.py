"""Pages for API tokens and, for administrators, everyone's credentials."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from searchledger.apps.accounts.models import Account, ApiToken
from searchledger.apps.accounts.security_actions import do_confirm_totp_device, do_issue_api_token
from searchledger.apps.accounts.tests.support import RFC_KEY, totp_code
from searchledger.apps.accounts.tokens import TOKEN_PATTERN, hash_secret
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import ROLE_PERMISSIONS, Permission, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_account) -> Account:
    return make_account("o.fficer", Role.OFFICER)


def client_for(account: Account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def issue(account: Account, name: str = "sync") -> ApiToken:
    return do_issue_api_token(
        account.pk,
        name=name,
        scopes=[Permission.VIEW_SYSTEMS],
        expires_at=timezone.now() + timedelta(days=30),
        actor=Actor(account_id=account.pk, role=Role(account.role)),
    ).token


def _events_since(count: int) -> list[str]:
    return [json.loads(e.body)["event"] for e in LedgerEntry.objects.filter(seq__gte=count)]


def test_the_form_offers_only_the_roles_permissions(officer):
    page = client_for(officer).get("/accounts/tokens/new/").content.decode()
    offered = set(re.findall(r'name="scopes" value="([a-z_]+)"', page))
    held = {p.value for p in ROLE_PERMISSIONS[Role.OFFICER]}
    assert offered == held - {"manage_own_credentials"}
    assert {"view_systems", "request_grant"} <= offered
    assert "view_ledger" not in offered
    assert "manage_own_credentials" not in page


def test_creating_a_token_shows_the_secret_once(officer):
    client = client_for(officer)
    entries = LedgerEntry.objects.count()
    response = client.post(
        "/accounts/tokens/new/",
        {"name": "case sync", "scopes": ["view_systems", "view_grants"], "lifetime_days": "90"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    match = re.search(r'id="new-token"[^>]*value="([^"]+)"', response.content.decode())
    assert match is not None
    secret = match.group(1)
    found = TOKEN_PATTERN.fullmatch(secret)
    assert found is not None
    token = ApiToken.objects.get(account=officer)
    assert token.prefix == found.group(1)
    assert token.secret_hash == hash_secret(found.group(2))
    assert sorted(token.scopes) == ["view_grants", "view_systems"]
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert _events_since(entries) == ["ACCOUNT_TOKEN_ISSUED"]
    # The list shows the prefix, never the secret.
    listing = client.get("/accounts/tokens/").content.decode()
    assert f"sl_{token.prefix}_…" in listing
    assert found.group(2) not in listing
    assert "In force" in listing
    # And the token works at the API.
    assert (
        Client().get("/api/systems", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )


def test_a_scope_outside_the_role_is_refused_by_the_form(officer):
    client = client_for(officer)
    response = client.post(
        "/accounts/tokens/new/",
        {"name": "x", "scopes": ["view_ledger"], "lifetime_days": "30"},
    )
    assert response.status_code == 200
    assert b"not one of the available choices" in response.content
    assert not ApiToken.objects.exists()


def test_a_lifetime_over_a_year_is_refused_by_the_form(officer):
    response = client_for(officer).post(
        "/accounts/tokens/new/",
        {"name": "x", "scopes": ["view_systems"], "lifetime_days": "400"},
    )
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_ones_own_tokens(officer, admin):
    mine = issue(officer, "mine")
    theirs = issue(admin, "theirs")
    page = client_for(officer).get("/accounts/tokens/").content.decode()
    assert f"sl_{mine.prefix}_" in page
    assert f"sl_{theirs.prefix}_" not in page


def test_revoking_ones_own_token(officer):
    token = issue(officer)
    client = client_for(officer)
    entries = LedgerEntry.objects.count()
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response["Location"] == "/accounts/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _events_since(entries) == ["ACCOUNT_TOKEN_REVOKED"]
    assert "Revoked" in client.get("/accounts/tokens/").content.decode()
    # Revoking again changes nothing and says why.
    again = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert b"already revoked" in again.content
    assert LedgerEntry.objects.count() == entries + 1


def test_someone_elses_token_cannot_be_revoked_by_a_non_administrator(officer, admin):
    token = issue(admin)
    entries = LedgerEntry.objects.count()
    response = client_for(officer).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert LedgerEntry.objects.count() == entries


def test_an_administrator_sees_and_revokes_everyones_tokens(officer, admin):
    token = issue(officer, "officer sync")
    client = client_for(admin)
    page = client.get("/accounts/credentials/").content.decode()
    assert "officer sync" in page
    assert f"sl_{token.prefix}_" in page
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", {"reason": "leaked"})
    assert response["Location"] == "/accounts/credentials/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert f"sl_{token.prefix}_" not in client.get("/accounts/credentials/").content.decode()


def test_unknown_token_is_404(officer):
    assert client_for(officer).post("/accounts/tokens/999999/revoke/").status_code == 404


def test_an_administrator_removes_a_lost_authenticator(officer, admin):
    do_confirm_totp_device(
        officer.pk,
        key=RFC_KEY,
        code=totp_code(RFC_KEY),
        actor=Actor(account_id=officer.pk, role=Role.OFFICER),
    )
    client = client_for(admin)
    page = client.get("/accounts/credentials/").content.decode()
    assert f'action="/accounts/{officer.pk}/mfa/reset/"' in page
    # Without a reason nothing happens.
    response = client.post(f"/accounts/{officer.pk}/mfa/reset/", {"reason": ""}, follow=True)
    assert b"Give a reason" in response.content
    assert TOTPDevice.objects.filter(user=officer).exists()
    entries = LedgerEntry.objects.count()
    response = client.post(f"/accounts/{officer.pk}/mfa/reset/", {"reason": "lost phone"})
    assert response["Location"] == "/accounts/credentials/"
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert _events_since(entries) == ["ACCOUNT_MFA_REMOVED"]


def test_removing_ones_own_authenticator_without_one_says_so(officer):
    response = client_for(officer).post("/accounts/mfa/remove/", follow=True)
    assert b"no authenticator is enrolled" in response.content


def test_the_security_page_is_in_the_navigation(officer):
    page = client_for(officer).get("/").content.decode()
    assert 'href="/accounts/mfa/"' in page
