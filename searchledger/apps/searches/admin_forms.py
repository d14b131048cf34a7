"""Forms of the administrator pages for search policies, offence categories and known
cases. They check shapes only; the actions decide everything else and their
``ValidationError`` is attached to the fields it names."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from searchledger.apps.accounts.models import OrgUnit
from searchledger.apps.searches.actions import PolicySettings
from searchledger.apps.searches.models import OffenceCategory, OffenceGroup, SearchPolicy
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.searches import LeadGeneration

__all__ = ["CaseForm", "OffenceCategoryForm", "PolicyForm"]

_PURPOSE_FIELDS = ("allowed_purposes", "forbidden_purposes", "approval_purposes")


class PolicyForm(forms.Form):
    """A new version of the search policy for a unit (or the agency) and a system (or
    every system)."""

    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="Agency-wide",
        label="Unit",
        help_text="Applies to the unit and the units below it, unless they have their own.",
    )
    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label="Every system",
    )
    allowed_purposes = forms.MultipleChoiceField(
        required=False,
        help_text="If any are chosen, only these purposes may be searched for.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    forbidden_purposes = forms.MultipleChoiceField(
        required=False,
        help_text="Never searched for under this policy.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    approval_required = forms.BooleanField(
        required=False, label="Every search needs a supervisor's approval first"
    )
    approval_purposes = forms.MultipleChoiceField(
        required=False,
        help_text="Searches for these purposes need a supervisor's approval first.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    lead_generation = forms.ChoiceField(
        choices=[(m.value, m.value.replace("_", " ").capitalize()) for m in LeadGeneration],
        label="Searches that would generate a new lead",
    )
    require_conventional_techniques = forms.BooleanField(
        required=False,
        initial=True,
        label="Conventional identification techniques must be tried first",
    )
    require_known_open_case = forms.BooleanField(
        required=False, label="The case must be a known open case"
    )
    case_number_pattern = forms.CharField(
        required=False,
        max_length=200,
        help_text="A regular expression case numbers must match, e.g. BAL-\\d{4}-\\d{4}.",
    )
    documentation_business_days = forms.IntegerField(
        min_value=0, initial=2, help_text="Business days to document the outcome in."
    )
    two_person_verification = forms.BooleanField(
        required=False, label="A lead needs two people to have vetted the candidates"
    )
    store_probe_images = forms.BooleanField(required=False, label="Keep probe images")
    probe_retention_days = forms.IntegerField(min_value=0, initial=0)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why this change")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = [(c.code, c.label) for c in OffenceCategory.objects.filter(active=True)]
        for name in _PURPOSE_FIELDS:
            cast(forms.MultipleChoiceField, self.fields[name]).choices = codes

    @staticmethod
    def initial_from(policy: SearchPolicy) -> dict[str, Any]:
        """The form's initial values: those of ``policy`` (the version being replaced)."""
        return {
            "org_unit": policy.org_unit.code if policy.org_unit else None,
            "system": policy.system.code if policy.system else None,
            "allowed_purposes": policy.allowed_purposes,
            "forbidden_purposes": policy.forbidden_purposes,
            "approval_required": policy.approval_required,
            "approval_purposes": policy.approval_purposes,
            "lead_generation": policy.lead_generation,
            "require_conventional_techniques": policy.require_conventional_techniques,
            "require_known_open_case": policy.require_known_open_case,
            "case_number_pattern": policy.case_number_pattern,
            "documentation_business_days": policy.documentation_business_days,
            "two_person_verification": policy.two_person_verification,
            "store_probe_images": policy.store_probe_images,
            "probe_retention_days": policy.probe_retention_days,
        }

    def settings(self) -> PolicySettings:
        """The cleaned data as the action's input."""
        data = self.cleaned_data
        return PolicySettings(
            allowed_purposes=data["allowed_purposes"],
            forbidden_purposes=data["forbidden_purposes"],
            approval_required=data["approval_required"],
            approval_purposes=data["approval_purposes"],
            lead_generation=data["lead_generation"],
            require_conventional_techniques=data["require_conventional_techniques"],
            require_known_open_case=data["require_known_open_case"],
            case_number_pattern=data["case_number_pattern"],
            documentation_business_days=data["documentation_business_days"],
            two_person_verification=data["two_person_verification"],
            store_probe_images=data["store_probe_images"],
            probe_retention_days=data["probe_retention_days"],
        )


class CaseForm(forms.Form):
    """A case known to be open in a case-management system."""

    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(), to_field_name="code", label="Unit"
    )
    case_system = forms.CharField(
        max_length=40, label="Case-management system", help_text="e.g. ICM or EID/EARM."
    )
    number = forms.CharField(max_length=64, label="Case number")

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[OrgUnit]", self.fields["org_unit"]).queryset = units.order_by(
            "code"
        )


class OffenceCategoryForm(forms.Form):
    """A new purpose (offence category) that policies may allow or forbid."""

    code = forms.CharField(
        max_length=60, help_text="Lower-case letters, digits and underscores; never changes."
    )
    label = forms.CharField(max_length=200)
    group = forms.ChoiceField(choices=OffenceGroup.choices, initial=OffenceGroup.AGENCY)
    nibrs_codes = forms.CharField(
        max_length=200, required=False, label="NIBRS offence codes", help_text="e.g. 13A 13B"
    )
