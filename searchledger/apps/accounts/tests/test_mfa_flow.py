"""The TOTP second factor in the browser flow: sign-in asks for a code after the password
when the account has an authenticator; SEARCHLEDGER_REQUIRE_MFA sends every signed-in page to
enrolment; enrolling shows an otpauth URI and a QR code; the API refuses a session that owes
its code."""

from __future__ import annotations

import json
import re
from base64 import b32decode
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.mfa import SSO_BACKEND
from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_confirm_totp_device
from searchledger.apps.accounts.tests.support import RFC_KEY, oidc_settings, totp_code
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"
VERIFY = "/accounts/mfa/verify/"
ENROL = "/accounts/mfa/enrol/"


@pytest.fixture
def officer(admin_actor) -> Account:
    return do_create_account(
        username="oscar", role=Role.OFFICER, password=PASSWORD, actor=admin_actor, reason="t"
    )


@pytest.fixture
def enrolled(officer) -> Account:
    do_confirm_totp_device(
        officer.pk,
        key=RFC_KEY,
        code=totp_code(RFC_KEY),
        actor=Actor(account_id=officer.pk, role=Role.OFFICER),
    )
    return officer


def code() -> str:
    """A code not yet used: the next time step's, which the one step of allowed clock skew
    accepts now and in the next thirty seconds (enrolment used the current one)."""
    return totp_code(RFC_KEY, offset=30)


def _password_step(client: Client, next_path: str = "") -> None:
    data = {"username": "oscar", "password": PASSWORD}
    if next_path:
        data["next"] = next_path
    response = client.post("/sign-in/", data)
    assert response.status_code == 302, response.content[:300]


def _redirect(response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 302, response.content[:300]
    location = urlsplit(response["Location"])
    return location.path, parse_qs(location.query)


# ---------------------------------------------------------------------------------------
# Sign-in with an authenticator
# ---------------------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password(enrolled):
    client = Client()
    _password_step(client)
    path, query = _redirect(client.get("/"))
    assert (path, query) == (VERIFY, {"next": ["/"]})
    page = client.get(VERIFY + "?next=/")
    assert page.status_code == 200
    assert b"Enter your code" in page.content
    # The pages a pending session would otherwise see are not linked.
    assert b"Primary navigation" not in page.content
    response = client.post(VERIFY, {"code": code(), "next": "/"})
    assert _redirect(response)[0] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/systems/").status_code == 200


def test_every_page_waits_for_the_code_and_keeps_where_the_person_was_going(enrolled):
    client = Client()
    _password_step(client)
    for page in ["/systems/", "/grants/", "/accounts/mfa/", "/accounts/tokens/", ENROL]:
        path, query = _redirect(client.get(page))
        assert (path, query["next"]) == (VERIFY, [page])
    response = client.post(VERIFY, {"code": code(), "next": "/systems/"})
    assert response["Location"] == "/systems/"


def test_a_wrong_code_is_refused(enrolled):
    client = Client()
    _password_step(client)
    response = client.post(VERIFY, {"code": "000000" if code() != "000000" else "1"})
    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert _redirect(client.get("/"))[0] == VERIFY


@override_settings(OTP_TOTP_THROTTLE_FACTOR=60)  # a minute after one failure, to be sure
def test_wrong_codes_are_throttled(enrolled):
    client = Client()
    _password_step(client)
    wrong = "000000" if code() != "000000" else "111111"
    client.post(VERIFY, {"code": wrong})
    # Right after a failure even the right code is refused (and not counted as a failure).
    response = client.post(VERIFY, {"code": code()})
    assert response.status_code == 200
    assert b"That code is not right" in response.content
    device = TOTPDevice.objects.get(user=enrolled)
    assert device.throttling_failure_count == 1
    # Once the delay has passed, the right code works and the count starts again.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=61)
    )
    response = client.post(VERIFY, {"code": code()})
    assert _redirect(response)[0] == "/"
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_code_works_once(enrolled):
    first, second = Client(), Client()
    _password_step(first)
    _password_step(second)
    once = code()
    assert _redirect(first.post(VERIFY, {"code": once}))[0] == "/"
    response = second.post(VERIFY, {"code": once})
    assert response.status_code == 200
    assert _redirect(second.get("/"))[0] == VERIFY


def test_verification_gives_the_session_a_new_key(enrolled):
    client = Client()
    _password_step(client)
    before = client.session.session_key
    client.post(VERIFY, {"code": code()})
    assert client.session.session_key != before


