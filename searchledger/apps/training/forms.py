"""Forms for training."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from searchledger.apps.accounts.models import Account
from searchledger.apps.training.models import Course, CourseProvider

__all__ = ["CompletionForm", "CourseForm"]


class CourseForm(forms.Form):
    """Add a course."""

    code = forms.SlugField(max_length=40)
    name = forms.CharField(max_length=200)
    provider = forms.ChoiceField(choices=CourseProvider.choices)
    valid_for_days = forms.IntegerField(
        min_value=1, max_value=1825, help_text="365 for annual training, 730 for biennial."
    )


class CompletionForm(forms.Form):
    """Record a completion, with its evidence."""

    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Person")
    course = forms.ModelChoiceField(queryset=Course.objects.all(), to_field_name="code")
    completed_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    evidence = forms.CharField(
        max_length=300, help_text="Certificate number, roster reference or similar."
    )

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = accounts.filter(is_active=True).order_by("username")
