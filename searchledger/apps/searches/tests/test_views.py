"""The search pages: my searches, the unit view and its CSV export, requesting a search
(authorised, awaiting approval, refused, malformed), the approval queue and decisions,
documenting the outcome, the ROI number, cancelling, and the detail page whose every view
is a ledger entry; each from inside and outside the viewer's scope."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from searchledger.apps.accounts.models import Account
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import SearchRecord, SearchVetting
from searchledger.core.audit_formats import neutralise
from searchledger.core.roles import Role

from .support import actor_for, counts, entries_since, events_since, head, request

pytestmark = pytest.mark.django_db

FORM: dict[str, Any] = {
    "system": "mirs",
    "case_system": "ICM",
    "case_number": "BAL-2026-0042",
    "purpose": "robbery",
    "justification": "Bank robbery on 3 Nov; suspect seen on the branch camera.",
    "lead_posture": "advances_existing",
    "techniques_tried": ["government_databases", "open_source"],
    "techniques_notes": "NCIC and county records: no name.",
    "probe_source": "surveillance_still",
    "probe_source_notes": "",
    "probe_lawfully_obtained": "on",
    "attested_not_protected": "on",
}


def client_for(account: Account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def said(response: Any) -> list[str]:
    """The messages left for the next page (unread ones accumulate across requests)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def set_policy(**settings: Any) -> None:
    """A policy for bal-fug's searches of mirs, published by the administrator."""
    actions.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=actions.PolicySettings(**settings),
        actor=actor_for(Account.objects.get(username="admin")),
        reason="test policy",
    )


def searched(sworld, **change: Any) -> SearchRecord:
    """An authorised search by ``searcher``."""
    return actions.do_request_search(request(**change), actor=actor_for(sworld["searcher"]))


def outcome_form(**change: Any) -> dict[str, str]:
    values = {
        "searched_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "candidates_returned": "3",
        "further_action": "Interview planned.",
    }
    values.update(change)
    return values


# --------------------------------------------------------------------------- requesting


def test_an_allowed_request_is_authorised_and_shown(sworld):
    start = head()
    response = client_for(sworld["searcher"]).post("/searches/request/", FORM, follow=True)
    search = SearchRecord.objects.get()
    assert search.status == "authorised"
    assert search.techniques_tried == ["government_databases", "open_source"]
    assert response.redirect_chain == [(f"/searches/{search.pk}/", 302)]
    assert b"document its outcome by" in response.content
    assert events_since(start) == ["SEARCH_REQUESTED", "SEARCH_VIEWED"]


def test_a_request_needing_approval_waits(sworld):
    set_policy(approval_required=True)
    client_for(sworld["searcher"]).post("/searches/request/", FORM)
    assert SearchRecord.objects.get().status == "pending_approval"


def test_a_refusal_shows_every_reason_and_keeps_the_refused_record(sworld):
    start = head()
    form = {k: v for k, v in FORM.items() if k not in {"attested_not_protected"}}
    form["techniques_tried"] = []
    form["purpose"] = "immigration_civil_enforcement"
    response = client_for(sworld["searcher"]).post("/searches/request/", form)
    assert response.status_code == 200
    search = SearchRecord.objects.get()
    assert search.status == "refused"
    refusal = response.content.decode()
    assert "The attestation that the search is not based on First Amendment" in refusal
    assert "none is ticked" in refusal
    assert "is forbidden by this policy" in refusal
    assert f"/searches/{search.pk}/" in refusal
    assert events_since(start) == ["SEARCH_REQUEST_REFUSED"]


