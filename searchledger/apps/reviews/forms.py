"""Forms for supervisory review: opening a campaign and the checklist of one sampled
search. Forms only parse input; the rules are the actions' and ``core.reviews``'."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from searchledger.apps.accounts.models import OrgUnit
from searchledger.apps.reviews.actions import MAX_SEED, CampaignRequest, ReviewInput
from searchledger.core.reviews import (
    Answer,
    ChecklistItem,
    ReviewVerdict,
    Severity,
    severity_for_item,
)

__all__ = ["CampaignForm", "ChecklistForm", "CloseCampaignForm"]

_ANSWERS = [
    (Answer.YES.value, "Yes"),
    (Answer.NO.value, "No"),
    (Answer.NOT_APPLICABLE.value, "N/A"),
]
_DATE = {"type": "date"}


class CampaignForm(forms.Form):
    """Open a campaign: which unit (and the units below it), which period, the deadline,
    the random share of the searches not sampled by rule, and an optional seed."""

    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(), to_field_name="code", label="Unit (and the units below)"
    )
    period_start = forms.DateField(widget=forms.DateInput(attrs=_DATE))
    period_end = forms.DateField(widget=forms.DateInput(attrs=_DATE))
    deadline = forms.DateField(widget=forms.DateInput(attrs=_DATE))
    random_share = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(1),
        decimal_places=3,
        initial=Decimal("0.10"),
        help_text="The share of the other searches drawn at random, from 0 to 1.",
    )
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_SEED,
        help_text="Leave empty to have one generated; it is recorded on the ledger.",
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["org_unit"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = units.order_by("name")

    def request(self) -> CampaignRequest:
        """The action's input (call after ``is_valid``)."""
        data = self.cleaned_data
        return CampaignRequest(
            org_unit_code=data["org_unit"].code,
            period_start=data["period_start"],
            period_end=data["period_end"],
            deadline=data["deadline"],
            random_share=data["random_share"],
            seed=data.get("seed"),
        )

    @staticmethod
    def defaults() -> dict[str, object]:
        """Initial values: the last full quarter, due in 30 days."""
        today = timezone.localdate()
        quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        end = quarter_start - timedelta(days=1)
        start = end.replace(month=3 * ((end.month - 1) // 3) + 1, day=1)
        return {
            "period_start": start,
            "period_end": end,
            "deadline": today + timedelta(days=30),
            "random_share": Decimal("0.10"),
        }


class ChecklistForm(forms.Form):
    """The checklist of one sampled search: an answer per item and, for an item answered
    "no", whether to raise a finding and with which severity; the verdict and notes."""

    verdict = forms.ChoiceField(
        choices=[(v.value, v.value.replace("_", " ").capitalize()) for v in ReviewVerdict],
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in ChecklistItem:
            self.fields[item.value] = forms.ChoiceField(
                label=item.label,
                choices=_ANSWERS,
                widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
            )
            self.fields[f"raise_{item.value}"] = forms.BooleanField(
                required=False,
                label="Raise a finding if no",
                widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
            )
            self.fields[f"severity_{item.value}"] = forms.ChoiceField(
                required=False,
                label="Severity",
                choices=[(s.value, s.value.capitalize()) for s in Severity],
                initial=severity_for_item(item).value,
            )

    def rows(
        self,
    ) -> list[tuple[ChecklistItem, forms.BoundField, forms.BoundField, forms.BoundField]]:
        """Each item with its answer, raise-a-finding and severity fields, for the template."""
        return [
            (i, self[i.value], self[f"raise_{i.value}"], self[f"severity_{i.value}"])
            for i in ChecklistItem
        ]

    def review(self) -> ReviewInput:
        """The action's input (call after ``is_valid``)."""
        data = self.cleaned_data
        items = list(ChecklistItem)
        return ReviewInput(
            answers={i.value: data[i.value] for i in items},
            verdict=data["verdict"],
            notes=data.get("notes") or "",
            raise_findings=[
                i.value
                for i in items
                if data.get(f"raise_{i.value}") and data[i.value] == Answer.NO.value
            ],
            severities={
                i.value: data[f"severity_{i.value}"]
                for i in items
                if data.get(f"severity_{i.value}")
            },
        )


class CloseCampaignForm(forms.Form):
    """Close a campaign, with an optional note."""

    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
