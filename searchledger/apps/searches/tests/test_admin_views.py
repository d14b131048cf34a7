"""The administrator pages for search policies, purposes (offence categories) and known
cases: what they list, what a valid form writes (one ledger entry) and that a refused or
invalid one writes nothing; supervisors manage only their own unit's cases."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import Case, OffenceCategory, SearchPolicy

from .support import entries_since, head

pytestmark = pytest.mark.django_db

POLICY_FORM: dict[str, Any] = {
    "org_unit": "bal-fug",
    "system": "mirs",
    "forbidden_purposes": ["immigration_civil_enforcement"],
    "approval_purposes": ["fugitive_offences"],
    "lead_generation": "needs_approval",
    "require_conventional_techniques": "on",
    "documentation_business_days": "3",
    "probe_retention_days": "0",
    "reason": "fugitive teams need approval",
}


def client_for(account: Account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def state() -> tuple[object, ...]:
    return (
        LedgerEntry.objects.count(),
        sorted(SearchPolicy.objects.values_list("scope_key", "version")),
        sorted(OffenceCategory.objects.values_list("code", "active")),
        sorted(Case.objects.values_list("number", "status")),
    )


# --------------------------------------------------------------------------- policies


def test_the_policy_list_shows_every_scope_and_version(sworld, admin, admin_actor):
    for days in (2, 3):
        actions.do_set_search_policy(
            org_unit_code="bal-fug",
            system_code="mirs",
            settings=actions.PolicySettings(documentation_business_days=days),
            actor=admin_actor,
            reason="fugitive operations",
        )
    response = client_for(admin).get("/searches/policies/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Agency-wide · Every system") < page.index("Fugitive operations")
    assert 'Fugitive operations <span class="sl-mono">(bal-fug)</span> · MIRS' in page
    assert "2 versions; version 2 in force" in page
    assert "1 version; version 1 in force" in page
    assert "v2 (in force)" in page
    assert "3 business days" in page
    assert "immigration_civil_enforcement" in page


def test_setting_a_policy_starts_from_the_current_version(sworld, admin, admin_actor):
    actions.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=actions.PolicySettings(approval_required=True, documentation_business_days=5),
        actor=admin_actor,
        reason="fugitive operations",
    )
    form = client_for(admin).get("/searches/policies/set/?unit=bal-fug&system=mirs").context["form"]
    assert form.initial["approval_required"] is True
    assert form.initial["documentation_business_days"] == 5
    assert form.initial["org_unit"] == "bal-fug"
    # An unknown scope starts empty rather than from some other policy.
    form = client_for(admin).get("/searches/policies/set/?unit=nowhere").context["form"]
    assert form.initial == {}


def test_a_valid_policy_form_publishes_a_version(sworld, admin):
    start = head()
    response = client_for(admin).post("/searches/policies/set/", POLICY_FORM)
    assert response.status_code == 302
    assert response["Location"] == "/searches/policies/"
    policy = SearchPolicy.objects.get(org_unit__code="bal-fug", system__code="mirs")
    assert policy.version == 1
    assert policy.approval_purposes == ["fugitive_offences"]
    assert policy.lead_generation == "needs_approval"
    assert policy.documentation_business_days == 3
    assert policy.require_conventional_techniques is True
    assert policy.two_person_verification is False
    assert [e["event"] for e in entries_since(start)] == ["SEARCH_POLICY_SET"]
    client_for(admin).post("/searches/policies/set/", {**POLICY_FORM, "reason": "again"})
    assert SearchPolicy.objects.filter(org_unit__code="bal-fug").count() == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"documentation_business_days": "45"}, "documentation_business_days", ""),
        ({"allowed_purposes": ["immigration_civil_enforcement"]}, "forbidden_purposes", "both"),
        ({"case_number_pattern": "BAL-(["}, "case_number_pattern", "regular expression"),
        ({"reason": ""}, "reason", "required"),
        ({"system": "nosuch"}, "system", "valid choice"),
    ],
)
def test_an_invalid_policy_form_names_the_field_and_writes_nothing(
    sworld, admin, change, field, words
):
    before = state()
    response = client_for(admin).post("/searches/policies/set/", {**POLICY_FORM, **change})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert state() == before


def test_only_administrators_manage_policies_and_purposes(sworld):
    boss = client_for(sworld["boss"])
    before = state()
    for path in ("/searches/policies/", "/searches/policies/set/", "/searches/purposes/"):
        assert boss.get(path).status_code == 403
    assert boss.post("/searches/policies/set/", POLICY_FORM).status_code == 403
    assert boss.post("/searches/purposes/robbery/retire/").status_code == 403
    assert state() == before


# --------------------------------------------------------------------------- purposes


def test_purposes_are_listed_added_and_retired(sworld, admin):
    client = client_for(admin)
    page = client.get("/searches/purposes/").content.decode()
    assert "Civil immigration enforcement" in page
    assert "13A 13B 13C" in page

    start = head()
    response = client.post(
        "/searches/purposes/new/",
        {"code": "cyber_intrusion", "label": "Computer intrusion", "group": "agency"},
    )
    assert response.status_code == 302
    assert OffenceCategory.objects.get(code="cyber_intrusion").active
    response = client.post("/searches/purposes/cyber_intrusion/retire/")
    assert response.status_code == 302
    assert not OffenceCategory.objects.get(code="cyber_intrusion").active
    assert [e["event"] for e in entries_since(start)] == [
        "SEARCH_PURPOSE_CREATED",
        "SEARCH_PURPOSE_RETIRED",
    ]
    assert "Retired" in client.get("/searches/purposes/").content.decode()

    before = state()
    response = client.post("/searches/purposes/cyber_intrusion/retire/", follow=True)
    assert "already retired" in response.content.decode()
    response = client.post(
        "/searches/purposes/new/", {"code": "robbery", "label": "Again", "group": "agency"}
    )
    assert response.status_code == 200
    assert "exists" in " ".join(response.context["form"].errors["code"])
    response = client.post(
        "/searches/purposes/new/", {"code": "Bad Code", "label": "x", "group": "agency"}
    )
    assert "code" in response.context["form"].errors
    assert state() == before


# --------------------------------------------------------------------------- known cases


@pytest.fixture
def cases(sworld, admin_actor) -> dict[str, Case]:
    """An open case in the boss's unit (bal-fug) and one in Philadelphia."""
    return {
        unit: actions.do_open_case(
            org_unit_code=unit, case_system="ICM", number=f"{unit.upper()}-1", actor=admin_actor
        )
        for unit in ("bal-fug", "phl")
    }


