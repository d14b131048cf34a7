"""Session fixation and user enumeration at sign-in.

* A session key planted before sign-in (session fixation) is never the signed-in session's:
  the key changes at the password step and again at the TOTP step, and each old key is
  deleted, so whoever knew it holds nothing. Sign-out deletes the session.
* A failed sign-in says the same for an existing username, an unknown one and a deactivated
  account with its right password, and an unknown username is locked out like a real one,
  so neither the page nor the lock-out tells which usernames exist.

(The lock-out's count, duration and message are in test_lockout.py.)
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from searchledger.apps.accounts.actions import do_create_account, do_deactivate_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_confirm_totp_device
from searchledger.apps.accounts.tests.support import RFC_KEY, totp_code
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"
VERIFY = "/accounts/mfa/verify/"
LOCK_TEXT = b"Sign-in is locked"


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


def _key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _holding(key: str) -> Client:
    """A second browser holding only the session cookie ``key`` (an attacker who knew it)."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def _exists(key: str) -> bool:
    return Session.objects.filter(session_key=key).exists()


def _planted(client: Client) -> str:
    """A session created before sign-in, its key set in ``client`` as a fixation attack
    would (the attacker made the session and gave its key to the victim's browser)."""
    store = SessionStore()
    store["planted"] = "by an attacker"
    store.create()
    key = str(store.session_key)
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return key


def _sent_to_sign_in(client: Client, path: str = "/") -> bool:
    response = client.get(path)
    return response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_the_session_key_changes_at_sign_in_and_the_planted_key_is_void(officer):
    victim = Client()
    planted = _planted(victim)
    response = victim.post("/sign-in/", {"username": "oscar", "password": PASSWORD})
    assert response.status_code == 302
    assert _key(victim) != planted
    assert not _exists(planted)
    assert victim.get("/").status_code == 200
    # The attacker's copy of the planted key opens nothing.
    attacker = _holding(planted)
    assert _sent_to_sign_in(attacker)
    assert attacker.get("/api/systems").status_code == 401


def test_the_key_changes_again_after_the_totp_step(enrolled):
    victim = Client()
    planted = _planted(victim)
    victim.post("/sign-in/", {"username": "oscar", "password": PASSWORD})
    after_password = _key(victim)
    assert after_password != planted
    assert not _exists(planted)
    # The half-signed-in session owes its code; the planted key does not even reach that.
    assert victim.get("/")["Location"].startswith(VERIFY)
    assert _sent_to_sign_in(_holding(planted))

    response = victim.post(VERIFY, {"code": totp_code(RFC_KEY, offset=30)})
    assert response.status_code == 302
    after_code = _key(victim)
    assert after_code not in {planted, after_password}
    assert not _exists(after_password)
    assert victim.get("/").status_code == 200
    # Whoever saw the key of the password step (before the code) holds nothing now.
    attacker = _holding(after_password)
    assert _sent_to_sign_in(attacker)
    assert attacker.get("/api/systems").status_code == 401


def test_sign_out_deletes_the_session(officer):
    client = Client()
    client.post("/sign-in/", {"username": "oscar", "password": PASSWORD})
    key = _key(client)
    assert _exists(key)
    copy = _holding(key)
    assert copy.get("/").status_code == 200  # the same key, while it lasts
    assert client.post("/sign-out/").status_code == 302
    assert not _exists(key)
    assert _sent_to_sign_in(copy)
    assert copy.get("/api/systems").status_code == 401


def test_signing_in_as_someone_else_in_the_same_browser_starts_a_new_session(officer, admin_actor):
    do_create_account(
        username="priya", role=Role.OFFICER, password=PASSWORD, actor=admin_actor, reason="t"
    )
    client = Client()
    client.post("/sign-in/", {"username": "oscar", "password": PASSWORD})
    first = _key(client)
    # Signed in, the sign-in page sends home; signing in as another person is a new session.
    client.post("/sign-out/")
    client.post("/sign-in/", {"username": "priya", "password": PASSWORD})
    assert _key(client) != first
    assert not _exists(first)


# ---------------------------------------------------------------------------------------
# No user enumeration
# ---------------------------------------------------------------------------------------


def _refusal(username: str, password: str) -> tuple[int, str]:
    """The status and page of a failed sign-in, with what legitimately differs between two
    such pages (the CSRF token, the username typed back into the form) blanked out."""
    response = Client().post("/sign-in/", {"username": username, "password": password})
    page = response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "CSRF", page)
    page = page.replace(f'value="{username}"', 'value="USERNAME"')
    return response.status_code, page


def test_a_failed_sign_in_says_the_same_whether_or_not_the_username_exists(officer, admin_actor):
    do_create_account(
        username="dora", role=Role.OFFICER, password=PASSWORD, actor=admin_actor, reason="t"
    )
    do_deactivate_account(Account.objects.get(username="dora").pk, actor=admin_actor, reason="left")
    wrong_password = _refusal("oscar", "wrong password")
    unknown = _refusal("nobody.here", "wrong password")
    deactivated = _refusal("dora", PASSWORD)
    assert wrong_password[0] == unknown[0] == deactivated[0] == 200
    assert "Please enter a correct username and password" in wrong_password[1]
    assert wrong_password[1] == unknown[1] == deactivated[1]


def test_an_unknown_username_is_locked_out_like_a_real_one(officer):
    for username in ("oscar", "nobody.here"):
        statuses = [_refusal(username, "wrong password")[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429], username
        response = Client().post("/sign-in/", {"username": username, "password": PASSWORD})
        assert response.status_code == 429
        assert LOCK_TEXT in response.content
    assert not Account.objects.filter(username="nobody.here").exists()
