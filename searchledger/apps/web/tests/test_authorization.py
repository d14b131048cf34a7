"""THE authorization matrix: every URL the project serves, and who may use it.

``MATRIX`` maps every URL pattern name in the URLconf (ninja's API operations and its docs
views included) to an example request and the roles allowed. A URL that is not in the
matrix fails ``test_every_url_pattern_is_in_the_matrix``, so nobody can add a page or an
endpoint without deciding who may use it. ``test_matrix`` sends each example request as
every role and as an anonymous visitor:

* an allowed role gets the documented success status;
* a signed-in role that is not allowed gets 403, on a page and from the API;
* an anonymous visitor is sent to /sign-in/ from a page and gets 401 from the API;
* a refused request changes nothing (no ledger entry, checkpoint or account change).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from searchledger.apps.accesslogs.tests.matrix import (
    ACCESS_LOG_MAPPING_FORM,
    SAMPLE_ACCESSLOG_CONTEXT,
    build_accesslog_world,
)
from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_deactivate_account,
)
from searchledger.apps.accounts.models import Account, ApiToken, OrgUnit
from searchledger.apps.accounts.security_actions import do_confirm_totp_device, do_issue_api_token
from searchledger.apps.accounts.tests.support import RFC_KEY, totp_code
from searchledger.apps.grants.actions import do_approve_grant, do_request_grant
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import create_signing_key
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry
from searchledger.apps.oversight.tests.matrix import (
    SAMPLE_OVERSIGHT_CONTEXT,
    build_oversight_world,
)
from searchledger.apps.reconciliation.models import ReconciliationRun
from searchledger.apps.reconciliation.tests.matrix import (
    RECONCILE_FORM,
    SAMPLE_RECONCILIATION_CONTEXT,
    build_reconciliation_world,
)
from searchledger.apps.reports.tests.matrix import (
    PUBLISH_FORM,
    SAMPLE_REPORT_CONTEXT,
    build_report_world,
)
from searchledger.apps.reviews.tests.matrix import (
    CHECKLIST_FORM,
    SAMPLE_REVIEW_CONTEXT,
    build_review_world,
)
from searchledger.apps.searches import actions as search_actions
from searchledger.apps.searches.models import Case, OffenceCategory, SearchPolicy, SearchRecord
from searchledger.apps.searches.probes import do_store_probe_image
from searchledger.apps.searches.tests.matrix import (
    CASE_UNIT,
    SAMPLE_SEARCH_CONTEXT,
    build_search_world,
)
from searchledger.apps.searches.tests.support import request as search_request
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.apps.systems.models import ExternalSystem, RulesVersion
from searchledger.apps.training.actions import do_acknowledge_rules, do_create_course
from searchledger.apps.training.models import Course, RulesAcknowledgment, TrainingCompletion
from searchledger.apps.web.tests import undeclared_urls
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
ROLES = frozenset(role.value for role in Role)
EVERYONE = ROLES | {ANONYMOUS}
ADMINISTRATOR_ROLE = Role.ADMINISTRATOR.value
ADMINISTRATOR = frozenset({ADMINISTRATOR_ROLE})
LEDGER_READERS = frozenset({Role.AUDITOR.value, Role.OVERSIGHT.value, Role.ADMINISTRATOR.value})


SEARCHERS = frozenset({Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMINISTRATOR.value})
RECOMMENDATION_KEEPERS = frozenset({Role.AUDITOR.value, Role.ADMINISTRATOR.value})
DECIDERS = frozenset({Role.SUPERVISOR.value, Role.ADMINISTRATOR.value})
COUNTERS = frozenset(
    {Role.SUPERVISOR.value, Role.AUDITOR.value, Role.OVERSIGHT.value, Role.ADMINISTRATOR.value}
)
# Supervisory review and findings (core.roles): oversight reads findings, and only that.
REVIEWERS = frozenset({Role.SUPERVISOR.value, Role.AUDITOR.value, Role.ADMINISTRATOR.value})
# Access-log import reports and external accounts (RECONCILE): auditors and administrators.
LOG_READERS = frozenset({Role.AUDITOR.value, Role.ADMINISTRATOR.value})
FINDING_READERS = REVIEWERS | {Role.OVERSIGHT.value}


class Kind(Enum):
    """How a refusal looks."""

    PAGE = "page"  # 403 when signed in without the permission; anonymous -> /sign-in/
    API = "api"  # 403 when signed in without the permission; anonymous -> 401
    PUBLIC = "public"  # open to everyone, signed in or not
    NOWHERE = "nowhere"  # opened to no one: 404 for everybody


@dataclass(frozen=True)
class Probe:
    """One example request. ``path`` and ``data`` may name the ``world`` fixture's keys:
    ``{me}`` (the requesting account), ``{officer}`` (an officer who reports to the
    supervisor), ``{grant}`` (that officer's requested grant to ``mirs``), ``{rules}``
    (mirs's current rules), ``{target}``/``{inactive}`` (an active and a deactivated
    officer), ``{signed}`` (the signed checkpoint size), ``{today}`` and ``{later}``,
    ``{enrolled}`` (an officer with a TOTP authenticator) and ``{token}`` (an API token of
    the administrator)."""

    method: str
    path: str
    data: dict[str, str] = field(default_factory=dict)
    json: bool = False
    success: int = 200
    # Public views that behave differently for a signed-in visitor (sign-in redirects home).
    success_signed_in: int | None = None
    # Ledger entries an allowed request appends.
    appends: int = 0


@dataclass(frozen=True)
class Rule:
    """Who may use one URL pattern, and how to try it."""

    kind: Kind
    allowed: frozenset[str]
    probes: tuple[Probe, ...]


def get(path: str) -> Probe:
    return Probe("get", path)


def post(path: str, data: dict[str, str], *, json: bool = False, success: int = 302) -> Probe:
    """A POST that, when allowed, appends exactly one ledger entry."""
    return Probe("post", path, data=data, json=json, success=success, appends=1)


NEW_ACCOUNT = {
    "username": "new.officer",
    "full_name": "New Officer",
    "email": "",
    "role": Role.OFFICER.value,
    "password": "correct horse battery staple",
    "reason": "joined the unit",
}
SYSTEM_FORM = {
    "name": "New system",
    "owner": "A state agency",
    "kind": "other",
    "access_method": "api",
    "privacy_assessment": "not_started",
    "in_service": "on",
    "recertify_every_days": "365",
}
GRANT_REQUEST = {
    "system": "leads",
    "job_function": "Criminal investigator",
    "justification": "Open cases need licence plate reader leads.",
    "starts_on": "{today}",
    "expires_on": "{later}",
}
SEARCH_REQUEST = {
    "system": "vendor",
    "purpose": "robbery",
    "case_system": "ICM",
    "case_number": "BAL-2026-0042",
    "lead_posture": "advances_existing",
    "probe_source": "surveillance_still",
    "probe_lawfully_obtained": "true",
    "attested_not_protected": "true",
}
NO_LEAD_OUTCOME = {
    "searched_at": "{now}",
    "candidates_returned": "0",
    "lead_derived": "false",
    "further_action": "None: no candidates came back.",
}
POLICY_FORM = {
    "system": "vendor",
    "lead_generation": "allowed",
    "documentation_business_days": "2",
    "probe_retention_days": "0",
    "reason": "vendor searches",
}
NEW_TOKEN = {"name": "nightly sync", "scopes": Permission.VIEW_SYSTEMS.value, "lifetime_days": "90"}
RULES_TEXT = "Search only to advance an existing lead in an open case."
# The web page's request form: "vendor" is a system every searching role may search.
SEARCH_FORM = {
    "system": "vendor",
    "purpose": "robbery",
    "case_system": "ICM",
    "case_number": "BAL-2026-0042",
    "lead_posture": "advances_existing",
    "techniques_tried": "government_databases",
    "probe_source": "surveillance_still",
    "probe_lawfully_obtained": "on",
    "attested_not_protected": "on",
}

MEMO_FORM = {
    "body": "DHS OIG",
    "reference": "OIG-26-01",
    "title": "Audit of face searches",
    "issued_on": "{today}",
    "response_days": "90",
    "recommendations": "Document searches.\n\nReview them quarterly.",
}

MATRIX: dict[str, Rule] = {
    # Web pages
    "home": Rule(Kind.PAGE, ROLES, (get("/"),)),
    "login": Rule(Kind.PUBLIC, EVERYONE, (Probe("get", "/sign-in/", success_signed_in=302),)),
    "logout": Rule(Kind.PUBLIC, EVERYONE, (Probe("post", "/sign-out/", success=302),)),
    "healthz": Rule(Kind.PUBLIC, EVERYONE, (get("/healthz"),)),
    "accounts:list": Rule(Kind.PAGE, ADMINISTRATOR, (get("/accounts/"),)),
    "accounts:create": Rule(
        Kind.PAGE, ADMINISTRATOR, (get("/accounts/new/"), post("/accounts/new/", NEW_ACCOUNT))
    ),
    "accounts:deactivate": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (post("/accounts/{target}/deactivate/", {"reason": "left the unit"}),),
    ),
    "accounts:reactivate": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (post("/accounts/{inactive}/reactivate/", {"reason": "came back"}),),
    ),
    "accounts:units": Rule(Kind.PAGE, ADMINISTRATOR, (get("/accounts/units/"),)),
    "accounts:unit_create": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/accounts/units/new/"),
            post("/accounts/units/new/", {"code": "hsi", "name": "HSI", "kind": "component"}),
        ),
    ),
    "accounts:assign": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/accounts/{target}/assign/"),
            post("/accounts/{target}/assign/", {"job_title": "Analyst"}),
        ),
    ),
    # The upload form without a file: the gate is what is tested here (the form is
    # re-rendered with its errors and nothing is written).
    "bulk:import": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (get("/bulk/"), Probe("post", "/bulk/", data={"kind": "people"})),
    ),
    "ledger:index": Rule(Kind.PAGE, LEDGER_READERS, (get("/ledger/"),)),
    "ledger:checkpoint": Rule(Kind.PAGE, LEDGER_READERS, (get("/ledger/checkpoint"),)),
    "ledger:tile": Rule(
        Kind.PAGE,
        LEDGER_READERS,
        (get("/ledger/tile/0/000.p/{signed}"), get("/ledger/tile/entries/000.p/{signed}")),
    ),
    "systems:list": Rule(Kind.PAGE, ROLES, (get("/systems/"),)),
    "systems:detail": Rule(Kind.PAGE, ROLES, (get("/systems/mirs/"),)),
    "systems:create": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (get("/systems/new/"), post("/systems/new/", {**SYSTEM_FORM, "code": "newsys"})),
    ),
    "systems:edit": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (get("/systems/mirs/edit/"), post("/systems/mirs/edit/", SYSTEM_FORM)),
    ),
    "systems:rules": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (get("/systems/mirs/rules/"), post("/systems/mirs/rules/", {"text": RULES_TEXT + " v2"})),
    ),
    "systems:acknowledge": Rule(
        Kind.PAGE, SEARCHERS, (post("/systems/mirs/rules/acknowledge/", {"rules": "{rules}"}),)
    ),
    "grants:list": Rule(Kind.PAGE, ROLES, (get("/grants/"),)),
    "grants:request": Rule(
        Kind.PAGE,
        SEARCHERS,
        (get("/grants/request/"), post("/grants/request/", {**GRANT_REQUEST, "account": "{me}"})),
    ),
    "grants:overview": Rule(Kind.PAGE, COUNTERS, (get("/grants/access/"),)),
    "grants:work": Rule(Kind.PAGE, ROLES, (get("/grants/work/"),)),
    "grants:person": Rule(Kind.PAGE, ROLES, (get("/grants/people/{officer}/"),)),
    "grants:detail": Rule(Kind.PAGE, ROLES, (get("/grants/{grant}/"),)),
    "grants:decide": Rule(
        Kind.PAGE, DECIDERS, (post("/grants/{grant}/approve/", {"reason": "needed"}),)
    ),
    "training:list": Rule(Kind.PAGE, ROLES, (get("/training/"),)),
    "training:course_create": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/training/courses/new/"),
            post(
                "/training/courses/new/",
                {"code": "ethics", "name": "Ethics", "provider": "agency", "valid_for_days": "365"},
            ),
        ),
    ),
    "training:completion_create": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/training/completions/new/"),
            post(
                "/training/completions/new/",
                {
                    "account": "{officer}",
                    "course": "privacy",
                    "completed_on": "{today}",
                    "evidence": "CERT-1",
                },
            ),
        ),
    ),
    # The ninja API's schema and interactive docs: any signed-in role (they describe the
    # API, they do not serve ledger data); anonymous visitors are sent to sign in.
    "api:openapi-json": Rule(Kind.PAGE, ROLES, (get("/api/openapi.json"),)),
    "api:openapi-view": Rule(Kind.PAGE, ROLES, (get("/api/docs"),)),
    # ninja's root view exists only so that ninja can compute its paths; it always 404s.
    "api:api-root": Rule(Kind.NOWHERE, frozenset(), (get("/api/"),)),
    # API operations
    "api:tree_head": Rule(Kind.API, LEDGER_READERS, (get("/api/ledger/head"),)),
    "api:checkpoint": Rule(Kind.API, LEDGER_READERS, (get("/api/ledger/checkpoint"),)),
    "api:tile": Rule(
        Kind.API,
        LEDGER_READERS,
        (get("/api/ledger/tile/0/000.p/{signed}"), get("/api/ledger/tile/entries/000.p/{signed}")),
    ),
    "api:inclusion": Rule(
        Kind.API, LEDGER_READERS, (get("/api/ledger/proof/inclusion?index=0&size={signed}"),)
    ),
    "api:consistency": Rule(
        Kind.API, LEDGER_READERS, (get("/api/ledger/proof/consistency?old=1&new={signed}"),)
    ),
    "api:entry": Rule(Kind.API, LEDGER_READERS, (get("/api/ledger/entries/0"),)),
    "api:list_systems": Rule(Kind.API, ROLES, (get("/api/systems"),)),
    "api:get_system": Rule(Kind.API, ROLES, (get("/api/systems/mirs"),)),
    "api:check_access": Rule(
        Kind.API, ROLES, (get("/api/access/check?account_id={me}&system=mirs"),)
    ),
    "api:access_counts": Rule(Kind.API, COUNTERS, (get("/api/access/counts"),)),
    "api:person_access": Rule(Kind.API, ROLES, (get("/api/people/{me}/access"),)),
    "api:list_grants": Rule(Kind.API, ROLES, (get("/api/grants"),)),
    "api:request_grant": Rule(
        Kind.API,
        SEARCHERS,
        (post("/api/grants", {**GRANT_REQUEST, "account_id": "{me}"}, json=True, success=201),),
    ),
    "api:get_grant": Rule(Kind.API, ROLES, (get("/api/grants/{grant}"),)),
    "api:decide_grant": Rule(
        Kind.API,
        DECIDERS,
        (post("/api/grants/{grant}/approve", {"reason": "needed"}, json=True, success=200),),
    ),
    # Searches (api/routers/searches.py): the world gives the officer, the supervisor and
    # the administrator access to "vendor" and an authorised search each ({mine} is the
    # requester's own), and the officer a request awaiting the supervisor ({pending}).
    "api:list_findings": Rule(
        Kind.API, FINDING_READERS, (get("/api/findings?status=active&severity=medium"),)
    ),
    "api:list_purposes": Rule(Kind.API, ROLES, (get("/api/searches/purposes"),)),
    "api:list_searches": Rule(Kind.API, ROLES, (get("/api/searches"),)),
    "api:request_search": Rule(
        Kind.API, SEARCHERS, (post("/api/searches", SEARCH_REQUEST, json=True, success=201),)
    ),
    # Reading a record is a ledger entry.
    "api:get_search": Rule(Kind.API, ROLES, (Probe("get", "/api/searches/{search}", appends=1),)),
    "api:approve_search": Rule(
        Kind.API, DECIDERS, (post("/api/searches/{pending}/approve", {}, json=True, success=200),)
    ),
    "api:refuse_search": Rule(
        Kind.API,
        DECIDERS,
        (post("/api/searches/{pending}/refuse", {"reason": "no"}, json=True, success=200),),
    ),
    "api:cancel_search": Rule(
        Kind.API,
        SEARCHERS,
        (post("/api/searches/{pending}/cancel", {"reason": "x"}, json=True, success=200),),
    ),
    "api:document_outcome": Rule(
        Kind.API,
        SEARCHERS,
        (post("/api/searches/{mine}/outcome", NO_LEAD_OUTCOME, json=True, success=200),),
    ),
    "api:record_roi": Rule(
        Kind.API,
        SEARCHERS,
        (post("/api/searches/{mine}/roi", {"roi_number": "ROI-1"}, json=True, success=200),),
    ),
    # Search policies and purposes (administrators), known cases (supervisors: their own
    # unit's; the world puts the supervisor in the unit of {case}).
    "searches:policies": Rule(Kind.PAGE, ADMINISTRATOR, (get("/searches/policies/"),)),
    "searches:policy_set": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/searches/policies/set/"),
            post("/searches/policies/set/", POLICY_FORM),
        ),
    ),
    "searches:purposes": Rule(Kind.PAGE, ADMINISTRATOR, (get("/searches/purposes/"),)),
    "searches:purpose_create": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/searches/purposes/new/"),
            post("/searches/purposes/new/", {"code": "cyber", "label": "Cyber", "group": "agency"}),
        ),
    ),
    "searches:purpose_retire": Rule(
        Kind.PAGE, ADMINISTRATOR, (post("/searches/purposes/gambling/retire/", {}),)
    ),
    "searches:cases": Rule(Kind.PAGE, DECIDERS, (get("/searches/cases/"),)),
    "searches:case_open": Rule(
        Kind.PAGE,
        DECIDERS,
        (
            get("/searches/cases/new/"),
            post(
                "/searches/cases/new/",
                {"org_unit": CASE_UNIT, "case_system": "ICM", "number": "NEW-1"},
            ),
        ),
    ),
    "searches:case_close": Rule(Kind.PAGE, DECIDERS, (post("/searches/cases/{case}/close/", {}),)),
    # --- Sign-in security: one's own authenticator and API tokens, and (administrators)
    # everyone's. The world's role accounts have no authenticator, so verifying redirects
    # home and removing one's own answers with a message (both tested with a device in
    # accounts/tests/test_security_views.py); a code that is not digits never enrols.
    "accounts:mfa": Rule(Kind.PAGE, ROLES, (get("/accounts/mfa/"),)),
    "accounts:mfa_enrol": Rule(
        Kind.PAGE,
        ROLES,
        (
            get("/accounts/mfa/enrol/"),
            Probe("post", "/accounts/mfa/enrol/", data={"code": "not-a-code"}, success=200),
        ),
    ),
    "accounts:mfa_verify": Rule(
        Kind.PAGE,
        ROLES,
        (
            Probe("get", "/accounts/mfa/verify/", success=302),
            Probe("post", "/accounts/mfa/verify/", data={"code": "123456"}, success=302),
        ),
    ),
    "accounts:mfa_remove": Rule(
        Kind.PAGE, ROLES, (Probe("post", "/accounts/mfa/remove/", success=302),)
    ),
    "accounts:mfa_reset": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (post("/accounts/{enrolled}/mfa/reset/", {"reason": "lost phone"}),),
    ),
    "accounts:tokens": Rule(Kind.PAGE, ROLES, (get("/accounts/tokens/"),)),
    "accounts:token_create": Rule(
        Kind.PAGE,
        ROLES,
        (
            get("/accounts/tokens/new/"),
            post("/accounts/tokens/new/", NEW_TOKEN, success=200),
        ),
    ),
    # Everyone may revoke their own tokens; only administrators someone else's.
    "accounts:token_revoke": Rule(
        Kind.PAGE, ADMINISTRATOR, (post("/accounts/tokens/{token}/revoke/", {"reason": "x"}),)
    ),
    "accounts:credentials": Rule(Kind.PAGE, ADMINISTRATOR, (get("/accounts/credentials/"),)),
    # --- Probe images (searches/probe_views.py): the page of a search's probe image (the
    # upload form without a file re-renders with its errors and writes nothing), and the
    # image itself, whose every view is a ledger entry. The selectors' scope decides who
    # may see the image, so every signed-in role may ask; all of them reach {probed}.
    "searches:probe": Rule(
        Kind.PAGE,
        SEARCHERS,
        (
            get("/searches/{probed}/probe/"),
            Probe("post", "/searches/{probed}/probe/", data={}, success=200),
        ),
    ),
    "searches:probe_image": Rule(
        Kind.PAGE, ROLES, (Probe("get", "/searches/{probed}/probe/image", appends=1),)
    ),
    # --- Search records (searches/views.py). The lists are open to every role and show
    # what the reader's scope holds; opening a record or exporting the list is a ledger
    # entry. {search}: the officer's authorised search; {pending}: the officer's request
    # awaiting the supervisor; {mine}: the requester's own authorised search.
    "searches:mine": Rule(Kind.PAGE, ROLES, (get("/searches/"),)),
    "searches:unit": Rule(Kind.PAGE, ROLES, (get("/searches/unit/?status=authorised"),)),
    "searches:export": Rule(
        Kind.PAGE, ROLES, (Probe("get", "/searches/unit/export.csv?system=vendor", appends=1),)
    ),
    "searches:request": Rule(
        Kind.PAGE,
        SEARCHERS,
        (get("/searches/request/"), post("/searches/request/", SEARCH_FORM)),
    ),
    "searches:approvals": Rule(Kind.PAGE, DECIDERS, (get("/searches/approvals/"),)),
    "searches:detail": Rule(Kind.PAGE, ROLES, (Probe("get", "/searches/{search}/", appends=1),)),
    "searches:approve": Rule(
        Kind.PAGE, DECIDERS, (post("/searches/{pending}/approve/", {"reason": "needed"}),)
    ),
    "searches:refuse": Rule(
        Kind.PAGE, DECIDERS, (post("/searches/{pending}/refuse/", {"reason": "not now"}),)
    ),
    "searches:cancel": Rule(
        Kind.PAGE, SEARCHERS, (post("/searches/{pending}/cancel/", {"reason": "withdrawn"}),)
    ),
    "searches:outcome": Rule(
        Kind.PAGE,
        SEARCHERS,
        (
            get("/searches/{mine}/outcome/"),
            post(
                "/searches/{mine}/outcome/",
                {"searched_at": "{now}", "candidates_returned": "0", "further_action": "None."},
            ),
        ),
    ),
    "searches:roi": Rule(
        Kind.PAGE, SEARCHERS, (post("/searches/{mine}/roi/", {"roi_number": "ROI-1"}),)
    ),
    # The audit trail for other tools: whoever may read the ledger.
    "reports:audit": Rule(Kind.PAGE, LEDGER_READERS, (get("/reports/audit-trail/"),)),
    "reports:audit_export": Rule(
        Kind.PAGE,
        LEDGER_READERS,
        (
            get("/reports/audit-trail/export/?format=csv"),
            get("/reports/audit-trail/export/?format=xlsx&since=1&until=3"),
        ),
    ),
    # The register of oversight recommendations: everyone reads it; auditors and
    # administrators keep it.
    "oversight:list": Rule(Kind.PAGE, ROLES, (get("/oversight/"),)),
    "oversight:memo": Rule(Kind.PAGE, ROLES, (get("/oversight/{memo}/"),)),
    "oversight:memo_new": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (get("/oversight/new/"), post("/oversight/new/", MEMO_FORM)),
    ),
    "oversight:respond": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (
            get("/oversight/recommendations/{recommendation}/respond/"),
            post(
                "/oversight/recommendations/{recommendation}/respond/",
                {
                    "response": "non_concur",
                    "reasons": "Policy covers it.",
                    "responded_on": "{today}",
                },
            ),
        ),
    ),
    "oversight:milestone_add": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (
            get("/oversight/recommendations/{concurred}/milestones/"),
            post(
                "/oversight/recommendations/{concurred}/milestones/",
                {"description": "Train supervisors.", "owner": "{officer}", "due_on": "{later}"},
            ),
        ),
    ),
    "oversight:status": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (
            get("/oversight/recommendations/{concurred}/status/"),
            post(
                "/oversight/recommendations/{concurred}/status/",
                {
                    "status": "open_resolved",
                    "closure": "",
                    "note": "Plan accepted.",
                    "on": "{today}",
                },
            ),
        ),
    ),
    "oversight:link_finding": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (post("/oversight/recommendations/{recommendation}/findings/", {"finding": "{finding}"}),),
    ),
    "oversight:link_report": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (
            post(
                "/oversight/recommendations/{recommendation}/reports/",
                {"report": "{published_report}"},
            ),
        ),
    ),
    "oversight:milestone_done": Rule(
        Kind.PAGE,
        RECOMMENDATION_KEEPERS,
        (
            post(
                "/oversight/milestones/{milestone}/done/",
                {"evidence": "Directive 7.", "done_on": "{today}"},
            ),
        ),
    ),
    # --- Findings (findings/views.py). {open_finding}: open, about the officer, owned by the
    # supervisor; {closed_finding}: the same, closed. Exporting is a ledger entry.
    "findings:list": Rule(Kind.PAGE, FINDING_READERS, (get("/findings/?status=open"),)),
    "findings:export": Rule(
        Kind.PAGE, FINDING_READERS, (Probe("get", "/findings/export.csv?system=vendor", appends=1),)
    ),
    "findings:raise": Rule(
        Kind.PAGE,
        REVIEWERS,
        (
            get("/findings/raise/"),
            post(
                "/findings/raise/",
                {
                    "subject": "{officer}",
                    "kind": "misuse",
                    "severity": "low",
                    "summary": "Seen searching a neighbour's name.",
                },
            ),
        ),
    ),
    "findings:detail": Rule(Kind.PAGE, FINDING_READERS, (get("/findings/{open_finding}/"),)),
    "findings:assign": Rule(
        Kind.PAGE, REVIEWERS, (post("/findings/{open_finding}/assign/", {"owner": ""}),)
    ),
    "findings:remediation": Rule(
        Kind.PAGE,
        REVIEWERS,
        (post("/findings/{open_finding}/remediation/", {"remediation": "Retrained."}),),
    ),
    "findings:close": Rule(
        Kind.PAGE,
        REVIEWERS,
        (post("/findings/{open_finding}/close/", {"resolution": "no_issue", "note": "Checked."}),),
    ),
    "findings:reopen": Rule(
        Kind.PAGE,
        REVIEWERS,
        (post("/findings/{closed_finding}/reopen/", {"reason": "New facts."}),),
    ),
    # --- Supervisory review (reviews/views.py). Opening a campaign appends two entries (the
    # campaign and its sample). {campaign} sampled {review_item}, a search by an officer in
    # the supervisor's unit; {empty_campaign} sampled nothing and may be closed.
    "reviews:list": Rule(Kind.PAGE, REVIEWERS, (get("/reviews/"),)),
    "reviews:open": Rule(
        Kind.PAGE,
        REVIEWERS,
        (
            get("/reviews/open/"),
            Probe(
                "post",
                "/reviews/open/",
                data={
                    "org_unit": CASE_UNIT,
                    "period_start": "{today}",
                    "period_end": "{today}",
                    "deadline": "{later}",
                    "random_share": "0.1",
                    "seed": "1",
                },
                success=302,
                appends=2,
            ),
        ),
    ),
    "reviews:detail": Rule(Kind.PAGE, REVIEWERS, (get("/reviews/{campaign}/"),)),
    "reviews:close": Rule(Kind.PAGE, REVIEWERS, (post("/reviews/{empty_campaign}/close/", {}),)),
    "reviews:item": Rule(
        Kind.PAGE,
        REVIEWERS,
        (
            get("/reviews/items/{review_item}/"),
            post("/reviews/items/{review_item}/", CHECKLIST_FORM),
        ),
    ),
    # --- External access logs (accesslogs/views.py; world: accesslogs/tests/matrix.py).
    # Reading reports and accounts: LOG_READERS; importing and mapping: administrators.
    # The upload form without a file re-renders with its errors and writes nothing;
    # resuming {log_import}, which is completed, is refused with a message (302, nothing
    # written): the gate is what is tested here (accesslogs/tests/test_views.py resumes).
    "accesslogs:index": Rule(Kind.PAGE, LOG_READERS, (get("/access-logs/"),)),
    "accesslogs:system": Rule(Kind.PAGE, LOG_READERS, (get("/access-logs/mirs/"),)),
    "accesslogs:accounts": Rule(Kind.PAGE, LOG_READERS, (get("/access-logs/mirs/accounts/"),)),
    # Without a file: the form's error is shown on the accounts page and nothing is mapped.
    "accesslogs:accounts_upload": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (Probe("post", "/access-logs/mirs/accounts/upload/", success=302),),
    ),
    "accesslogs:detail": Rule(Kind.PAGE, LOG_READERS, (get("/access-logs/imports/{log_import}/"),)),
    "accesslogs:progress": Rule(
        Kind.PAGE, LOG_READERS, (get("/access-logs/imports/{log_import}/progress/"),)
    ),
    "accesslogs:rejects": Rule(
        Kind.PAGE, LOG_READERS, (get("/access-logs/imports/{log_import}/rejects.csv"),)
    ),
    "accesslogs:mapping": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (
            get("/access-logs/mirs/mapping/"),
            post("/access-logs/mirs/mapping/", ACCESS_LOG_MAPPING_FORM),
        ),
    ),
    "accesslogs:upload": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (get("/access-logs/mirs/upload/"), Probe("post", "/access-logs/mirs/upload/")),
    ),
    "accesslogs:resume": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (Probe("post", "/access-logs/imports/{log_import}/resume/", success=302),),
    ),
    "accesslogs:map": Rule(
        Kind.PAGE,
        ADMINISTRATOR,
        (post("/access-logs/accounts/{external}/map/", {"account": "admin"}),),
    ),
    "accesslogs:unmap": Rule(
        Kind.PAGE, ADMINISTRATOR, (post("/access-logs/accounts/{mapped_external}/unmap/", {}),)
    ),
    # Reconciliation (RECONCILE): auditors and administrators, the same roles as LOG_READERS.
    # Reconciling again appends only the run's entry: its findings were raised by the world.
    "reconciliation:list": Rule(Kind.PAGE, LOG_READERS, (get("/reconciliation/"),)),
    "reconciliation:new": Rule(
        Kind.PAGE,
        LOG_READERS,
        (
            get("/reconciliation/new/"),
            Probe("post", "/reconciliation/new/", RECONCILE_FORM, success=302, appends=1),
        ),
    ),
    "reconciliation:detail": Rule(
        Kind.PAGE,
        LOG_READERS,
        (get("/reconciliation/{recon_run}/"), get("/reconciliation/{recon_run}/?kind=burst")),
    ),
    # --- Dashboard and transparency report (reports/; world: reports/tests/matrix.py).
    # The dashboard and the draft report: roles that see access counts; publishing:
    # administrators (it signs a checkpoint and appends REPORT_PUBLISHED). The published
    # reports are public: anyone, signed in or not, reads them as HTML, CSV and PDF.
    "reports:dashboard": Rule(
        Kind.PAGE,
        COUNTERS,
        (
            get("/reports/dashboard/"),
            get("/reports/dashboard/?system=mirs&first_month=2026-01&last_month=2026-03"),
        ),
    ),
    "reports:transparency": Rule(
        Kind.PAGE,
        COUNTERS,
        (
            get("/reports/transparency/"),
            get("/reports/transparency/?start={today}&end={today}&threshold=5"),
        ),
    ),
    "reports:transparency_publish": Rule(
        Kind.PAGE, ADMINISTRATOR, (post("/reports/transparency/publish/", PUBLISH_FORM),)
    ),
    "transparency:list": Rule(Kind.PUBLIC, EVERYONE, (get("/transparency/"),)),
    "transparency:detail": Rule(Kind.PUBLIC, EVERYONE, (get("/transparency/{published_report}/"),)),
    "transparency:csv": Rule(Kind.PUBLIC, EVERYONE, (get("/transparency/{published_report}.csv"),)),
    "transparency:pdf": Rule(Kind.PUBLIC, EVERYONE, (get("/transparency/{published_report}.pdf"),)),
    # OIDC single sign-on is off unless configured: its URLs answer 404 to everybody
    # (accounts/tests/test_sso.py tries them with single sign-on configured).
    "oidc_authentication_init": Rule(Kind.NOWHERE, frozenset(), (get("/oidc/authenticate/"),)),
    "oidc_authentication_callback": Rule(
        Kind.NOWHERE, frozenset(), (get("/oidc/callback/?code=c&state=s"),)
    ),
}


def _url_pattern_names() -> dict[str, str]:
    """Every pattern in the URLconf, as {namespaced name: route}, walking includes."""
    found: dict[str, str] = {}

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                walk(pattern.url_patterns, route, inner)
            else:
                assert pattern.name, f"the URL pattern {route!r} has no name"
                found[namespace + pattern.name] = route

    walk(get_resolver().url_patterns, "/", "")
    return found


def test_every_url_pattern_is_in_the_matrix():
    names = _url_pattern_names()
    missing = sorted(set(names) - set(MATRIX))
    assert not missing, (
        f"URL patterns without an authorization decision: "
        f"{ {name: names[name] for name in missing} }; add them to MATRIX"
    )
    stale = sorted(set(MATRIX) - set(names))
    assert not stale, f"MATRIX names patterns the URLconf no longer has: {stale}"


def test_the_url_walk_sees_the_api_and_its_docs():
    # Guards the walk itself: if it stopped descending into ninja's include, the test
    # above would pass vacuously for the API.
    names = _url_pattern_names()
    assert names["api:entry"] == "/api/ledger/entries/<seq>"
    assert {"api:openapi-json", "api:openapi-view", "accounts:deactivate"} <= set(names)


SAMPLE_CONTEXT = {
    "me": 3,
    "officer": 4,
    "grant": 5,
    "rules": 6,
    "target": 7,
    "inactive": 8,
    "signed": 9,
    "enrolled": 10,
    "token": 11,
    "probed": 16,
    "today": "2026-01-01",
    "later": "2026-02-01",
    **SAMPLE_SEARCH_CONTEXT,
    **SAMPLE_REVIEW_CONTEXT,
    **SAMPLE_OVERSIGHT_CONTEXT,
    "finding": 35,
    **SAMPLE_ACCESSLOG_CONTEXT,
    **SAMPLE_RECONCILIATION_CONTEXT,
    **SAMPLE_REPORT_CONTEXT,
}


@pytest.mark.parametrize(
    ("name", "probe"),
    [(name, probe) for name, rule in MATRIX.items() for probe in rule.probes],
)
def test_example_paths_resolve_to_their_pattern(name, probe):
    # Compared by route: ninja names each operation, and two operations (GET and POST
    # /api/grants) share one route, which resolves to the first one's name.
    path = urlsplit(probe.path.format(**SAMPLE_CONTEXT)).path
    assert "/" + resolve(path).route == _url_pattern_names()[name]


# ---------------------------------------------------------------------------------------
# The world the example requests refer to
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """What the module-wide fixture built: account ids per role, and ``Probe`` context."""

    accounts: dict[str, int]
    context: dict[str, object]

    def client(self, who: str) -> Client:
        """A client signed in as the account of role ``who`` (or anonymous)."""
        client = Client()
        if who != ANONYMOUS:
            client.force_login(Account.objects.get(pk=self.accounts[who]))
        return client

    def actor(self, who: str) -> Actor:
        return Actor(account_id=self.accounts[who], role=Role(who))


def _build_world() -> World:
    system = Actor.system()
    admin = do_create_account(
        username="admin", role=Role.ADMINISTRATOR, password=None, actor=system, reason="bootstrap"
    )
    admin_actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
    accounts = {Role.ADMINISTRATOR.value: admin.pk}
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            made = do_create_account(
                username=f"user-{role.value}", role=role, password=None, actor=admin_actor
            )
            accounts[role.value] = made.pk
    officer = accounts[Role.OFFICER.value]
    do_assign_account(
        officer,
        org_unit_code=None,
        supervisor_id=accounts[Role.SUPERVISOR.value],
        actor=admin_actor,
    )
    target = do_create_account(
        username="target.officer", role=Role.OFFICER, password=None, actor=admin_actor
    )
    inactive = do_create_account(
        username="inactive.officer", role=Role.OFFICER, password=None, actor=admin_actor
    )
    do_deactivate_account(inactive.pk, actor=admin_actor, reason="on leave")
    do_create_course(
        code="privacy", name="Privacy", provider="agency", valid_for_days=365, actor=admin_actor
    )
    mirs = do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="State MVA", kind="face_images", access_method="api"),
        actor=admin_actor,
    )
    do_create_system(
        "leads",
        SystemDetails(name="LEADS", owner="Vendor", kind="licence_plates", access_method="api"),
        actor=admin_actor,
    )
    rules = do_publish_rules(mirs.pk, text=RULES_TEXT, actor=admin_actor)
    today = timezone.localdate()
    grant = do_request_grant(
        account_id=officer,
        system_code="mirs",
        job_function="Investigator",
        justification="Identifying suspects in open cases.",
        starts_on=today,
        expires_on=today + timedelta(days=90),
        actor=Actor(account_id=officer, role=Role.OFFICER),
    )
    enrolled = do_create_account(
        username="enrolled.officer", role=Role.OFFICER, password=None, actor=admin_actor
    )
    do_confirm_totp_device(
        enrolled.pk,
        key=RFC_KEY,
        code=totp_code(RFC_KEY),
        actor=Actor(account_id=enrolled.pk, role=Role.OFFICER),
    )
    token = do_issue_api_token(
        admin.pk,
        name="nightly sync",
        scopes=[Permission.VIEW_SYSTEMS],
        expires_at=timezone.now() + timedelta(days=30),
        actor=admin_actor,
    ).token
    probed = _probe_search(admin_actor, Actor(account_id=officer, role=Role.OFFICER))
    searches = build_search_world(admin_actor, accounts)
    searches.update(build_review_world(admin_actor, accounts))
    oversight = build_oversight_world(admin_actor, officer)
    access_logs = build_accesslog_world(admin_actor, officer)
    access_logs.update(build_reconciliation_world(admin_actor))
    access_logs.update(build_report_world(admin_actor))
    checkpoint = sign_checkpoint_if_grown()
    return World(
        accounts=accounts,
        context={
            "officer": officer,
            "grant": grant.pk,
            "rules": rules.pk,
            "target": target.pk,
            "inactive": inactive.pk,
            "enrolled": enrolled.pk,
            "token": token.pk,
            "probed": probed,
            "signed": checkpoint.size,
            "today": today.isoformat(),
            "later": (today + timedelta(days=30)).isoformat(),
            **searches,
            **oversight,
            **access_logs,
        },
    )


def _probe_search(admin_actor: Actor, officer: Actor) -> int:
    """``{probed}``: a search by the officer of a system of its own ("faces", so that the
    officer's pending grant to mirs stays pending), under a policy for that system alone
    that keeps probe images, with a probe image stored."""
    faces = do_create_system(
        "faces",
        SystemDetails(name="Faces", owner="Vendor", kind="face_images", access_method="api"),
        actor=admin_actor,
    )
    rules = do_publish_rules(faces.pk, text=RULES_TEXT, actor=admin_actor)
    do_acknowledge_rules(rules.pk, actor=officer)
    today = timezone.localdate()
    grant = do_request_grant(
        account_id=officer.account_id,
        system_code="faces",
        job_function="Investigator",
        justification="Identifying suspects in open cases.",
        starts_on=today,
        expires_on=today + timedelta(days=90),
        actor=officer,
    )
    do_approve_grant(grant.pk, actor=admin_actor, reason="needed")
    search_actions.do_seed_offence_categories(actor=admin_actor)  # once: no-op if seeded
    search_actions.do_set_search_policy(
        org_unit_code=None,
        system_code="faces",
        settings=search_actions.PolicySettings(store_probe_images=True, probe_retention_days=30),
        actor=admin_actor,
        reason="keep probe images for review",
    )
    search = search_actions.do_request_search(search_request(system_code="faces"), actor=officer)
    do_store_probe_image(search.pk, b"\xff\xd8\xff\xe0 a probe", "image/jpeg", actor=officer)
    return search.pk


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once for the module, like Django's ``setUpTestData``: inside a transaction that
    is rolled back when the module ends. Each test's own transaction is a savepoint inside
    it, so a test's changes (an allowed POST) are undone before the next test.

    Tests in this module must not use the ``admin``/``role_clients`` fixtures, which would
    create the same accounts again.
    """
    key_file = tmp_path_factory.mktemp("matrix-key") / "ledger-signing.key"
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(SEARCHLEDGER_SIGNING_KEY_FILE=key_file):
                create_signing_key("test.searchledger.localhost/ledger")
                built = _build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _snapshot() -> tuple[object, ...]:
    """Everything a refused request must leave alone."""
    return (
        LedgerEntry.objects.count(),
        Checkpoint.objects.count(),
        sorted(
            Account.objects.values_list(
                "username", "role", "is_active", "password", "org_unit", "supervisor", "job_title"
            )
        ),
        OrgUnit.objects.count(),
        sorted(AccessGrant.objects.values_list("pk", "status", "certified_on")),
        sorted(ExternalSystem.objects.values_list("code", "name")),
        RulesVersion.objects.count(),
        RulesAcknowledgment.objects.count(),
        Course.objects.count(),
        TrainingCompletion.objects.count(),
        sorted(ApiToken.objects.values_list("pk", "revoked_at")),
        sorted(TOTPDevice.objects.values_list("user_id", "key")),
        sorted(SearchRecord.objects.values_list("pk", "status", "roi_number")),
        sorted(SearchPolicy.objects.values_list("pk", flat=True)),
        sorted(Case.objects.values_list("pk", "status")),
        sorted(OffenceCategory.objects.values_list("code", "active")),
        ReconciliationRun.objects.count(),
    )


def _assert_sent_to_sign_in(response, path: str) -> None:
    assert response.status_code == 302, response.content[:200]
    location = urlsplit(response["Location"])
    assert location.path == "/sign-in/"
    assert parse_qs(location.query)["next"] == [path]


def _send(client: Client, probe: Probe, path: str, context: dict[str, object]):
    if probe.method == "get":
        return client.get(path)
    assert probe.method == "post"
    data = {key: value.format(**context) for key, value in probe.data.items()}
    if probe.json:
        return client.post(path, json.dumps(data), content_type="application/json")
    return client.post(path, data)


# ---------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(EVERYONE))
@pytest.mark.parametrize("name", list(MATRIX))
def test_matrix(name, who, world):
    rule = MATRIX[name]
    client = world.client(who)
    context = {**world.context, "me": world.accounts.get(who, 0)}
    context["mine"] = world.context.get(f"mine_{who}", 0)  # the requester's own search
    for probe in rule.probes:
        path = probe.path.format(**context)
        before = _snapshot()
        entries_before = LedgerEntry.objects.count()
        response = _send(client, probe, path, context)
        status = response.status_code
        assert status != 500
        if who in rule.allowed:
            expected = probe.success
            if who != ANONYMOUS and probe.success_signed_in is not None:
                expected = probe.success_signed_in
            assert status == expected, (name, who, path, response.content[:300])
            assert LedgerEntry.objects.count() == entries_before + probe.appends, (
                f"{probe.method} {path} as {who} should append {probe.appends} entries"
            )
            continue
        # Refused: check the refusal, then that nothing changed.
        if rule.kind is Kind.NOWHERE:
            assert status == 404
        elif rule.kind is Kind.PAGE and who == ANONYMOUS:
            _assert_sent_to_sign_in(response, path)
        elif rule.kind is Kind.PAGE:
            assert status == 403, (name, who, path)
            assert b"Your role does not allow this page." in response.content
        elif rule.kind is Kind.API and who == ANONYMOUS:
            assert status == 401, (name, who, path)
            assert response.json() == {"detail": "Unauthorized"}
        else:
            assert rule.kind is Kind.API
            # Signed in without the permission: 403. Refused by the operation's auth
            # (ninja's own answer), not further in by the action: the gate holds on its own.
            assert status == 403, (name, who, path)
            assert response.json()["detail"] == "Forbidden", (name, who)
        assert _snapshot() == before, f"refused {probe.method} {path} as {who} changed state"


def test_each_test_starts_from_the_same_world(world):
    # The module-wide world relies on each test being rolled back; check that it is, in
    # both directions: a change made here must be gone in the next test (below).
    assert LedgerEntry.objects.count() == world.context["signed"]
    world.client(ADMINISTRATOR_ROLE).post("/accounts/new/", NEW_ACCOUNT)
    assert LedgerEntry.objects.count() == world.context["signed"] + 1


def test_each_test_starts_from_the_same_world_again(world):
    assert LedgerEntry.objects.count() == world.context["signed"]
    assert not Account.objects.filter(username=NEW_ACCOUNT["username"]).exists()


def test_allowed_posts_really_change_what_they_claim(world):
    # The matrix counts ledger entries; this checks the rows behind some of them, so that
    # a 302 without the change would fail too.
    admin = world.client(ADMINISTRATOR_ROLE)
    context = world.context
    admin.post(f"/accounts/{context['target']}/deactivate/", {"reason": "left"})
    admin.post(f"/accounts/{context['inactive']}/reactivate/", {"reason": "back"})
    admin.post("/accounts/new/", NEW_ACCOUNT)
    admin.post(f"/grants/{context['grant']}/approve/", {"reason": "needed"})
    assert not Account.objects.get(pk=context["target"]).is_active
    assert Account.objects.get(pk=context["inactive"]).is_active
    assert Account.objects.filter(username=NEW_ACCOUNT["username"]).exists()
    assert AccessGrant.objects.get(pk=context["grant"]).status == "approved"
    events = [json.loads(e.body)["event"] for e in LedgerEntry.objects.order_by("-seq")[:4]]
    assert events == [
        "GRANT_APPROVED",
        "ACCOUNT_CREATED",
        "ACCOUNT_REACTIVATED",
        "ACCOUNT_DEACTIVATED",
    ]


def _post_only_cases() -> list[tuple[str, str]]:
    """(name, path) of POST probes whose path serves no GET in the matrix."""
    get_paths = {p.path for rule in MATRIX.values() for p in rule.probes if p.method == "get"}
    return [
        (name, probe.path)
        for name, rule in MATRIX.items()
        for probe in rule.probes
        if probe.method == "post" and probe.path not in get_paths
    ]


@pytest.mark.parametrize(("name", "path"), _post_only_cases())
def test_post_only_urls_refuse_get_even_when_allowed(name, path, world):
    rule = MATRIX[name]
    who = ADMINISTRATOR_ROLE
    assert who in rule.allowed
    before = _snapshot()
    response = world.client(who).get(path.format(**world.context, me=world.accounts[who]))
    assert response.status_code == 405
    assert _snapshot() == before


def test_sign_out_ends_the_session(world):
    client = world.client(Role.AUDITOR.value)
    assert client.get("/ledger/").status_code == 200
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    _assert_sent_to_sign_in(client.get("/ledger/"), "/ledger/")
    assert client.get("/api/ledger/head").status_code == 401


def test_a_deactivated_account_loses_access_at_once(world):
    client = world.client(Role.AUDITOR.value)
    assert client.get("/api/ledger/head").status_code == 200
    do_deactivate_account(
        world.accounts[Role.AUDITOR.value], actor=world.actor(ADMINISTRATOR_ROLE), reason="left"
    )
    _assert_sent_to_sign_in(client.get("/ledger/"), "/ledger/")
    assert client.get("/api/ledger/head").status_code == 401


# ---------------------------------------------------------------------------------------
# Deny by default: a view that declares nothing is refused, even to an administrator.
# ---------------------------------------------------------------------------------------

UNDECLARED_URLS = "searchledger.apps.web.tests.undeclared_urls"


@pytest.fixture
def calls() -> Iterator[list[str]]:
    undeclared_urls.CALLS.clear()
    yield undeclared_urls.CALLS
    undeclared_urls.CALLS.clear()


@pytest.mark.urls(UNDECLARED_URLS)
@pytest.mark.parametrize("who", sorted(EVERYONE))
def test_a_view_that_declares_nothing_is_refused(who, world, calls):
    client = world.client(who)
    for path in ("/undeclared/", "/undeclared-class/", "/api/undeclared/"):
        for method in ("get", "post"):
            before = _snapshot()
            response = getattr(client, method)(path)
            assert response.status_code == 403, (who, method, path)
            assert b"has not been opened to any role" in response.content
            assert calls == [], f"the undeclared view ran for {method} {path} as {who}"
            assert _snapshot() == before


@pytest.mark.urls(UNDECLARED_URLS)
def test_the_declared_control_view_is_served(world, calls):
    # Without this, the test above could pass because the test URLconf was not in use.
    response = world.client(ADMINISTRATOR_ROLE).get("/declared/")
    assert response.status_code == 200
    assert response.content == b"the declared view ran"
    _assert_sent_to_sign_in(world.client(ANONYMOUS).get("/declared/"), "/declared/")
