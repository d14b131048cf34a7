"""Forms for findings: the list's filters and the forms that work a finding. Forms only
parse input; the rules are the actions'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from searchledger.apps.accounts.models import Account
from searchledger.apps.findings.actions import FindingDraft
from searchledger.apps.findings.selectors import FindingFilters
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.reviews import FindingStatus, Resolution, Severity

__all__ = [
    "AssignForm",
    "CloseForm",
    "FindingFilterForm",
    "RaiseFindingForm",
    "RemediationForm",
    "ReopenForm",
]


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


class FindingFilterForm(forms.Form):
    """Filters of the finding list; every field is optional."""

    status = forms.ChoiceField(
        choices=[
            ("", "All"),
            ("active", "Not closed"),
            *[(s.value, _words(s.value)) for s in FindingStatus],
        ],
        required=False,
    )
    severity = forms.ChoiceField(
        choices=[("", "All"), *[(s.value, _words(s.value)) for s in Severity]], required=False
    )
    kind = forms.SlugField(required=False, max_length=60)
    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.order_by("name"), to_field_name="code", required=False
    )
    overdue = forms.BooleanField(
        required=False,
        label="Overdue only",
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )

    def filters(self) -> FindingFilters:
        """The valid filters (invalid ones are ignored; call after ``is_valid``)."""
        data = getattr(self, "cleaned_data", {})
        return FindingFilters(
            status=data.get("status") or "",
            severity=data.get("severity") or "",
            kind=data.get("kind") or "",
            system_code=data["system"].code if data.get("system") else "",
            overdue=bool(data.get("overdue")),
        )


class AssignForm(forms.Form):
    """Give a finding to someone who works findings, or back to the queue."""

    owner = forms.ModelChoiceField(
        queryset=Account.objects.none(), required=False, empty_label="Nobody (the queue)"
    )

    def __init__(self, *args: Any, owners: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = owners.order_by("username")


class RemediationForm(forms.Form):
    """What was done about a finding."""

    remediation = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    """How a finding is closed."""

    resolution = forms.ChoiceField(choices=[(r.value, _words(r.value)) for r in Resolution])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    """Why a closed finding is reopened."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class RaiseFindingForm(forms.Form):
    """A finding raised by hand (``actions.do_raise_finding``): whom and what it is about,
    its kind, severity and summary, and optionally a due date other than the default."""

    subject = forms.ModelChoiceField(
        queryset=Account.objects.none(), required=False, label="About (the person)"
    )
    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.order_by("name"), to_field_name="code", required=False
    )
    search = forms.IntegerField(required=False, min_value=1, label="Search number")
    kind = forms.SlugField(
        max_length=60, help_text="A short code, e.g. documentation_incomplete or misuse."
    )
    severity = forms.ChoiceField(choices=[(s.value, _words(s.value)) for s in Severity])
    summary = forms.CharField(
        max_length=300, help_text="One line; on the ledger only as a commitment."
    )
    due = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for the default of the severity.",
    )

    def __init__(self, *args: Any, subjects: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["subject"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = subjects.order_by("username")

    def draft(self) -> FindingDraft:
        """The action's input (call after ``is_valid``); the action gives the reference."""
        data = self.cleaned_data
        return FindingDraft(
            source="review",
            kind=data["kind"],
            severity=data["severity"],
            summary=data["summary"],
            source_ref="",
            subject_id=data["subject"].pk if data.get("subject") else None,
            system_id=data["system"].pk if data.get("system") else None,
            search_id=data.get("search"),
            due=data.get("due"),
        )