def test_next_must_stay_on_this_site(enrolled):
    client = Client()
    _password_step(client)
    response = client.post(VERIFY, {"code": code(), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_pending_session_can_sign_out(enrolled):
    client = Client()
    _password_step(client)
    assert client.post("/sign-out/")["Location"] == "/sign-in/"
    assert "_auth_user_id" not in client.session


def test_the_api_refuses_a_session_that_owes_its_code(enrolled):
    client = Client()
    _password_step(client)
    response = client.get("/api/systems")
    assert response.status_code == 401
    assert client.get("/api/docs")["Location"].startswith("/sign-in/")
    client.post(VERIFY, {"code": code()})
    assert client.get("/api/systems").status_code == 200
    assert client.get("/api/docs").status_code == 200


def test_accounts_without_an_authenticator_sign_in_with_the_password_alone(officer):
    client = Client()
    _password_step(client)
    assert client.get("/").status_code == 200
    assert client.get("/api/systems").status_code == 200
    # The verification page just sends them on.
    assert client.get(VERIFY + "?next=/systems/")["Location"] == "/systems/"


def test_removing_ones_authenticator_ends_the_code_step(enrolled):
    client = Client()
    _password_step(client)
    client.post(VERIFY, {"code": code()})
    entries = LedgerEntry.objects.count()
    response = client.post("/accounts/mfa/remove/")
    assert response["Location"] == "/accounts/mfa/"
    assert not TOTPDevice.objects.filter(user=enrolled).exists()
    [entry] = [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=entries)]
    assert entry["event"] == "ACCOUNT_MFA_REMOVED"
    fresh = Client()
    _password_step(fresh)
    assert fresh.get("/").status_code == 200


def test_status_page_says_whether_an_authenticator_is_enrolled(officer, enrolled):
    client = Client()
    client.force_login(officer)
    client.post(VERIFY, {"code": code()})
    page = client.get("/accounts/mfa/").content.decode()
    assert "is <strong>enrolled</strong>" in page
    assert 'action="/accounts/mfa/remove/"' in page


# ---------------------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------------------


def _secret_from_page(content: bytes) -> tuple[str, str]:
    """The otpauth URI on the enrolment page and its secret as hex, as an app would read."""
    match = re.search(rb'id="otpauth-uri"[^>]*>([^<]+)<', content)
    assert match is not None
    uri = match.group(1).decode().replace("&amp;", "&")
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    padded = secret + "=" * (-len(secret) % 8)
    return uri, b32decode(padded).hex()


def test_enrolment_shows_the_otpauth_uri_and_a_qr_code_and_confirms_with_a_code(officer):
    client = Client()
    client.force_login(officer)
    page = client.get(ENROL)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    uri, key = _secret_from_page(page.content)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert unquote(parts.path) == "/searchledger:oscar"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["searchledger"]
    assert (query["digits"], query["period"], query["algorithm"]) == (["6"], ["30"], ["SHA1"])
    assert len(bytes.fromhex(key)) == 20
    assert b"<svg" in page.content
    assert b"<path" in page.content
    # The same secret is shown until it is confirmed (reloading does not change it).
    assert _secret_from_page(client.get(ENROL).content)[1] == key
    # A wrong code enrols nothing.
    wrong = client.post(ENROL, {"code": "12345"})
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.filter(user=officer).exists()
    entries = LedgerEntry.objects.count()
    response = client.post(ENROL, {"code": totp_code(key)})
    assert response["Location"] == "/accounts/mfa/"
    device = TOTPDevice.objects.get(user=officer)
    assert device.key == key
    assert [json.loads(e.body)["event"] for e in LedgerEntry.objects.filter(seq__gte=entries)] == [
        "ACCOUNT_MFA_ENROLLED"
    ]
    # Enrolling proved the code: this session goes on without another one...
    assert client.get("/").status_code == 200
    # ...and the next sign-in asks for one.
    fresh = Client()
    _password_step(fresh)
    assert _redirect(fresh.get("/"))[0] == VERIFY


def test_each_enrolment_draws_a_new_secret(officer, make_account):
    first, second = Client(), Client()
    first.force_login(officer)
    second.force_login(officer)
    assert (
        _secret_from_page(first.get(ENROL).content)[1]
        != _secret_from_page(second.get(ENROL).content)[1]
    )


def test_an_enrolled_account_is_sent_back_from_enrolment(enrolled):
    client = Client()
    client.force_login(enrolled)
    client.post(VERIFY, {"code": code()})
    assert client.get(ENROL)["Location"] == "/accounts/mfa/"


# ---------------------------------------------------------------------------------------
# SEARCHLEDGER_REQUIRE_MFA
# ---------------------------------------------------------------------------------------


@override_settings(SEARCHLEDGER_REQUIRE_MFA=True)
def test_required_mfa_sends_every_page_to_enrolment_until_done(officer):
    client = Client()
    _password_step(client)
    for page in ["/", "/systems/", "/accounts/tokens/", "/accounts/mfa/", VERIFY]:
        path, query = _redirect(client.get(page))
        assert (path, query["next"]) == (ENROL, [page])
    assert client.get("/api/systems").status_code == 401
    enrol = client.get(ENROL + "?next=/systems/")
    assert enrol.status_code == 200
    assert b"requires a second factor" in enrol.content
    assert b"Primary navigation" not in enrol.content
    _, key = _secret_from_page(enrol.content)
    response = client.post(ENROL, {"code": totp_code(key), "next": "/systems/"})
    assert response["Location"] == "/systems/"
    assert client.get("/").status_code == 200
    assert client.get("/api/systems").status_code == 200


@override_settings(SEARCHLEDGER_REQUIRE_MFA=True)
def test_required_mfa_still_lets_a_person_sign_out_and_reach_public_pages(officer):
    client = Client()
    _password_step(client)
    assert client.get("/healthz").status_code == 200
    assert client.post("/sign-out/").status_code == 302


@override_settings(SEARCHLEDGER_REQUIRE_MFA=True)
def test_required_mfa_with_an_authenticator_asks_for_the_code(enrolled):
    client = Client()
    _password_step(client)
    assert _redirect(client.get("/"))[0] == VERIFY


@override_settings(SEARCHLEDGER_REQUIRE_MFA=False)
def test_without_the_requirement_no_page_asks_for_enrolment(officer):
    client = Client()
    _password_step(client)
    for page in ["/", "/systems/", "/accounts/mfa/", "/accounts/tokens/"]:
        assert client.get(page).status_code == 200, page


def test_single_sign_on_sessions_are_not_asked_for_the_local_code(enrolled):
    # The identity provider applies its own second factor.
    with oidc_settings(SEARCHLEDGER_REQUIRE_MFA=True):
        client = Client()
        client.force_login(enrolled, backend=SSO_BACKEND)
        assert client.get("/").status_code == 200
        assert client.get("/api/systems").status_code == 200
        page = client.get("/accounts/mfa/")
        assert b"single sign-on" in page.content
