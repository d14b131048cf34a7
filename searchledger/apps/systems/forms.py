"""Forms for the external systems catalogue."""

from __future__ import annotations

from django import forms

from searchledger.apps.systems.models import (
    AccessMethod,
    ExternalSystem,
    PrivacyAssessment,
    SystemKind,
)
from searchledger.apps.training.models import Course

__all__ = ["RulesForm", "SystemForm"]


class SystemForm(forms.Form):
    """Create or edit an external system."""

    code = forms.SlugField(max_length=40, help_text="Short identifier, e.g. mirs.")
    name = forms.CharField(max_length=200)
    owner = forms.CharField(max_length=200, help_text="Who runs it, e.g. a state agency.")
    kind = forms.ChoiceField(choices=SystemKind.choices)
    access_method = forms.ChoiceField(choices=AccessMethod.choices)
    reached_through = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.all(),
        required=False,
        to_field_name="code",
        help_text="The portal this system is reached through, if any.",
    )
    has_agreement = forms.BooleanField(required=False, label="An agreement or MOU exists")
    agreement_reference = forms.CharField(max_length=200, required=False)
    privacy_assessment = forms.ChoiceField(choices=PrivacyAssessment.choices)
    in_service = forms.BooleanField(required=False, initial=True)
    recertify_every_days = forms.IntegerField(min_value=30, max_value=1095, initial=365)
    required_courses = forms.ModelMultipleChoiceField(
        queryset=Course.objects.all(),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )


class RulesForm(forms.Form):
    """Publish a new version of a system's rules of behaviour."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), min_length=20)
