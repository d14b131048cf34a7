"""Sign-in lock-out (django-axes): five failures lock the username for 30 minutes; even the
right password is refused meanwhile; the lock expires; failures are logged, not ledgered."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from searchledger.apps.accounts.actions import do_create_account, do_deactivate_account
from searchledger.apps.accounts.lockout import client_ip
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"
LOCK_TEXT = b"Sign-in is locked"


@pytest.fixture
def officer(admin_actor) -> Account:
    return do_create_account(
        username="oscar", role=Role.OFFICER, password=PASSWORD, actor=admin_actor, reason="t"
    )


def _sign_in(username: str, password: str, ip: str = "192.0.2.10"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/sign-in/", {"username": username, "password": password})
    return client, response


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _fail(times: int, username: str = "oscar", ip: str = "192.0.2.10") -> list[int]:
    return [_sign_in(username, "wrong password", ip)[1].status_code for _ in range(times)]


def test_the_right_password_signs_in(officer):
    client, response = _sign_in("oscar", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _signed_in(client)


def test_five_failures_lock_and_the_sixth_attempt_with_the_right_password_is_refused(officer):
    statuses = _fail(5)
    # Four ordinary refusals, then the fifth failure locks the username.
    assert statuses == [200, 200, 200, 200, 429]
    client, response = _sign_in("oscar", PASSWORD)
    assert response.status_code == 429
    assert LOCK_TEXT in response.content
    assert b"locked for 30 minutes" in response.content
    assert not _signed_in(client)
    assert client.get("/").status_code == 302  # still sent to sign in


def test_four_failures_do_not_lock(officer):
    assert _fail(4) == [200] * 4
    client, response = _sign_in("oscar", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_lock_is_on_the_username_from_any_address(officer):
    _fail(3, ip="192.0.2.10")
    _fail(2, ip="198.51.100.7")
    client, response = _sign_in("oscar", PASSWORD, ip="203.0.113.99")
    assert response.status_code == 429
    assert not _signed_in(client)


def test_the_username_is_counted_case_blind(officer):
    for variant in ["OSCAR", "Oscar", " oscar", "oScar", "OSCAr"]:
        _sign_in(variant, "wrong password")
    client, response = _sign_in("oscar", PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(client)


def test_other_usernames_are_not_locked(officer, admin_actor):
    do_create_account(
        username="priya", role=Role.OFFICER, password=PASSWORD, actor=admin_actor, reason="t"
    )
    _fail(5)
    client, response = _sign_in("priya", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_lock_expires_after_thirty_minutes(officer):
    _fail(5)
    assert _sign_in("oscar", PASSWORD)[1].status_code == 429
    # Twenty-nine minutes on, still locked.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=29))
    assert _sign_in("oscar", PASSWORD)[1].status_code == 429
    # Thirty-one minutes on, the failures no longer count.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    client, response = _sign_in("oscar", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_attempts_while_locked_do_not_extend_the_lock(officer):
    _fail(5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=29))
    _fail(3)  # refused as locked, not counted
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert _sign_in("oscar", PASSWORD)[1].status_code == 302


def test_a_successful_sign_in_resets_the_count(officer):
    _fail(4)
    assert _sign_in("oscar", PASSWORD)[1].status_code == 302
    assert _fail(4) == [200] * 4
    assert _sign_in("oscar", PASSWORD)[1].status_code == 302


def test_a_deactivated_account_cannot_sign_in_with_its_password(officer, admin_actor):
    do_deactivate_account(officer.pk, actor=admin_actor, reason="left")
    client, response = _sign_in("oscar", PASSWORD)
    assert response.status_code == 200
    assert not _signed_in(client)


@override_settings(AXES_LOCKOUT_PARAMETERS=[["username", "ip_address"]])
def test_keyed_on_username_and_address_another_address_still_signs_in(officer):
    _fail(5, ip="192.0.2.10")
    assert _sign_in("oscar", PASSWORD, ip="192.0.2.10")[1].status_code == 429
    client, response = _sign_in("oscar", PASSWORD, ip="198.51.100.7")
    assert response.status_code == 302
    assert _signed_in(client)


def test_failures_and_the_lock_out_are_logged_not_ledgered(officer, caplog):
    entries = LedgerEntry.objects.count()
    with caplog.at_level(logging.INFO, logger="searchledger.auth"):
        _fail(5)
        _sign_in("oscar", PASSWORD)
    assert LedgerEntry.objects.count() == entries
    lines = [r.getMessage() for r in caplog.records if r.name == "searchledger.auth"]
    assert sum("sign-in failed: username='oscar'" in line for line in lines) >= 5
    assert any("locked out after repeated failures: username='oscar'" in line for line in lines)
    assert any("sign-in refused, locked out: username='oscar'" in line for line in lines)
    assert not any(PASSWORD in line or "wrong password" in line for line in lines)


def test_a_successful_sign_in_is_logged(officer, caplog):
    with caplog.at_level(logging.INFO, logger="searchledger.auth"):
        _sign_in("oscar", PASSWORD)
    assert any(
        f"sign-in: account={officer.pk} username='oscar'" in r.getMessage() for r in caplog.records
    )


def test_a_lock_out_changes_no_account(officer):
    before = Account.objects.values_list("is_active", "password").get(pk=officer.pk)
    _fail(6)
    assert Account.objects.values_list("is_active", "password").get(pk=officer.pk) == before


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "seen"),
    [
        (0, "192.0.2.1", "", "192.0.2.1"),
        (0, "192.0.2.1", "203.0.113.5", "192.0.2.1"),  # no proxy: the header is ignored
        (1, "10.0.0.2", "203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.2", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged entry is ignored
        (2, "10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "10.0.0.2", "203.0.113.5", "10.0.0.2"),  # fewer entries than proxies
    ],
)
def test_the_client_address_behind_trusted_proxies(proxies, remote, forwarded, seen):
    request = RequestFactory().post("/sign-in/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(SEARCHLEDGER_PROXY_COUNT=proxies):
        assert client_ip(request) == seen


@override_settings(SEARCHLEDGER_PROXY_COUNT=1, AXES_LOCKOUT_PARAMETERS=[["username", "ip_address"]])
def test_behind_a_proxy_clients_are_told_apart_by_the_forwarded_address(officer):
    def attempt(client_address: str, password: str):
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_address).post(
            "/sign-in/", {"username": "oscar", "password": password}
        )

    for _ in range(5):
        attempt("203.0.113.5", "wrong password")
    assert attempt("203.0.113.5", PASSWORD).status_code == 429
    assert attempt("198.51.100.7", PASSWORD).status_code == 302
