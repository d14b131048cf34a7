"""Account pages: list, create through the form, deactivate and reactivate with a reason."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from searchledger.apps.accounts.actions import do_deactivate_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.models import CommitmentSalt, LedgerEntry
from searchledger.core.roles import Role
from searchledger.ledger.canonical import verify_commitment

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"
FORM = {
    "username": "new.officer",
    "full_name": "Nell Officer",
    "email": "nell@example.gov",
    "role": Role.OFFICER.value,
    "password": STRONG,
    "reason": "joined the unit",
}


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def officer(make_account) -> Account:
    return make_account("o.fficer", Role.OFFICER)


def _state() -> tuple[object, ...]:
    return (
        LedgerEntry.objects.count(),
        sorted(Account.objects.values_list("username", "role", "is_active", "password")),
    )


def _new_entries(count_before: int) -> list[dict]:
    return [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=count_before)]


def _opens(entry: dict, field: str, value: str) -> bool:
    salt = CommitmentSalt.objects.get(seq=entry["seq"], field=field)
    return verify_commitment(entry["commitments"][field], value, bytes.fromhex(salt.salt))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# ---------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------


def test_list_shows_accounts_with_role_and_status(admin_client, officer, admin_actor):
    gone = Account.objects.create(username="a.gone", role=Role.AUDITOR.value)
    do_deactivate_account(gone.pk, actor=admin_actor, reason="left")
    response = admin_client.get("/accounts/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<caption>3 accounts</caption>" in page
    assert 'href="/accounts/new/"' in page
    # Active accounts first, then by username ("a.gone" sorts first by name alone).
    usernames = re.findall(r'data-label="Username">(?:<a [^>]*>)?([^<]+)<', page)
    assert usernames == ["admin", "o.fficer", "a.gone"]
    assert "Officer (searcher)" in page
    assert "Deactivated" in page
    assert f'action="/accounts/{officer.pk}/deactivate/"' in page
    assert f'action="/accounts/{gone.pk}/reactivate/"' in page
    # No button to deactivate yourself.
    admin = Account.objects.get(username="admin")
    assert f"/accounts/{admin.pk}/deactivate/" not in page


# ---------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------


def test_create_form_renders(admin_client):
    response = admin_client.get("/accounts/new/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("username", "full_name", "email", "role", "password", "reason"):
        assert f'name="{name}"' in page
    assert 'type="password"' in page


def test_create_account_through_the_form(admin_client, admin):
    before = LedgerEntry.objects.count()
    response = admin_client.post("/accounts/new/", FORM)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    account = Account.objects.get(username="new.officer")
    assert account.role == Role.OFFICER.value
    assert (account.first_name, account.last_name) == ("Nell", "Officer")
    assert account.email == "nell@example.gov"
    assert account.is_active
    assert account.check_password(STRONG)
    [entry] = _new_entries(before)
    assert entry["event"] == "ACCOUNT_CREATED"
    assert entry["data"] == {"role": "officer", "has_password": True}
    assert entry["object"]["id"] == str(account.pk)
    assert entry["actor"] == admin.pk
    assert _opens(entry, "reason", "joined the unit")
    # The entry carries the id of the request that caused it.
    assert entry["request_id"] == response["X-Request-ID"]
    followed = admin_client.get(response["Location"])
    assert _messages(followed) == ["Account new.officer created."]


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"username": "ADMIN"}, "username", "the username &#x27;ADMIN&#x27; is taken"),
        ({"username": ""}, "username", "This field is required."),
        ({"password": "short"}, "password", "Ensure this value has at least 12 characters"),
        ({"password": "123456789012"}, "password", "This password is entirely numeric."),
        ({"password": "password1234"}, "password", "This password is too common."),
        ({"reason": ""}, "reason", "This field is required."),
        ({"role": "root"}, "role", "Select a valid choice."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"username": "bad name!"}, "username", "Enter a valid username."),
    ],
)
def test_invalid_form_rerenders_with_the_error_and_writes_nothing(
    admin_client, changes, field, error
):
    before = _state()
    response = admin_client.post("/accounts/new/", {**FORM, **changes})
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page
    assert field in response.context["form"].errors
    # The entered values come back (except the password).
    if "username" not in changes:
        assert 'value="new.officer"' in page
    assert STRONG not in page
    assert _state() == before


def test_duplicate_username_is_case_insensitive(admin_client, officer):
    before = _state()
    response = admin_client.post("/accounts/new/", {**FORM, "username": "O.Fficer"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["the username 'O.Fficer' is taken"]
    assert _state() == before


def test_get_with_form_data_creates_nothing(admin_client):
    before = _state()
    response = admin_client.get("/accounts/new/", FORM)
    assert response.status_code == 200
    assert not response.context["form"].is_bound
    assert _state() == before


# ---------------------------------------------------------------------------------------
# Deactivate and reactivate
# ---------------------------------------------------------------------------------------


def test_deactivate_and_reactivate_with_a_reason(admin_client, officer, admin):
    before = LedgerEntry.objects.count()
    response = admin_client.post(f"/accounts/{officer.pk}/deactivate/", {"reason": "left"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    officer.refresh_from_db()
    assert not officer.is_active
    assert _messages(admin_client.get("/accounts/")) == ["Account o.fficer: deactivated."]

    response = admin_client.post(f"/accounts/{officer.pk}/reactivate/", {"reason": "returned"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.is_active
    assert _messages(admin_client.get("/accounts/")) == ["Account o.fficer: reactivated."]

    entries = _new_entries(before)
    assert [e["event"] for e in entries] == ["ACCOUNT_DEACTIVATED", "ACCOUNT_REACTIVATED"]
    assert {e["object"]["id"] for e in entries} == {str(officer.pk)}
    assert {e["actor"] for e in entries} == {admin.pk}
    assert _opens(entries[0], "reason", "left")
    assert _opens(entries[1], "reason", "returned")


def test_deactivated_account_is_signed_out(admin_client, officer):
    officer_client = Client()
    officer_client.force_login(officer)
    assert officer_client.get("/").status_code == 200
    admin_client.post(f"/accounts/{officer.pk}/deactivate/", {"reason": "left"})
    response = officer_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_reason_is_required(admin_client, officer, reason):
    before = _state()
    data = {} if reason is None else {"reason": reason}
    response = admin_client.post(f"/accounts/{officer.pk}/deactivate/", data)
    assert response.status_code == 302
    assert _state() == before
    assert _messages(admin_client.get("/accounts/")) == ["Give a reason for the change."]


def test_deactivating_yourself_is_refused_with_a_message(admin_client, admin):
    before = _state()
    response = admin_client.post(f"/accounts/{admin.pk}/deactivate/", {"reason": "x"})
    assert response.status_code == 302
    assert _state() == before
    assert _messages(admin_client.get("/accounts/")) == ["you cannot deactivate your own account"]


def test_reactivating_an_active_account_is_refused_with_a_message(admin_client, officer):
    before = _state()
    admin_client.post(f"/accounts/{officer.pk}/reactivate/", {"reason": "x"})
    assert _state() == before
    assert _messages(admin_client.get("/accounts/")) == ["the account is already active"]


def test_deactivating_twice_is_refused_with_a_message(admin_client, officer):
    admin_client.post(f"/accounts/{officer.pk}/deactivate/", {"reason": "left"})
    admin_client.get("/accounts/")  # consume the success message
    before = _state()
    admin_client.post(f"/accounts/{officer.pk}/deactivate/", {"reason": "again"})
    assert _state() == before
    assert _messages(admin_client.get("/accounts/")) == ["the account is already deactivated"]


def test_status_change_of_an_unknown_account_is_404(admin_client):
    before = _state()
    response = admin_client.post("/accounts/999999/deactivate/", {"reason": "x"})
    assert response.status_code == 404
    assert _state() == before
