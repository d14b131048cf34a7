"""Secrets never reach the logs or the ledger.

One journey through everything that handles a secret, with every log record captured at
DEBUG (the root logger and django.server, which does not propagate), everything written to
stdout and stderr (the console e-mail backend included), and afterwards every column of
every ledger entry and checkpoint. None of the secrets may appear in any of them, in clear,
in base64 (standard or URL-safe, with or without padding) or in hex:

* passwords: the administrator's, one set through the new-account form, a wrong one tried;
* the TOTP secret (hex as stored, base32 as in the otpauth URI) and every code typed;
* API tokens: one issued through the page and used, and a made-up one that is refused;
* every session key the journey was given;
* SECRET_KEY, the webhook secret, the OIDC client secret, the probe master key and the
  ledger's signing key.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
import threading
from base64 import b32decode
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.sso import SsoBackend
from searchledger.apps.accounts.tests.support import OIDC_SETTINGS, oidc_settings, totp_code
from searchledger.apps.accounts.tests.test_sso import _id_token
from searchledger.apps.findings import actions as findings
from searchledger.apps.findings.tests.test_webhooks import _Receiver
from searchledger.apps.findings.webhooks import deliver_webhooks
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry
from searchledger.apps.web.tests.test_authorization import _probe_search
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/mfa/verify/"


def _variants(secret: str | bytes) -> set[str]:
    """``secret`` as it could leak: in clear, base64 (both alphabets, padded or not), hex."""
    raw = secret.encode() if isinstance(secret, str) else secret
    forms = {raw.hex(), raw.hex().upper()}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms |= {text, text.rstrip("=")}
    if isinstance(secret, str):
        forms.add(secret)
    return {form for form in forms if form}


class Secrets:
    """Every secret the journey handles, by what it is."""

    def __init__(self) -> None:
        self.found: dict[str, set[str]] = {}

    def add(self, what: str, secret: str | bytes) -> None:
        self.found.setdefault(what, set()).update(_variants(secret))

    def add_code(self, code: str) -> None:
        # Six digits: looked for as a number on its own, and not as the microseconds of a
        # timestamp (".123456"), which the ledger's times are full of.
        self.found.setdefault("totp code", set()).add(code)

    def leaks(self, text: str) -> list[str]:
        """Which secrets appear in ``text``."""
        leaked = []
        for what, forms in self.found.items():
            for form in forms:
                if what == "totp code":
                    hit = re.search(rf"(?<![\d.]){form}(?!\d)", text) is not None
                else:
                    hit = form in text
                if hit:
                    leaked.append(f"{what} ({form[:6]}...)")
        return leaked


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at DEBUG and above, django.server's too."""
    caplog.set_level(logging.DEBUG)
    server = logging.getLogger("django.server")
    server.addHandler(caplog.handler)
    level = server.level
    server.setLevel(logging.DEBUG)
    yield caplog
    server.removeHandler(caplog.handler)
    server.setLevel(level)


@pytest.fixture
def receiver(settings) -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SEARCHLEDGER_WEBHOOK_URLS = server.url
    yield server
    server.shutdown()
    server.server_close()


def _session_key(client: Client, found: Secrets) -> None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is not None and cookie.value:
        found.add("session key", cookie.value)


def _sign_in(client: Client, username: str, password: str) -> None:
    response = client.post("/sign-in/", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:300]


def _log_text(logs: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in logs.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        lines.append(repr(getattr(record, "request", "")))
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def _ledger_text() -> str:
    rows = [repr(row) for row in LedgerEntry.objects.values_list()]
    rows += [repr(row) for row in Checkpoint.objects.values_list()]
    return "\n".join(rows)


def test_no_secret_reaches_the_logs_or_the_ledger(logs, receiver, capsys, tmp_path):
    found = Secrets()
    secret_key = secrets.token_urlsafe(50)
    webhook_secret = secrets.token_urlsafe(32)
    found.add("SECRET_KEY", secret_key)
    found.add("webhook secret", webhook_secret)
    found.add("OIDC client secret", OIDC_SETTINGS["OIDC_RP_CLIENT_SECRET"])
    probe_key = Path(settings.SEARCHLEDGER_PROBE_KEY_FILE).read_text().strip()
    found.add("probe master key", probe_key)
    found.add("probe master key", base64.b64decode(probe_key))
    signing_key = Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE).read_text().strip()
    found.add("signing key", signing_key)
    found.add("signing key", signing_key.rsplit("+", 1)[-1])

    with override_settings(SECRET_KEY=secret_key, SEARCHLEDGER_WEBHOOK_SECRET=webhook_secret):
        _journey(found)

    captured = capsys.readouterr()
    places = {
        "logs": _log_text(logs),
        "stdout": captured.out,
        "stderr": captured.err,
        "ledger": _ledger_text(),
    }
    # The journey did what it claims (else the search below proves nothing).
    assert len(found.found["session key"]) >= 5
    assert len(found.found["totp code"]) >= 2
    assert "sign-in: account=" in places["logs"]
    assert "API token refused" in places["logs"]
    for event in ("ACCOUNT_MFA_ENROLLED", "ACCOUNT_TOKEN_ISSUED", "FINDING_RAISED"):
        assert f'"event":"{event}"' in places["ledger"], event
    assert len(receiver.received) >= 1
    leaks = {place: found.leaks(text) for place, text in places.items()}
    assert leaks == {"logs": [], "stdout": [], "stderr": [], "ledger": []}