def test_a_supervisor_sees_and_manages_only_their_units_cases(sworld, cases):
    boss = client_for(sworld["boss"])
    page = boss.get("/searches/cases/").content.decode()
    assert "BAL-FUG-1" in page
    assert "PHL-1" not in page
    form = boss.get("/searches/cases/new/").context["form"]
    assert [u.code for u in form.fields["org_unit"].queryset] == ["bal-fug"]

    start = head()
    response = boss.post(
        "/searches/cases/new/", {"org_unit": "bal-fug", "case_system": "ICM", "number": "F-2"}
    )
    assert response.status_code == 302
    assert Case.objects.get(number="F-2").status == "open"
    response = boss.post(f"/searches/cases/{cases['bal-fug'].pk}/close/")
    assert response.status_code == 302
    assert Case.objects.get(pk=cases["bal-fug"].pk).status == "closed"
    assert [e["event"] for e in entries_since(start)] == [
        "SEARCH_CASE_OPENED",
        "SEARCH_CASE_CLOSED",
    ]
    boss.get("/searches/cases/")  # shows (and so clears) the messages about the changes
    closed = boss.get("/searches/cases/?status=closed").content.decode()
    assert "BAL-FUG-1" in closed
    assert "F-2" not in closed
    assert "BAL-FUG-1" not in boss.get("/searches/cases/?status=open").content.decode()

    before = state()
    response = boss.post(
        "/searches/cases/new/", {"org_unit": "phl", "case_system": "ICM", "number": "P-2"}
    )
    assert response.status_code == 200
    assert "org_unit" in response.context["form"].errors
    assert boss.post(f"/searches/cases/{cases['phl'].pk}/close/").status_code == 403
    response = boss.post(
        "/searches/cases/new/", {"org_unit": "bal-fug", "case_system": "ICM", "number": "F-2"}
    )
    assert "already registered" in " ".join(response.context["form"].errors["number"])
    assert state() == before


def test_administrators_manage_every_units_cases(sworld, admin, cases):
    client = client_for(admin)
    page = client.get("/searches/cases/").content.decode()
    assert "BAL-FUG-1" in page
    assert "PHL-1" in page
    assert client.post(f"/searches/cases/{cases['phl'].pk}/close/").status_code == 302
    before = state()
    response = client.post(f"/searches/cases/{cases['phl'].pk}/close/", follow=True)
    assert "already closed" in response.content.decode()
    assert state() == before


def test_officers_do_not_manage_cases(sworld, cases):
    officer = client_for(sworld["searcher"])
    before = state()
    assert officer.get("/searches/cases/").status_code == 403
    assert officer.post(f"/searches/cases/{cases['bal-fug'].pk}/close/").status_code == 403
    assert state() == before
