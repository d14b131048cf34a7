"""The reconcile form: a system, a period of dates and the tolerance."""

from __future__ import annotations

from typing import Any

from django import forms

from searchledger.apps.systems.models import ExternalSystem

__all__ = ["ReconcileForm"]

_DATE = {"type": "date"}


class ReconcileForm(forms.Form):
    """Which system's logs to reconcile, for which dates, with what tolerance."""

    system = forms.ChoiceField(help_text="The system whose imported access logs to check.")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs=_DATE))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs=_DATE))
    tolerance = forms.IntegerField(
        label="Tolerance (minutes)",
        initial=30,
        min_value=0,
        max_value=1440,
        help_text="How far apart a logged search and a documented one may be and still match.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        system = self.fields["system"]
        assert isinstance(system, forms.ChoiceField)
        system.choices = [(s.code, s.name) for s in ExternalSystem.objects.order_by("name")]