def _journey(found: Secrets) -> None:
    """Everything that handles a secret, through the pages where there is one."""
    admin_password = secrets.token_urlsafe(18)
    found.add("password", admin_password)
    admin = do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=admin_password,
        actor=Actor.system(),
        reason="bootstrap",
    )
    admin_actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)

    # A wrong password, then the right one.
    browser = Client()
    wrong = "wrong-" + secrets.token_urlsafe(12)
    found.add("password", wrong)
    assert browser.post("/sign-in/", {"username": "admin", "password": wrong}).status_code == 200
    _sign_in(browser, "admin", admin_password)
    _session_key(browser, found)

    # A new account with a password, through the page.
    officer_password = secrets.token_urlsafe(18)
    found.add("password", officer_password)
    response = browser.post(
        "/accounts/new/",
        {
            "username": "oscar",
            "full_name": "Oscar Officer",
            "email": "",
            "role": Role.OFFICER.value,
            "password": officer_password,
            "reason": "joined",
        },
    )
    assert response.status_code == 302, response.content[:300]
    officer = Account.objects.get(username="oscar")

    # The officer enrols an authenticator from the enrolment page, and signs in with it.
    phone = Client()
    _sign_in(phone, "oscar", officer_password)
    _session_key(phone, found)
    page = phone.get("/accounts/mfa/enrol/").content.decode()
    uri = unquote(re.search(r'id="otpauth-uri">([^<]+)<', page).group(1))  # type: ignore[union-attr]
    secret_b32 = parse_qs(urlsplit(uri.replace("&amp;", "&")).query)["secret"][0]
    key = b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    found.add("TOTP secret", secret_b32)
    found.add("TOTP secret", key)
    code = totp_code(key.hex())
    found.add_code(code)
    assert phone.post("/accounts/mfa/enrol/", {"code": code}).status_code == 302
    _session_key(phone, found)
    phone.post("/sign-out/")
    _sign_in(phone, "oscar", officer_password)
    _session_key(phone, found)
    code = totp_code(key.hex(), offset=30)
    found.add_code(code)
    assert phone.post(VERIFY, {"code": code}).status_code == 302
    _session_key(phone, found)

    # A personal API token, issued on its page and used; a made-up one, refused.
    response = phone.post(
        "/accounts/tokens/new/", {"name": "sync", "scopes": "view_systems", "lifetime_days": "90"}
    )
    assert response.status_code == 200, response.content[:300]
    token = re.search(r'id="new-token"[^>]*value="([^"]+)"', response.content.decode())
    assert token is not None
    found.add("API token", token.group(1))
    found.add("API token", token.group(1).rsplit("_", 1)[-1])
    api = Client()
    assert (
        api.get("/api/systems", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code
        == 200
    )
    made_up = "sl_abcd1234_" + secrets.token_urlsafe(24)
    found.add("API token", made_up)
    assert (
        api.get("/api/systems", headers={"Authorization": f"Bearer {made_up}"}).status_code == 401
    )

    # A probe image, stored under the master key and looked at.
    probed = _probe_search(admin_actor, Actor(account_id=officer.pk, role=Role.OFFICER))
    assert phone.get(f"/searches/{probed}/probe/image").status_code == 200

    # A finding, delivered to a webhook signed with its secret.
    with transaction.atomic():
        findings.raise_finding(
            findings.FindingDraft(
                source="reconciliation",
                kind="unknown_account",
                severity="high",
                summary="An account the agency does not know searched MIRS.",
                source_ref="secrets-test",
            ),
            actor=admin_actor,
        )
    [delivered] = deliver_webhooks()
    assert delivered.delivered >= 1, delivered

    # Single sign-on with the client secret: the start, and an ID token it signed (HS256).
    with oidc_settings(OIDC_RP_SIGN_ALGO="HS256"):
        start = Client().get("/oidc/authenticate/")
        assert start.status_code == 302
        assert OIDC_SETTINGS["OIDC_RP_CLIENT_SECRET"] not in start["Location"]
        assert SsoBackend().verify_token(_id_token(), nonce="n-1")["sub"] == "7d2c-officer"

    # A checkpoint signed with the ledger's key; everyone signs out.
    sign_checkpoint_if_grown()
    browser.post("/sign-out/")
    phone.post("/sign-out/")


def test_the_search_finds_a_secret_in_each_form():
    # Guards the test above: a leak in any of the forms it claims to look for is found.
    found = Secrets()
    found.add("password", "correct horse battery")
    found.add_code("123456")
    raw = b"correct horse battery"
    for leaked in (
        "password=correct horse battery",
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
    ):
        named = {leak.split(" (")[0] for leak in found.leaks(f"log line: {leaked} end")}
        assert named == {"password"}, leaked
    assert found.leaks("code 123456 accepted") == ["totp code (123456...)"]
    # Not the microseconds of a timestamp, nor part of a longer number.
    assert found.leaks("2026-11-25T14:53:27.123456+00:00 id 91234567") == []
