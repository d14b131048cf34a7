"""Forms of the oversight register. They parse input; the actions decide."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.core.oversight import DEFAULT_RESPONSE_DAYS, Closure, RecommendationStatus

__all__ = ["MemoForm", "MilestoneDoneForm", "MilestoneForm", "ResponseForm", "StatusForm"]

_DATE = forms.DateInput(attrs={"type": "date"})


class MemoForm(forms.Form):
    """A memorandum and its recommendations, separated by blank lines."""

    body = forms.CharField(max_length=200, label="Oversight body", help_text="e.g. DHS CRCL")
    reference = forms.CharField(max_length=100, help_text="e.g. Complaint No. 20-05-ICE-0474")
    title = forms.CharField(max_length=300)
    issued_on = forms.DateField(widget=_DATE, label="Issued on")
    response_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        initial=DEFAULT_RESPONSE_DAYS,
        label="Response due after (days)",
    )
    recommendations = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="One recommendation per paragraph, in order; separate them with a blank "
        "line. Where the public version is redacted, say so.",
    )

    def texts(self) -> list[str]:
        """The recommendations, one per paragraph."""
        text = self.cleaned_data["recommendations"].replace("\r\n", "\n")
        return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


class ResponseForm(forms.Form):
    """The agency's response to one recommendation."""

    response = forms.ChoiceField(
        choices=[
            ("concur", "Concur"),
            ("partially_concur", "Partially concur"),
            ("non_concur", "Non-concur"),
        ]
    )
    reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="Required for a full or partial non-concurrence.",
    )
    responded_on = forms.DateField(widget=_DATE, initial=timezone.localdate)


class MilestoneForm(forms.Form):
    """A step of an action plan."""

    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(
        queryset=Account.objects.filter(is_active=True).order_by("username"),
        to_field_name="pk",
    )
    due_on = forms.DateField(widget=_DATE)


class MilestoneDoneForm(forms.Form):
    """Marking a milestone done."""

    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    done_on = forms.DateField(widget=_DATE, initial=timezone.localdate)


class StatusForm(forms.Form):
    """What the oversight body decided about a recommendation."""

    status = forms.ChoiceField(
        choices=[
            (s.value, s.value.replace("_", ", ", 1).capitalize()) for s in RecommendationStatus
        ]
    )
    closure = forms.ChoiceField(
        choices=[("", "(not closed)")]
        + [(c.value, c.value.replace("_", " ").capitalize()) for c in Closure],
        required=False,
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    on = forms.DateField(widget=_DATE, initial=timezone.localdate, label="Decided on")
