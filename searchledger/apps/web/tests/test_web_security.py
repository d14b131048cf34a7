"""Security headers on every page type, and CSRF on every form and every POST.

Generated from the authorization matrix (``test_authorization.MATRIX``), which names every
URL pattern of the URLconf with an example request, so a new page or endpoint is covered
here as soon as it is in the matrix (and the matrix test fails until it is):

* every answer carries the Content-Security-Policy (no 'unsafe-inline', no 'unsafe-eval'),
  X-Content-Type-Options, Referrer-Policy, X-Frame-Options DENY, Cross-Origin-Opener-Policy
  and Permissions-Policy; answers to a signed-in session or a token are not cached;
* every ``<form method="post">`` on every page every role can open carries Django's CSRF
  token;
* a POST without the token to every URL of the matrix (its pages and its POST examples), as
  a role allowed to use it, is refused with 403 and changes nothing; the API refuses a
  session cookie without the token, and takes a bearer token without one (no ambient
  credential to forge).
"""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from typing_extensions import override

from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_issue_api_token
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.web.tests.test_authorization import (
    ADMINISTRATOR_ROLE,
    ANONYMOUS,
    GRANT_REQUEST,
    MATRIX,
    Kind,
    Probe,
    World,
    _snapshot,
)
from searchledger.apps.web.tests.test_authorization import world as matrix_world
from searchledger.core.roles import Permission, Role

pytestmark = pytest.mark.django_db

# The matrix's module-wide world (accounts of every role and the records its example
# requests refer to), built once for this module too.
world = matrix_world

ROLES = sorted(role.value for role in Role)


def _who_may(name: str) -> str:
    """The role (or anonymous visitor) that the example requests of ``name`` are sent as:
    the administrator when allowed, else the first allowed role; for a URL opened to nobody,
    the administrator."""
    rule = MATRIX[name]
    if rule.kind is Kind.PUBLIC:
        return ANONYMOUS
    if not rule.allowed or ADMINISTRATOR_ROLE in rule.allowed:
        return ADMINISTRATOR_ROLE
    return sorted(rule.allowed)[0]


def _context(world: World, who: str) -> dict[str, object]:
    context = {**world.context, "me": world.accounts.get(who, 0)}
    context["mine"] = world.context.get(f"mine_{who}", 0)
    return context


def _signed_in(world: World, who: str, *, csrf: bool) -> Client:
    """A client signed in as ``who``, holding the CSRF cookie as a browser would (from a
    page with a form), so a refusal is for the missing token, not for a missing cookie."""
    client = Client(enforce_csrf_checks=csrf)
    if who != ANONYMOUS:
        client.force_login(Account.objects.get(pk=world.accounts[who]))
    client.get("/" if who != ANONYMOUS else "/sign-in/")
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


def _get_probes() -> list[tuple[str, Probe]]:
    return [(n, p) for n, rule in MATRIX.items() for p in rule.probes if p.method == "get"]


# ---------------------------------------------------------------------------------------
# Security headers
# ---------------------------------------------------------------------------------------


def _policy(header: str) -> dict[str, list[str]]:
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {words[0]: words[1:] for words in directives}


# The probe image view's own policy: the image alone, sandboxed (searches/probe_views.py).
PROBE_IMAGE_POLICY = {"default-src": ["'none'"], "sandbox": []}


def assert_security_headers(response, *, signed_in: bool, page: bool = True) -> None:
    """The headers every answer carries; ``signed_in``: it must not be cached either;
    ``page``: not a static file (WhiteNoise answers those before the X-Frame-Options
    middleware; the policy's frame-ancestors covers them)."""
    header = response.get("Content-Security-Policy", "")
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    policy = _policy(header)
    if policy != PROBE_IMAGE_POLICY:
        assert policy == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    if page:
        assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == settings.SEARCHLEDGER_PERMISSIONS_POLICY
    assert "camera=()" in response["Permissions-Policy"]
    if signed_in:
        assert "no-store" in response["Cache-Control"] or response["Cache-Control"] == (
            # The ledger's full tiles never change and hold no personal data in clear.
            "private, max-age=31536000, immutable"
        ), response.get("Cache-Control")


