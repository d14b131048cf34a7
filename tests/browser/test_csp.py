"""The Content-Security-Policy in a real browser: no page breaks it.

The policy refuses inline scripts, inline styles (``<style>`` blocks and ``style=``
attributes, in the HTML or set by a script) and eval. Chromium fires a
``securitypolicyviolation`` event, and logs a console error, for everything it refuses;
these tests collect both and fail on any. They visit:

* every page of the authorization matrix that answers HTML (each as the administrator, or
  the first role allowed; public pages as an anonymous visitor), with the matrix's world:
  lists and forms, grants, searches, findings, reviews, reconciliation, the reports
  dashboard with its charts, the ledger, MFA enrolment with its QR code, the public
  transparency report with its charts;
* for every role, the home page and every page its navigation links to;
* pages where htmx and USWDS's scripts act (the dashboard's filters swap the figures in
  place; the review checklist posts through htmx; the mobile menu opens).

A control test checks that an inline style and an inline script set on a page are caught.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from searchledger.apps.accounts.models import Account
from searchledger.apps.web.tests.test_authorization import (
    ADMINISTRATOR_ROLE,
    ANONYMOUS,
    MATRIX,
    Kind,
    _build_world,
)
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

# Registered before any of the page's own scripts run (Playwright injects it through the
# DevTools protocol, which the policy does not govern).
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":"
    + e.lineNumber + " " + (e.sample || "")
  );
});
"""


class Watched:
    """A browser page whose CSP violations (events and console errors) are collected."""

    def __init__(self, browser: Any, base: str, who: str, accounts: dict[str, int]) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.base = base
        if who != ANONYMOUS:
            # Signed in as Django's test client signs in, the session cookie handed over.
            client = Client()
            client.force_login(Account.objects.get(pk=accounts[who]))
            self.context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
            )
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.console: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and "Content Security Policy" in text:
            self.console.append(text)

    def visit(self, path: str) -> Any:
        """Open ``path`` and wait until it and its scripts have loaded."""
        # "load": the page's scripts (USWDS, htmx) have run; what they refuse is reported
        # by then. (Not "networkidle": the import progress page polls every two seconds.)
        return self.page.goto(self.base + path, wait_until="load")

    def violations(self) -> list[str]:
        """What the browser refused on the current page (and console errors so far)."""
        events = self.page.evaluate("window.__cspViolations || []")
        return [*events, *self.console]

    def close(self) -> None:
        self.context.close()


def _who(name: str) -> str:
    rule = MATRIX[name]
    if rule.kind is Kind.PUBLIC:
        return ANONYMOUS
    if ADMINISTRATOR_ROLE in rule.allowed:
        return ADMINISTRATOR_ROLE
    return sorted(rule.allowed)[0]


def _html_pages(world: Any) -> dict[str, list[tuple[str, str]]]:
    """Per visitor, (name, path) of every GET example of the matrix for pages."""
    pages: dict[str, list[tuple[str, str]]] = {}
    for name, rule in MATRIX.items():
        if rule.kind not in {Kind.PAGE, Kind.PUBLIC} or name.startswith("api:"):
            continue
        who = _who(name)
        context = {
            **world.context,
            "me": world.accounts.get(who, 0),
            "mine": world.context.get(f"mine_{who}", 0),
        }
        client = Client()
        if who != ANONYMOUS:
            client.force_login(Account.objects.get(pk=world.accounts[who]))
        for probe in rule.probes:
            if probe.method != "get":
                continue
            path = probe.path.format(**context)
            # Only what the browser shows as a page (not downloads: CSV, PDF, tiles).
            if client.get(path).get("Content-Type", "").startswith("text/html"):
                pages.setdefault(who, []).append((name, path))
    return pages


@pytest.fixture
def world() -> Any:
    """The authorization matrix's world, committed, for the live server to serve."""
    return _build_world()


def test_no_page_of_the_matrix_breaks_the_policy(browser, live_server, world):
    visited = 0
    failures: dict[str, list[str]] = {}
    for who, pages in sorted(_html_pages(world).items()):
        watched = Watched(browser, live_server.url, who, world.accounts)
        for name, path in pages:
            watched.visit(path)
            if who != ANONYMOUS:  # really signed in, not sent to the sign-in page
                assert "/sign-in/" not in watched.page.url, (name, path, who)
            visited += 1
            found = watched.violations()
            if found:
                failures[f"{name} {path} as {who}"] = found
            watched.console.clear()
        watched.close()
    assert failures == {}
    assert visited > 60, visited  # the walk saw the pages (73 on 2026-11-25)


def test_every_role_s_main_pages_keep_the_policy(browser, live_server, world):
    failures: dict[str, list[str]] = {}
    for role in Role:
        watched = Watched(browser, live_server.url, role.value, world.accounts)
        watched.visit("/")
        links = watched.page.eval_on_selector_all(
            "nav.usa-nav a.usa-nav-link", "links => links.map(a => a.getAttribute('href'))"
        )
        assert len(links) >= 3, (role, links)
        for href in ["/", *links]:
            watched.visit(href)
            found = watched.violations()
            if found:
                failures[f"{href} as {role.value}"] = found
            watched.console.clear()
        watched.close()
    assert failures == {}


def test_htmx_swaps_and_uswds_scripts_keep_the_policy(browser, live_server, world):
    watched = Watched(browser, live_server.url, ADMINISTRATOR_ROLE, world.accounts)
    page = watched.page
    # The dashboard: narrowing the period swaps the figures (and their SVG charts) in place.
    watched.visit("/reports/dashboard/")
    assert page.locator("svg.sl-chart").count() >= 1
    page.fill("#id_first_month", "2020-01")
    page.fill("#id_last_month", "2020-01")
    page.dispatch_event("#id_last_month", "change")
    page.wait_for_selector("#dashboard-figures >> text=No searches or grants in this period.")
    # USWDS's mobile menu: a narrow window, the menu button opens the navigation.
    page.set_viewport_size({"width": 480, "height": 900})
    page.click("button.usa-menu-btn")
    page.wait_for_selector("nav.usa-nav.is-visible")
    # MFA enrolment with its QR code.
    watched.visit("/accounts/mfa/enrol/")
    assert page.locator(".sl-qr svg").count() == 1
    assert watched.violations() == []
    watched.close()


def test_a_violation_is_caught(browser, live_server, world):
    # The control: without it, the tests above could pass because nothing was listening.
    watched = Watched(browser, live_server.url, ADMINISTRATOR_ROLE, world.accounts)
    watched.visit("/")
    assert watched.violations() == []
    watched.page.evaluate(
        """() => {
          document.querySelector("main").setAttribute("style", "color: red");
          const script = document.createElement("script");
          script.textContent = "window.__ran = true";
          document.body.append(script);
        }"""
    )
    watched.page.wait_for_timeout(200)  # the events are queued as tasks
    found = watched.violations()
    assert any(v.startswith("style-src-attr") for v in found), found
    assert any(v.startswith("script-src-elem") for v in found), found
    assert watched.page.evaluate("window.__ran === undefined")
    watched.close()
