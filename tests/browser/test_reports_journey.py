"""Issue 6's dashboard and transparency report in a real browser, each page checked with
axe-core (vendored in tests/browser/vendor) for accessibility violations: a supervisor
reads the dashboard and narrows it (htmx); an administrator drafts and publishes the
report; an anonymous visitor reads it, with its charts and suppressed counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchledger.apps.reports.models import PublishedReport

from .test_ledger_journey import sign_in
from .test_review_journey import _searches
from .test_search_journey import _set_up

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now (WCAG 2.x A and AA, and best
    practices), with the nodes it was found on."""
    # Evaluated by the test driver, not added as a <script>: the Content-Security-Policy
    # refuses inline scripts, and axe-core is no part of the pages.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def assert_accessible(page: Any) -> None:
    """No axe-core violation, or a readable list of them."""
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_dashboard_and_transparency_report_pages_have_no_accessibility_violations(page, browser):
    _set_up()
    _searches()  # one search by oscar, approved in advance by sam

    sign_in(page, "sam")
    page.click("nav >> text=Dashboard")
    page.wait_for_selector("#dashboard-figures")
    figures = page.inner_text("#dashboard-figures")
    assert "MIRS" in figures
    assert page.locator("#dashboard-figures svg[role=img]").count() == 3
    assert_accessible(page)
    # Narrowing to a month with nothing in it replaces the figures in place (htmx).
    page.fill("#id_first_month", "2020-01")
    page.fill("#id_last_month", "2020-01")
    page.dispatch_event("#id_last_month", "change")
    page.wait_for_selector("#dashboard-figures >> text=No searches or grants in this period.")
    assert "first_month=2020-01" in page.url
    assert_accessible(page)

    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    admin_page = admin.new_page()
    admin_page.set_default_timeout(15000)
    admin_page.base = page.base
    sign_in(admin_page, "admin")
    admin_page.goto(page.base + "/reports/transparency/")
    admin_page.wait_for_selector("text=The draft")
    assert_accessible(admin_page)
    admin_page.fill("#id_publish-agency_title", "Example Agency")
    admin_page.click("button:has-text('Publish')")
    admin_page.wait_for_selector("h1:has-text('Example Agency')")
    published = PublishedReport.objects.get()
    assert f"/transparency/{published.pk}/" in admin_page.url
    admin.close()

    visitor = browser.new_context(viewport={"width": 1280, "height": 900})
    public = visitor.new_page()
    public.set_default_timeout(15000)
    public.goto(page.base + "/transparency/")
    assert_accessible(public)
    public.click("text=Example Agency")
    public.wait_for_selector("text=Small counts are suppressed")
    text = public.inner_text("main")
    assert f"Computed from ledger checkpoint {published.checkpoint_size}" in text
    assert "suppressed" in text  # one search: every count of it is below 5
    assert public.locator("svg[role=img]").count() == 3
    assert_accessible(public)
    visitor.close()


def test_the_axe_check_finds_a_real_violation(page):
    # Guards the check above: an image without alternative text must be reported.
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert "image-alt" in [v["id"] for v in axe_violations(page)]