@pytest.mark.parametrize(("name", "probe"), _get_probes())
def test_every_page_type_carries_the_security_headers(name, probe, world):
    who = _who_may(name)
    path = probe.path.format(**_context(world, who))
    response = world.client(who).get(path)
    assert response.status_code != 500
    assert_security_headers(response, signed_in=who != ANONYMOUS)
    if response.get("Cache-Control", "").startswith("private, max-age"):
        assert name in {"ledger:tile", "api:tile"}, name
    if _policy(response["Content-Security-Policy"]) == PROBE_IMAGE_POLICY:
        assert name == "searches:probe_image", name


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (ANONYMOUS, "/ledger/", 302),  # sent to sign in
        (Role.OFFICER.value, "/ledger/", 403),  # refused
        (Role.OFFICER.value, "/no-such-page/", 404),
        (ANONYMOUS, "/api/ledger/head", 401),
        (ANONYMOUS, "/sign-in/", 200),
        (ANONYMOUS, "/healthz", 200),
        (ANONYMOUS, "/static/searchledger/site.css", 200),
    ],
)
def test_refusals_errors_and_static_files_carry_the_headers_too(who, path, status, world):
    response = world.client(who).get(path)
    assert response.status_code == status
    page = not path.startswith("/static/")
    assert_security_headers(response, signed_in=who != ANONYMOUS, page=page)


