"""The foundation's main journey in a real browser: an administrator creates an account,
and an auditor sees that change on the ledger and fetches the signed checkpoint."""

from __future__ import annotations

import json

import pytest

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.ledger.checkpoint import open_checkpoint

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple 42"


def sign_in(page, username: str) -> None:
    page.goto(page.base + "/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base + "/")


def test_admin_creates_account_and_auditor_sees_it_on_the_ledger(page):
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
        actor=Actor.system(),
        reason="bootstrap",
    )
    do_create_account(
        username="auditor",
        role=Role.AUDITOR,
        password=PASSWORD,
        actor=Actor(account_id=admin.pk, role=Role.ADMINISTRATOR),
        reason="audit",
    )

    sign_in(page, "admin")
    page.click("text=Accounts")
    page.click("text=New account")
    page.fill("#id_username", "new.officer")
    page.fill("#id_full_name", "Nia Officer")
    page.select_option("#id_role", "officer")
    page.fill("#id_password", "short")
    page.fill("#id_reason", "joined the field office")
    page.click("button:has-text('Create account')")
    # Too short a password: the form says so and nothing is written.
    assert page.locator(".usa-error-message").first.is_visible()
    assert not Account.objects.filter(username="new.officer").exists()
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Create account')")
    page.wait_for_url(page.base + "/accounts/")
    assert page.locator("text=Account new.officer created.").is_visible()
    created = Account.objects.get(username="new.officer")
    last = json.loads(LedgerEntry.objects.order_by("-seq")[0].body)
    assert last["event"] == "ACCOUNT_CREATED"
    assert last["object"]["id"] == str(created.pk)
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in/**")

    sign_in(page, "auditor")
    assert page.locator("nav >> text=Accounts").count() == 0
    page.click("nav >> text=Ledger")
    row = page.locator("table tbody tr").first
    assert "ACCOUNT_CREATED" in row.inner_text()
    assert f"accounts.account {created.pk}" in row.inner_text()
    assert "Nia" not in page.content()

    response = page.goto(page.base + "/ledger/checkpoint")
    note = response.text()
    checkpoint, _ = open_checkpoint(note, load_verifier())
    assert checkpoint.size == LedgerEntry.objects.count() == 3

    # The auditor's role may not open account administration.
    response = page.goto(page.base + "/accounts/")
    assert response.status == 403