def test_malformed_input_names_the_field_and_writes_nothing(sworld):
    set_policy(case_number_pattern=r"BAL-\d{4}-\d{4}")
    before = counts()
    client = client_for(sworld["searcher"])
    response = client.post("/searches/request/", {**FORM, "case_number": "PHL-1"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "not in the format this policy requires" in form.errors["case_number"][0]
    response = client.post(
        "/searches/request/",
        {**FORM, "techniques_tried": ["other"], "techniques_notes": "", "case_system": "I C M"},
    )
    errors = response.context["form"].errors
    assert errors["techniques_notes"] == ["describe the other techniques tried"]
    assert "may hold only letters" in errors["case_system"][0]
    response = client.post("/searches/request/", {**FORM, "purpose": "no_such_thing"})
    assert "purpose" in response.context["form"].errors
    assert counts() == before


def test_auditors_cannot_request(sworld, make_account):
    auditor = make_account("aud", Role.AUDITOR)
    assert client_for(auditor).post("/searches/request/", FORM).status_code == 403
    assert not SearchRecord.objects.exists()


# --------------------------------------------------------------------------- the detail page


def test_every_view_of_the_detail_page_is_a_ledger_entry(sworld):
    search = searched(sworld)
    start = head()
    boss = client_for(sworld["boss"])
    for _ in range(2):
        response = boss.get(f"/searches/{search.pk}/")
        assert response.status_code == 200
    entries = entries_since(start)
    assert [e["event"] for e in entries] == ["SEARCH_VIEWED", "SEARCH_VIEWED"]
    assert all(e["object"]["id"] == str(search.pk) for e in entries)
    assert all(e["data"]["channel"] == "web" for e in entries)
    history = [h["event"] for h in response.context["history"]]
    assert history == ["SEARCH_REQUESTED", "SEARCH_VIEWED", "SEARCH_VIEWED"]
    assert [h["actor"] for h in response.context["history"]] == ["searcher", "boss", "boss"]
    page = response.content.decode()
    assert "BAL-2026-0042" in page
    assert "Government databases".lower() in page.lower()


def test_out_of_scope_readers_get_404_and_leave_no_view_entry(sworld):
    search = searched(sworld)
    start = head()
    for outsider in (sworld["other_supervisor"], sworld["colleague"]):
        assert client_for(outsider).get(f"/searches/{search.pk}/").status_code == 404
    assert client_for(sworld["boss"]).get("/searches/999999/").status_code == 404
    assert head() == start


# --------------------------------------------------------------------------- approvals


def test_the_supervisor_approves_from_the_queue(sworld, mailoutbox):
    set_policy(approval_required=True)
    search = searched(sworld)
    boss = client_for(sworld["boss"])
    queue = boss.get("/searches/approvals/")
    assert list(queue.context["searches"]) == [search]
    assert (
        client_for(sworld["other_supervisor"])
        .get("/searches/approvals/")
        .context["searches"]
        .count()
        == 0
    )
    start = head()
    response = boss.post(f"/searches/{search.pk}/approve/", {"reason": "fine"})
    assert response.status_code == 302
    search.refresh_from_db()
    assert search.status == "authorised"
    assert search.decided_by == sworld["boss"]
    assert events_since(start) == ["SEARCH_APPROVED"]


def test_the_officer_cannot_approve_their_own_request(sworld):
    set_policy(approval_required=True)
    search = searched(sworld)
    mine = actions.do_request_search(request(), actor=actor_for(sworld["boss"]))
    start = head()
    assert client_for(sworld["searcher"]).post(f"/searches/{search.pk}/approve/").status_code == 403
    response = client_for(sworld["boss"]).post(f"/searches/{mine.pk}/approve/")
    assert response.status_code == 403
    assert b"Your role does not allow this page." in response.content
    response = client_for(sworld["other_supervisor"]).post(f"/searches/{search.pk}/approve/")
    assert response.status_code == 404
    assert head() == start
    assert set(SearchRecord.objects.values_list("status", flat=True)) == {"pending_approval"}


def test_refusing_needs_a_reason(sworld):
    set_policy(approval_required=True)
    search = searched(sworld)
    boss = client_for(sworld["boss"])
    response = boss.post(f"/searches/{search.pk}/refuse/", {"reason": ""})
    assert said(response)[-1] == "give the reason for refusing"
    search.refresh_from_db()
    assert search.status == "pending_approval"
    boss.post(f"/searches/{search.pk}/refuse/", {"reason": "Not this case."})
    search.refresh_from_db()
    assert (search.status, search.decision_note) == ("refused", "Not this case.")


# --------------------------------------------------------------------------- the outcome


def test_documenting_with_two_person_verification(sworld):
    set_policy(two_person_verification=True)
    search = searched(sworld)
    client = client_for(sworld["searcher"])
    assert client.get(f"/searches/{search.pk}/outcome/").status_code == 200
    before = counts()
    only_me = outcome_form(
        lead_derived="on", vetter_1=str(sworld["searcher"].pk), result_1="match_confirmed"
    )
    response = client.post(f"/searches/{search.pk}/outcome/", only_me)
    assert response.status_code == 200
    assert "two-person verification" in " ".join(response.context["form"].non_field_errors())
    half_row = outcome_form(vetter_1=str(sworld["boss"].pk))
    response = client.post(f"/searches/{search.pk}/outcome/", half_row)
    assert response.context["form"].errors["result_1"] == ["say what this person concluded"]
    assert counts() == before
    two = outcome_form(
        lead_derived="on",
        vetter_1=str(sworld["boss"].pk),
        result_1="match_confirmed",
        vetter_2=str(sworld["colleague"].pk),
        result_2="match_confirmed",
        notes_2="scar above the eye",
    )
    response = client.post(f"/searches/{search.pk}/outcome/", two)
    assert response.status_code == 302, response.context["form"].errors
    search.refresh_from_db()
    assert (search.status, search.candidates_returned, search.lead_derived) == (
        "documented",
        3,
        True,
    )
    assert sorted(SearchVetting.objects.values_list("vetter__username", flat=True)) == [
        "boss",
        "off2",
    ]


def test_only_the_officer_documents_the_outcome(sworld):
    search = searched(sworld)
    boss = client_for(sworld["boss"])
    assert boss.get(f"/searches/{search.pk}/outcome/").status_code == 403
    assert boss.post(f"/searches/{search.pk}/outcome/", outcome_form()).status_code == 403
    assert client_for(sworld["colleague"]).get(f"/searches/{search.pk}/outcome/").status_code == 404
    search.refresh_from_db()
    assert search.status == "authorised"


def test_only_an_authorised_search_has_an_outcome_form(sworld):
    set_policy(approval_required=True)
    search = searched(sworld)
    start = counts()
    client = client_for(sworld["searcher"])
    for response in (
        client.get(f"/searches/{search.pk}/outcome/"),
        client.post(f"/searches/{search.pk}/outcome/", outcome_form()),
    ):
        assert response.status_code == 302
        assert response["Location"] == f"/searches/{search.pk}/"
        assert (
            said(response)[-1] == f"Search {search.pk} is pending approval; no outcome to document."
        )
    assert counts() == start


def test_a_future_search_time_is_named(sworld):
    search = searched(sworld)
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(sworld["searcher"]).post(
        f"/searches/{search.pk}/outcome/", outcome_form(searched_at=later)
    )
    assert response.context["form"].errors["searched_at"] == [
        "the search cannot have been run in the future"
    ]


def test_the_roi_number_and_cancelling(sworld):
    search = searched(sworld)
    client = client_for(sworld["searcher"])
    start = head()
    response = client.post(f"/searches/{search.pk}/roi/", {"roi_number": "ROI 1!"})
    assert "may hold only letters" in " ".join(said(response))
    assert head() == start
    client.post(f"/searches/{search.pk}/roi/", {"roi_number": "ROI-2026-7"})
    other = searched(sworld)
    response = client.post(f"/searches/{other.pk}/cancel/", {"reason": ""})
    assert said(response)[-1] == "say why the search is cancelled"
    client.post(f"/searches/{other.pk}/cancel/", {"reason": "Suspect identified otherwise."})
    search.refresh_from_db()
    other.refresh_from_db()
    assert search.roi_number == "ROI-2026-7"
    assert other.status == "cancelled"
    assert events_since(start)[0] == "SEARCH_ROI_RECORDED"
    assert (
        client_for(sworld["colleague"])
        .post(f"/searches/{search.pk}/cancel/", {"reason": "x"})
        .status_code
        == 404
    )


# --------------------------------------------------------------------------- lists and export


def test_my_searches_and_the_unit_view_with_filters(sworld):
    mine = searched(sworld)
    theirs = actions.do_request_search(request(purpose="burglary"), actor=actor_for(sworld["boss"]))
    assert list(client_for(sworld["searcher"]).get("/searches/").context["searches"]) == [mine]
    boss = client_for(sworld["boss"])
    assert set(boss.get("/searches/unit/").context["searches"]) == {mine, theirs}
    assert list(boss.get("/searches/unit/?purpose=robbery").context["searches"]) == [mine]
    officer = f"/searches/unit/?officer={sworld['boss'].pk}&status=authorised&system=mirs"
    assert list(boss.get(officer).context["searches"]) == [theirs]
    today = timezone.localdate()
    assert (
        boss.get(f"/searches/unit/?requested_to={today - timedelta(days=1)}").context["total"] == 0
    )
    assert boss.get(f"/searches/unit/?requested_from={today}").context["total"] == 2
    assert client_for(sworld["other_supervisor"]).get("/searches/unit/").context["total"] == 0
    htmx = boss.get("/searches/unit/?purpose=burglary", headers={"HX-Request": "true"})
    assert b'id="search-table"' in htmx.content


def test_csv_export_parses_back_neutralises_formulas_and_is_logged(sworld):
    dangerous = searched(sworld, justification='=HYPERLINK("http://evil","x")')
    plain = searched(sworld, justification="Plain words.")
    actions.do_document_outcome(
        plain.pk,
        actions.SearchOutcome(
            searched_at=timezone.now(),
            candidates_returned=0,
            lead_derived=False,
            further_action="@SUM(A1:A9)",
        ),
        actor=actor_for(sworld["searcher"]),
    )
    other = searched(sworld, justification="+1", purpose="burglary")
    start = head()
    response = client_for(sworld["boss"]).get("/searches/unit/export.csv?purpose=robbery")
    assert response["Content-Type"].startswith("text/csv")
    streamed: Any = response  # a StreamingHttpResponse: the stubs type test responses as plain
    assert streamed.streaming
    body = b"".join(streamed.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["search"]) for r in rows] == [plain.pk, dangerous.pk]
    by_id = {int(r["search"]): r for r in rows}
    assert by_id[dangerous.pk]["justification"] == '\'=HYPERLINK("http://evil","x")'
    assert by_id[plain.pk]["further_action"] == "'@SUM(A1:A9)"
    assert by_id[plain.pk]["candidates_returned"] == "0"
    assert by_id[plain.pk]["case_number"] == "BAL-2026-0042"
    assert other.pk not in by_id
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_EXPORTED"
    assert entry["data"] == {"channel": "export", "records": 2}


def test_xlsx_export_reads_back_with_openpyxl_and_bad_formats_are_refused(sworld):
    dangerous = searched(sworld, justification='=HYPERLINK("http://evil","x")')
    start = head()
    boss = client_for(sworld["boss"])
    response = boss.get("/searches/unit/export.csv?purpose=robbery&format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["searches"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    record = dict(zip(header, rows[1], strict=True))
    assert record["search"] == dangerous.pk
    assert record["justification"] == '\'=HYPERLINK("http://evil","x")'
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_EXPORTED"
    refused = boss.get("/searches/unit/export.csv?format=pdf")
    assert refused.status_code == 400
    assert "format must be one of csv, xlsx" in refused.content.decode()
    assert len(entries_since(start)) == 1  # the refused request logged nothing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        (-3, -3),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


# --------------------------------------------------------------------------- work lists and nav


def test_work_lists_show_approvals_waiting_and_outcomes_overdue(sworld):
    set_policy(approval_required=True)
    waiting = searched(sworld)
    late = actions.do_approve_search(searched(sworld).pk, actor=actor_for(sworld["boss"]))
    SearchRecord.objects.filter(pk=late.pk).update(
        documentation_due=timezone.localdate() - timedelta(days=3)
    )
    boss = client_for(sworld["boss"]).get("/grants/work/")
    rows = {row.what: row for row in boss.context["items"]}
    decide = rows[f"Decide the search request {waiting.pk}: searcher → MIRS"]
    assert decide.url == f"/searches/{waiting.pk}/"
    overdue = rows[f"Document the outcome of search {late.pk}: searcher → MIRS"]
    assert overdue.overdue
    assert overdue.url == f"/searches/{late.pk}/"
    officer = client_for(sworld["searcher"]).get("/grants/work/")
    whats = [row.what for row in officer.context["items"]]
    assert f"Document the outcome of search {late.pk}: searcher → MIRS" in whats
    assert not any(w.startswith("Decide the search request") for w in whats)
    assert b"Overdue" in officer.content
    outsider = client_for(sworld["other_supervisor"]).get("/grants/work/")
    assert not any("search" in row.what for row in outsider.context["items"])


def test_every_role_has_the_searches_link(sworld, make_account):
    auditor = make_account("aud", Role.AUDITOR)
    for person in (auditor, sworld["searcher"]):
        links = client_for(person).get("/").context["nav_links"]
        assert {"label": "Searches", "url": "/searches/", "current": False} in links
    page = client_for(auditor).get("/searches/")
    current = [link["label"] for link in page.context["nav_links"] if link["current"]]
    assert current == ["Searches"]
    assert b"Your role does not run searches" in page.content
