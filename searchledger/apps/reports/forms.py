"""Forms of the reports pages: the dashboard's filters, the draft transparency report's
period and threshold, and publishing it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from typing_extensions import override

from searchledger.apps.accounts.models import OrgUnit
from searchledger.apps.reports.transparency import MAX_THRESHOLD
from searchledger.apps.systems.models import ExternalSystem

__all__ = ["DashboardFilterForm", "PublishReportForm", "ReportPeriodForm"]


class _MonthField(forms.Field):
    """A month as ``YYYY-MM`` (an ``<input type="month">``), cleaned to its first day."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.TextInput(attrs={"type": "month"}), **kwargs)

    @override
    def to_python(self, value: Any) -> date | None:
        """The first day of the month given."""
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) != 7:
            raise forms.ValidationError("give a month as YYYY-MM")
        try:
            return date.fromisoformat(f"{text}-01")
        except ValueError as exc:
            raise forms.ValidationError("give a month as YYYY-MM") from exc


class DashboardFilterForm(forms.Form):
    """The dashboard's filters; every field is optional (defaults: the last 12 months)."""

    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label="Every unit in my scope",
    )
    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label="Every system",
    )
    first_month = _MonthField(required=False, label="From month")
    last_month = _MonthField(required=False, label="To month")

    @override
    def clean(self) -> dict[str, Any]:
        """The months must not be inverted."""
        data = super().clean() or {}
        first, last = data.get("first_month"), data.get("last_month")
        if first and last and last < first:
            self.add_error("last_month", "the last month is before the first")
        return data


class ReportPeriodForm(forms.Form):
    """The period (first and last day, both included) and the suppression threshold."""

    start = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    threshold = forms.IntegerField(
        label="Suppression threshold",
        min_value=1,
        max_value=MAX_THRESHOLD,
        initial=5,
        help_text="Counts from 1 to one less than this are suppressed.",
    )

    @override
    def clean(self) -> dict[str, Any]:
        """The period must not be inverted."""
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "the last day is before the first")
        return data


class PublishReportForm(ReportPeriodForm):
    """Publishing: the period, the threshold and the report's title."""

    agency_title = forms.CharField(
        label="Agency (the report's title)",
        max_length=200,
        help_text="Shown at the top of the public report.",
    )