def test_the_api_with_a_token_is_not_cached(world):
    token = _token(world, Permission.VIEW_SYSTEMS)
    response = Client().get("/api/systems", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert_security_headers(response, signed_in=True)


# ---------------------------------------------------------------------------------------
# CSRF: every form carries the token
# ---------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Each ``<form>``: its method, action and the names of the inputs inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self._open: dict[str, object] | None = None

    @override
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self._open = {
                "method": (values.get("method") or "get").lower(),
                "action": values.get("action") or "",
                "inputs": set(),
            }
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None:
            inputs = self._open["inputs"]
            assert isinstance(inputs, set)
            inputs.add((values.get("name"), values.get("type")))

    @override
    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def _forms(html: str) -> list[dict[str, object]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def test_the_form_parser_sees_a_missing_token():
    # Guards the test below: a form without the token is seen as one.
    page = (
        '<form method="POST" action="/x/"><input name="csrfmiddlewaretoken" type="hidden">'
        '</form><form method="post"><input name="reason"></form><form><input name="q"></form>'
    )
    forms = _forms(page)
    assert [f["method"] for f in forms] == ["post", "post", "get"]
    assert ("csrfmiddlewaretoken", "hidden") in forms[0]["inputs"]  # type: ignore[operator]
    assert ("csrfmiddlewaretoken", "hidden") not in forms[1]["inputs"]  # type: ignore[operator]


@pytest.mark.parametrize("who", [*ROLES, ANONYMOUS])
def test_every_post_form_on_every_page_carries_the_csrf_token(who, world):
    client = world.client(who)
    context = _context(world, who)
    pages = 0
    post_forms = 0
    for name, probe in _get_probes():
        if who not in MATRIX[name].allowed:
            continue
        response = client.get(probe.path.format(**context))
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        for form in _forms(response.content.decode()):
            if form["method"] != "post":
                continue
            post_forms += 1
            inputs = form["inputs"]
            assert isinstance(inputs, set)
            assert ("csrfmiddlewaretoken", "hidden") in inputs, (name, who, form["action"])
            # Posted to this site only (a relative URL, never another origin).
            action = str(form["action"])
            assert action == "" or (action.startswith("/") and not action.startswith("//"))
    # Every role has pages with forms (sign-out, at least); the walk must have seen them.
    assert pages > 0
    assert post_forms > 0


# ---------------------------------------------------------------------------------------
# CSRF: a POST without the token is refused and changes nothing
# ---------------------------------------------------------------------------------------


def _post_cases() -> list[tuple[str, Probe]]:
    """Every example path of the matrix, to be POSTed: the POST examples with their data,
    and every page (a form's GET) with none."""
    return [(name, probe) for name, rule in MATRIX.items() for probe in rule.probes]


def _post(client: Client, probe: Probe, path: str, context: dict[str, object], **extra):
    data = {key: value.format(**context) for key, value in probe.data.items()}
    if probe.json:
        return client.post(path, json.dumps(data), content_type="application/json", **extra)
    return client.post(path, data, **extra)


@pytest.mark.parametrize(("name", "probe"), _post_cases())
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(name, probe, world):
    rule = MATRIX[name]
    who = _who_may(name)
    context = _context(world, who)
    path = probe.path.format(**context)
    client = _signed_in(world, who, csrf=True)
    before = _snapshot()
    entries = LedgerEntry.objects.count()
    response = _post(client, probe, path, context)
    assert _snapshot() == before, f"POST {path} without a CSRF token changed state"
    assert LedgerEntry.objects.count() == entries
    if rule.kind is Kind.API:
        # ninja's session authentication refuses the write (CSRF check failed); a route
        # with no POST operation at all answers 405.
        expected = {401, 403} if probe.method == "post" else {401, 403, 405}
        assert response.status_code in expected, (name, response.content[:200])
        return
    # Pages: Django's CSRF middleware refuses before the view (or the gate) runs.
    assert response.status_code == 403, (name, who, path)
    assert b"CSRF verification failed" in response.content, response.content[:300]


def _token(world: World, permission: Permission) -> str:
    admin = world.accounts[ADMINISTRATOR_ROLE]
    return do_issue_api_token(
        admin,
        name="csrf test",
        scopes=[permission],
        expires_at=timezone.now() + timedelta(days=1),
        actor=world.actor(ADMINISTRATOR_ROLE),
    ).secret


@pytest.fixture
def csrf_client(world) -> Client:
    """The administrator's browser session, with CSRF enforced, holding the CSRF cookie."""
    return _signed_in(world, ADMINISTRATOR_ROLE, csrf=True)


def _grant_request(world: World) -> str:
    body = {
        **GRANT_REQUEST,
        "account_id": world.accounts[ADMINISTRATOR_ROLE],
        "starts_on": world.context["today"],
        "expires_on": world.context["later"],
    }
    return json.dumps(body)


def test_the_api_takes_a_session_write_only_with_the_csrf_token(world, csrf_client):
    before = AccessGrant.objects.count()
    refused = csrf_client.post("/api/grants", _grant_request(world), "application/json")
    assert refused.status_code in {401, 403}
    assert AccessGrant.objects.count() == before
    # The same request with the token (header, as htmx and scripts send it) is taken, so
    # the refusal above was the CSRF check and nothing else.
    token = csrf_client.cookies[settings.CSRF_COOKIE_NAME].value
    taken = csrf_client.post(
        "/api/grants", _grant_request(world), "application/json", headers={"X-CSRFToken": token}
    )
    assert taken.status_code == 201, taken.content
    assert AccessGrant.objects.count() == before + 1


def test_a_bearer_token_needs_no_csrf_token_and_a_bad_one_opens_no_session(world, csrf_client):
    before = AccessGrant.objects.count()
    # A bearer token is no ambient credential (a cross-site form cannot send the header):
    # no CSRF token is needed, and none of the session's cookies are.
    token = _token(world, Permission.REQUEST_GRANT)
    taken = Client(enforce_csrf_checks=True).post(
        "/api/grants",
        _grant_request(world),
        "application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert taken.status_code == 201, taken.content
    # A made-up bearer token beside the session cookie does not skip the session's CSRF
    # check: a presented token that fails is refused outright.
    forged = csrf_client.post(
        "/api/grants",
        _grant_request(world),
        "application/json",
        headers={"Authorization": "Bearer sl_nothing_here"},
    )
    assert forged.status_code == 401
    assert AccessGrant.objects.count() == before + 1


def test_the_html_pages_ignore_a_bearer_token(world):
    # Tokens are for the API: a page refuses a token-only request (sent to sign in), so a
    # page's form can never be posted with a token instead of a session and its CSRF token.
    token = _token(world, Permission.MANAGE_ACCOUNTS)
    response = Client(enforce_csrf_checks=True).get(
        "/accounts/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
