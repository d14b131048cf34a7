"""Forms for search records: the request, the supervisor's decision, the outcome, the
report-of-investigation number, cancellation, and the filters of the unit view.

Forms only parse input; every rule (the policy, the access rule, the outcome's vetting
rules) is the action's, and its ``ValidationError`` is attached to the fields it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from typing_extensions import override

from searchledger.apps.accounts.models import Account
from searchledger.apps.searches.actions import SearchOutcome, SearchRequest, VettingInput
from searchledger.apps.searches.models import OffenceCategory
from searchledger.apps.searches.selectors import SearchFilters
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.roles import Permission, Role, role_may
from searchledger.core.searches import (
    ATTESTATION_TEXT,
    ConventionalTechnique,
    LeadPosture,
    ProbeSource,
    SearchStatus,
    VettingResult,
)

__all__ = [
    "VETTING_ROWS",
    "CancelForm",
    "DecisionForm",
    "OutcomeForm",
    "RoiForm",
    "SearchFilterForm",
    "SearchRequestForm",
]

# Rows for vettings on the outcome form: two-person verification needs two.
VETTING_ROWS = 3


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(v, _words(v)) for v in values]


class SearchRequestForm(forms.Form):
    """What the officer says before a search (``actions.SearchRequest``)."""

    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.filter(in_service=True).order_by("name"),
        to_field_name="code",
    )
    case_system = forms.CharField(
        max_length=40,
        label="Case-management system",
        help_text="Where the case is kept, e.g. ICM or EID/EARM.",
    )
    case_number = forms.CharField(max_length=64)
    purpose = forms.ModelChoiceField(
        queryset=OffenceCategory.objects.filter(active=True),
        to_field_name="code",
        help_text="The offence category the search is for.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What the search is for in this case (required when the purpose is 'other').",
    )
    lead_posture = forms.ChoiceField(
        choices=_choices([p.value for p in LeadPosture]),
        label="Lead",
        help_text="Does the search advance a lead the case already has, or generate a new one?",
    )
    techniques_tried = forms.MultipleChoiceField(
        choices=_choices([t.value for t in ConventionalTechnique]),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Conventional techniques tried first",
    )
    techniques_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Notes on the techniques tried",
    )
    probe_source = forms.ChoiceField(
        choices=_choices([s.value for s in ProbeSource]), label="Source of the probe image"
    )
    probe_source_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Notes on the probe image's source",
    )
    probe_lawfully_obtained = forms.BooleanField(
        required=False, label="The probe image was lawfully obtained"
    )
    attested_not_protected = forms.BooleanField(required=False, label=ATTESTATION_TEXT)

    def to_request(self) -> SearchRequest:
        """The cleaned form as the action's input (call after ``is_valid``)."""
        data = self.cleaned_data
        return SearchRequest(
            system_code=data["system"].code,
            purpose=data["purpose"].code,
            case_system=data["case_system"],
            case_number=data["case_number"],
            lead_posture=data["lead_posture"],
            techniques_tried=list(data["techniques_tried"]),
            probe_source=data["probe_source"],
            probe_lawfully_obtained=data["probe_lawfully_obtained"],
            attested_not_protected=data["attested_not_protected"],
            techniques_notes=data["techniques_notes"],
            probe_source_notes=data["probe_source_notes"],
            justification=data["justification"],
        )


class DecisionForm(forms.Form):
    """Approve (reason optional) or refuse (reason required, checked by the action)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class CancelForm(forms.Form):
    """Withdraw a request not yet documented."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RoiForm(forms.Form):
    """The report-of-investigation number, once the report is written."""

    roi_number = forms.CharField(max_length=64, label="Report-of-investigation number")


def vetter_accounts() -> QuerySet[Account]:
    """Active accounts whose role takes part in searches (only they vet results)."""
    roles = [r.value for r in Role if role_may(r, Permission.REQUEST_SEARCH)]
    return Account.objects.filter(is_active=True, role__in=roles).order_by("username")


class OutcomeForm(forms.Form):
    """What the search returned, who vetted the candidates and how, and what followed.
    ``vetter_<n>``/``result_<n>``/``notes_<n>`` are the vetting rows (empty rows skipped)."""

    searched_at = forms.DateTimeField(
        label="When the search was run",
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
        ),
    )
    candidates_returned = forms.IntegerField(min_value=0, label="Candidates returned")
    lead_derived = forms.BooleanField(required=False, label="A lead was derived")
    further_action = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What followed (or that nothing did).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["searched_at"].initial = timezone.localtime().replace(microsecond=0)
        for n in range(1, VETTING_ROWS + 1):
            self.fields[f"vetter_{n}"] = forms.ModelChoiceField(
                queryset=vetter_accounts(), required=False, label=f"Vetting {n}: who vetted"
            )
            self.fields[f"result_{n}"] = forms.ChoiceField(
                choices=[("", "—"), *_choices([r.value for r in VettingResult])],
                required=False,
                label=f"Vetting {n}: result",
            )
            self.fields[f"notes_{n}"] = forms.CharField(
                required=False, max_length=500, label=f"Vetting {n}: notes"
            )

    @override
    def clean(self) -> dict[str, Any]:
        """A vetting row needs both the person and the result."""
        data = super().clean() or {}
        for n in range(1, VETTING_ROWS + 1):
            vetter, result = data.get(f"vetter_{n}"), data.get(f"result_{n}")
            if vetter and not result:
                self.add_error(f"result_{n}", "say what this person concluded")
            elif result and not vetter:
                self.add_error(f"vetter_{n}", "say who vetted")
        return data

    def to_outcome(self) -> SearchOutcome:
        """The cleaned form as the action's input (call after ``is_valid``)."""
        data = self.cleaned_data
        vettings = [
            VettingInput(data[f"vetter_{n}"].pk, data[f"result_{n}"], data[f"notes_{n}"])
            for n in range(1, VETTING_ROWS + 1)
            if data.get(f"vetter_{n}")
        ]
        return SearchOutcome(
            searched_at=data["searched_at"],
            candidates_returned=data["candidates_returned"],
            lead_derived=data["lead_derived"],
            further_action=data["further_action"],
            vettings=vettings,
        )


class SearchFilterForm(forms.Form):
    """Filters of the unit view; every field is optional."""

    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.order_by("name"), to_field_name="code", required=False
    )
    officer = forms.ModelChoiceField(queryset=Account.objects.none(), required=False)
    purpose = forms.ModelChoiceField(
        queryset=OffenceCategory.objects.all(), to_field_name="code", required=False
    )
    status = forms.ChoiceField(
        choices=[("", "All"), *_choices([s.value for s in SearchStatus])], required=False
    )
    requested_from = forms.DateField(
        required=False, label="Requested from", widget=forms.DateInput(attrs={"type": "date"})
    )
    requested_to = forms.DateField(
        required=False, label="Requested to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["officer"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = accounts.order_by("username")

    def filters(self) -> SearchFilters:
        """The valid filters (invalid ones are ignored; call after ``is_valid``)."""
        data = getattr(self, "cleaned_data", {})
        return SearchFilters(
            status=data.get("status") or "",
            system_code=data["system"].code if data.get("system") else "",
            purpose=data["purpose"].code if data.get("purpose") else "",
            officer_id=data["officer"].pk if data.get("officer") else None,
            requested_from=data.get("requested_from"),
            requested_to=data.get("requested_to"),
        )
