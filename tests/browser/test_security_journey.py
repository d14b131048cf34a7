"""Sign-in security in a real browser: an officer sets up an authenticator app from the QR
page, signs in again with password and code, and makes an API token that works at the API
but not for pages."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from base64 import b32decode
from urllib.parse import parse_qs, urlsplit

import pytest

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import ApiToken
from searchledger.apps.accounts.tests.support import totp_code
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

from .test_ledger_journey import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# Set to a directory to keep a screenshot of the enrolment page (to look at the QR code).
SCREENSHOT_DIR = os.environ.get("SEARCHLEDGER_SCREENSHOTS", "")


def _fetch(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310  # the live test server
            return response.status, response.geturl()
    except urllib.error.HTTPError as exc:
        return exc.code, url


def test_officer_enrols_an_authenticator_signs_in_with_a_code_and_makes_a_token(page):
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
        actor=Actor.system(),
        reason="bootstrap",
    )
    do_create_account(
        username="oscar",
        role=Role.OFFICER,
        password=PASSWORD,
        full_name="Oscar Officer",
        actor=Actor(account_id=admin.pk, role=Role.ADMINISTRATOR),
        reason="test",
    )

    # Password only, as before any authenticator.
    page.goto(page.base + "/sign-in/")
    page.fill("#id_username", "oscar")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base + "/")

    # Set up the authenticator app from the QR page.
    page.click("nav >> text=Security")
    page.click("text=Set up an authenticator app")
    assert page.locator(".sl-qr svg").is_visible()
    uri = page.locator("#otpauth-uri").text_content() or ""
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    key = b32decode(secret + "=" * (-len(secret) % 8)).hex()
    typed = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert typed == secret
    if SCREENSHOT_DIR:
        page.screenshot(path=f"{SCREENSHOT_DIR}/mfa-enrol.png", full_page=True)
    page.fill("#id_code", totp_code(key))
    page.click("button:has-text('Confirm')")
    page.wait_for_url(page.base + "/accounts/mfa/")
    assert "is enrolled" in page.locator("#mfa-state").inner_text()
    last = json.loads(LedgerEntry.objects.order_by("-seq")[0].body)
    assert last["event"] == "ACCOUNT_MFA_ENROLLED"

    # Sign out and in again: the code is the second step.
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in/**")
    page.fill("#id_username", "oscar")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/mfa/verify/.*"))
    # A code is good once: sign in with the next time step's (accepted for clock skew).
    page.fill("#id_code", totp_code(key, offset=30))
    page.click("button:has-text('Verify')")
    page.wait_for_url(page.base + "/")

    # Make an API token with one scope.
    page.click("nav >> text=Security")
    page.click("text=Your API tokens")
    page.click("text=New token")
    page.fill("#id_name", "case system sync")
    page.check("input[name=scopes][value=view_systems]")
    page.select_option("#id_lifetime_days", "30")
    page.click("button:has-text('Create token')")
    token = page.locator("#new-token").input_value()
    assert re.fullmatch(r"sl_[a-z0-9]{8}_[a-z0-9]{40}", token)
    stored = ApiToken.objects.get(name="case system sync")
    assert token.split("_")[2] not in stored.secret_hash

    # It works at the API, for its scope only, and never for pages.
    assert _fetch(page.base + "/api/systems", token)[0] == 200
    assert _fetch(page.base + "/api/grants", token)[0] == 403
    status, final = _fetch(page.base + "/systems/", token)
    assert status == 200
    assert urlsplit(final).path == "/sign-in/"
