"""OIDC single sign-on: the backend's claim -> account logic with real claims dicts, the ID
token checks with real signed tokens, and the two views. Nothing here touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.test import Client, RequestFactory

from searchledger.apps.accounts.actions import do_create_account, do_deactivate_account
from searchledger.apps.accounts.models import Account, SsoIdentity
from searchledger.apps.accounts.security_actions import do_link_sso_identity
from searchledger.apps.accounts.sso import SsoBackend
from searchledger.apps.accounts.tests.support import ISSUER, OIDC_SETTINGS, oidc_settings
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.config import settings as project_settings
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

CLIENT_SECRET = OIDC_SETTINGS["OIDC_RP_CLIENT_SECRET"]


@pytest.fixture
def sso():
    with oidc_settings():
        yield


@pytest.fixture
def backend(sso) -> SsoBackend:
    return SsoBackend()


def claims(sub: str = "7d2c-officer", username: str = "nia.officer", **extra) -> dict:
    base = {
        "sub": sub,
        "preferred_username": username,
        "name": "Nia Officer",
        "email": "nia.officer@agency.example",
        "groups": ["staff", "sl-officers"],
    }
    base.update(extra)
    return base


def _events_since(count: int) -> list[dict]:
    return [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=count)]


def _sign_in(backend: SsoBackend, given: dict) -> Account:
    """What mozilla-django-oidc's get_or_create_user does once it has the userinfo claims
    (the part after the network)."""
    if not backend.verify_claims(given):
        raise SuspiciousOperation("claims refused")
    found = list(backend.filter_users_by_claims(given))
    if len(found) == 1:
        return backend.update_user(found[0], given)
    assert not found
    return backend.create_user(given)


# ---------------------------------------------------------------------------------------
# Claims and roles
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["sl-officers"], Role.OFFICER),
        (["sl-supervisors", "sl-officers"], Role.SUPERVISOR),
        (["sl-officers", "sl-administrators"], Role.ADMINISTRATOR),
        # The first configured pair wins, not the most privileged role: auditors and
        # oversight are listed first so that an auditor who is also an administrator
        # elsewhere signs in as an auditor.
        (["sl-administrators", "sl-auditors"], Role.AUDITOR),
        (["sl-oversight", "sl-administrators"], Role.OVERSIGHT),
        ("sl-supervisors", Role.SUPERVISOR),  # a single string is one group
    ],
)
def test_groups_map_to_a_role_in_the_configured_order(backend, groups, role):
    assert backend.role_for(claims(groups=groups)) is role
    assert backend.verify_claims(claims(groups=groups))


@pytest.mark.parametrize(
    "given",
    [
        claims(groups=[]),
        claims(groups=["staff", "SL-OFFICERS"]),  # group names are exact
        claims(groups=None),
        claims(groups={"sl-officers": True}),
        {k: v for k, v in claims().items() if k != "groups"},
        claims(sub=""),
        claims(username=""),
        {k: v for k, v in claims().items() if k != "sub"},
    ],
)
def test_claims_without_a_mapped_group_subject_or_username_are_refused(backend, given):
    assert not backend.verify_claims(given)


def test_another_groups_claim_name_can_be_configured(sso):
    with oidc_settings(SEARCHLEDGER_OIDC_GROUPS_CLAIM="roles"):
        backend = SsoBackend()
        assert backend.role_for(claims(groups=[], roles=["sl-auditors"])) is Role.AUDITOR


# ---------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------


def test_first_sign_in_creates_and_links_the_account_as_the_system(backend, admin):
    count = LedgerEntry.objects.count()
    account = _sign_in(backend, claims())
    assert account.username == "nia.officer"
    assert account.role == Role.OFFICER.value
    assert account.get_full_name() == "Nia Officer"
    assert account.email == "nia.officer@agency.example"
    assert not account.has_usable_password()
    assert account.is_active
    identity = SsoIdentity.objects.get(account=account)
    assert (identity.issuer, identity.subject) == (ISSUER, "7d2c-officer")
    entries = _events_since(count)
    assert [e["event"] for e in entries] == ["ACCOUNT_CREATED", "ACCOUNT_SSO_LINKED"]
    assert {e["actor"] for e in entries} == {0}
    assert entries[1]["data"] == {"issuer": ISSUER}
    assert "7d2c-officer" not in LedgerEntry.objects.get(seq=entries[1]["seq"]).body


def test_the_next_sign_in_finds_the_account_by_subject_not_by_name(backend, admin):
    first = _sign_in(backend, claims())
    count = LedgerEntry.objects.count()
    again = _sign_in(backend, claims(username="nia.renamed"))
    assert again.pk == first.pk
    assert LedgerEntry.objects.count() == count  # nothing changed


def test_the_role_follows_the_groups_at_each_sign_in(backend, admin):
    account = _sign_in(backend, claims())
    count = LedgerEntry.objects.count()
    promoted = _sign_in(backend, claims(groups=["sl-supervisors"]))
    assert promoted.pk == account.pk
    assert Account.objects.get(pk=account.pk).role == Role.SUPERVISOR.value
    [entry] = _events_since(count)
    assert entry["event"] == "ACCOUNT_ROLE_CHANGED"
    assert entry["actor"] == 0
    assert entry["data"] == {"before": "officer", "after": "supervisor"}


def test_losing_every_mapped_group_refuses_sign_in_and_changes_nothing(backend, admin):
    account = _sign_in(backend, claims())
    count = LedgerEntry.objects.count()
    with pytest.raises(SuspiciousOperation):
        _sign_in(backend, claims(groups=["staff"]))
    with pytest.raises(SuspiciousOperation, match="no mapped group"):
        backend.update_user(account, claims(groups=["staff"]))
    assert Account.objects.get(pk=account.pk).role == Role.OFFICER.value
    assert LedgerEntry.objects.count() == count


def test_a_deactivated_account_is_refused_and_never_reactivated(backend, admin, admin_actor):
    account = _sign_in(backend, claims())
    do_deactivate_account(account.pk, actor=admin_actor, reason="left the agency")
    count = LedgerEntry.objects.count()
    with pytest.raises(SuspiciousOperation, match="deactivated"):
        _sign_in(backend, claims(groups=["sl-administrators"]))
    account.refresh_from_db()
    assert not account.is_active
    assert account.role == Role.OFFICER.value
    assert LedgerEntry.objects.count() == count


def test_an_existing_unlinked_account_of_the_same_name_is_refused_by_default(backend, admin):
    local = do_create_account(
        username="Nia.Officer",
        role=Role.AUDITOR,
        password=None,
        actor=Actor(account_id=admin.pk, role=Role.ADMINISTRATOR),
    )
    count = LedgerEntry.objects.count()
    with pytest.raises(SuspiciousOperation, match="not linked"):
        _sign_in(backend, claims())
    assert not SsoIdentity.objects.filter(account=local).exists()
    assert LedgerEntry.objects.count() == count


def test_linking_existing_accounts_when_switched_on(sso, admin):
    local = do_create_account(
        username="nia.officer",
        role=Role.AUDITOR,
        password=None,
        actor=Actor(account_id=admin.pk, role=Role.ADMINISTRATOR),
    )
    with oidc_settings(SEARCHLEDGER_OIDC_LINK_EXISTING=True):
        backend = SsoBackend()
        count = LedgerEntry.objects.count()
        account = _sign_in(backend, claims())
    assert account.pk == local.pk
    assert SsoIdentity.objects.get(account=local).subject == "7d2c-officer"
    assert [e["event"] for e in _events_since(count)] == [
        "ACCOUNT_SSO_LINKED",
        "ACCOUNT_ROLE_CHANGED",
    ]
    assert Account.objects.get(pk=local.pk).role == Role.OFFICER.value


def test_an_account_linked_to_another_subject_is_never_taken_over(sso, admin):
    with oidc_settings(SEARCHLEDGER_OIDC_LINK_EXISTING=True):
        backend = SsoBackend()
        original = _sign_in(backend, claims(sub="original-subject"))
        count = LedgerEntry.objects.count()
        with pytest.raises(SuspiciousOperation, match="linked to another identity"):
            _sign_in(backend, claims(sub="impostor-subject"))
    assert SsoIdentity.objects.get(account=original).subject == "original-subject"
    assert LedgerEntry.objects.count() == count


def test_an_invalid_username_from_the_provider_is_refused(backend, admin):
    count = LedgerEntry.objects.count()
    with pytest.raises(SuspiciousOperation, match="cannot create"):
        _sign_in(backend, claims(username="nia officer!"))
    assert not Account.objects.filter(username="nia officer!").exists()
    assert LedgerEntry.objects.count() == count


def test_a_subject_already_linked_elsewhere_cannot_be_linked_again(backend, admin):
    first = _sign_in(backend, claims())
    other = do_create_account(
        username="someone.else",
        role=Role.OFFICER,
        password=None,
        actor=Actor(account_id=admin.pk, role=Role.ADMINISTRATOR),
    )
    with pytest.raises(Exception, match="already linked"):
        do_link_sso_identity(other.pk, issuer=ISSUER, subject="7d2c-officer", actor=Actor.system())
    assert SsoIdentity.objects.get(subject="7d2c-officer").account_id == first.pk


# ---------------------------------------------------------------------------------------
# Tokens and userinfo
# ---------------------------------------------------------------------------------------


def _id_token(**overrides) -> str:
    now = datetime.now(UTC)
    payload = {
        "iss": ISSUER,
        "aud": "searchledger",
        "sub": "7d2c-officer",
        "nonce": "n-1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, CLIENT_SECRET, algorithm="HS256")


@pytest.fixture
def hs256_backend(sso) -> Iterator[SsoBackend]:
    # HS256 signs with the client secret, so real tokens can be made here without a JWKS.
    with oidc_settings(OIDC_RP_SIGN_ALGO="HS256"):
        yield SsoBackend()


def test_a_good_id_token_is_accepted(hs256_backend):
    payload = hs256_backend.verify_token(_id_token(), nonce="n-1")
    assert payload["sub"] == "7d2c-officer"


@pytest.mark.parametrize(
    ("overrides", "nonce", "message"),
    [
        ({"iss": "https://evil.example/"}, "n-1", "another issuer"),
        ({"iss": None}, "n-1", "another issuer"),
        ({"aud": "another-app"}, "n-1", "another client"),
        ({"aud": ["another-app", "searchledger"]}, "n-1", "authorised party"),
        ({"aud": ["another-app", "searchledger"], "azp": "another-app"}, "n-1", "authorised"),
        ({}, "n-2", "Nonce"),
    ],
)
def test_bad_id_tokens_are_refused(hs256_backend, overrides, nonce, message):
    with pytest.raises(SuspiciousOperation, match=message):
        hs256_backend.verify_token(_id_token(**overrides), nonce=nonce)


def test_a_token_for_several_audiences_needs_us_as_authorised_party(hs256_backend):
    token = _id_token(aud=["another-app", "searchledger"], azp="searchledger")
    assert hs256_backend.verify_token(token, nonce="n-1")["azp"] == "searchledger"


def test_an_expired_id_token_is_refused(hs256_backend):
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(jwt.ExpiredSignatureError):
        hs256_backend.verify_token(_id_token(iat=past, exp=past), nonce="n-1")


def test_a_token_signed_with_another_key_is_refused(hs256_backend):
    forged = jwt.encode(
        {"iss": ISSUER, "aud": "searchledger", "sub": "x", "nonce": "n-1"},
        "not-the-client-secret-0123456789-abcdef",
        algorithm="HS256",
    )
    with pytest.raises(SuspiciousOperation):
        hs256_backend.verify_token(forged, nonce="n-1")


def test_userinfo_must_be_about_the_id_tokens_subject(backend):
    payload = {"sub": "7d2c-officer", "groups": ["sl-auditors"]}
    with pytest.raises(SuspiciousOperation, match="another subject"):
        backend.check_userinfo(claims(sub="someone-else"), payload)
    with pytest.raises(SuspiciousOperation):
        backend.check_userinfo(["not", "a", "dict"], payload)
    # Groups the userinfo lacks come from the ID token; its own groups are kept.
    without_groups = {k: v for k, v in claims().items() if k != "groups"}
    assert backend.check_userinfo(without_groups, payload)["groups"] == ["sl-auditors"]
    assert backend.check_userinfo(claims(), payload)["groups"] == ["staff", "sl-officers"]


def test_a_password_sign_in_never_reaches_the_provider(backend):
    # authenticate() only runs for the callback, which passes a nonce.
    request = RequestFactory().post("/sign-in/?code=c&state=s")
    assert backend.authenticate(request, username="nia", password="x") is None
    assert backend.authenticate(None, nonce="n") is None


# ---------------------------------------------------------------------------------------
# Views and settings
# ---------------------------------------------------------------------------------------


def test_start_sends_the_visitor_to_the_provider_with_state_nonce_and_pkce(sso):
    client = Client()
    response = client.get("/oidc/authenticate/?next=/systems/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == (OIDC_SETTINGS["OIDC_OP_AUTHORIZATION_ENDPOINT"])
    )
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == "searchledger"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/oidc/callback/"
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    assert query["state"] in client.session["oidc_states"]
    assert client.session["oidc_login_next"] == "/systems/"


def test_the_providers_error_comes_back_to_the_sign_in_page(sso):
    response = Client().get("/oidc/callback/?error=access_denied&state=x")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?sso=failed"
    page = Client().get("/sign-in/?sso=failed")
    assert b"Single sign-on did not sign you in" in page.content


def test_a_callback_with_a_state_this_browser_never_sent_is_refused(sso):
    client = Client()
    client.get("/oidc/authenticate/")
    response = client.get("/oidc/callback/?code=c&state=forged")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_the_sign_in_page_offers_single_sign_on_only_when_configured(sso):
    assert b'href="/oidc/authenticate/' in Client().get("/sign-in/").content


def test_without_configuration_there_is_no_single_sign_on():
    assert b"/oidc/authenticate/" not in Client().get("/sign-in/").content
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=c&state=s").status_code == 404


def test_partial_configuration_is_refused(monkeypatch):
    monkeypatch.setenv("SEARCHLEDGER_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("SEARCHLEDGER_OIDC_CLIENT_ID", "searchledger")
    with pytest.raises(ImproperlyConfigured, match="SEARCHLEDGER_OIDC_CLIENT_SECRET"):
        project_settings._oidc_env()


def test_no_configuration_means_off(monkeypatch):
    for name in project_settings._OIDC_REQUIRED:
        monkeypatch.delenv(f"SEARCHLEDGER_OIDC_{name}", raising=False)
    assert project_settings._oidc_env() == {}
