"""Forms for access grants."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.systems.models import ExternalSystem

__all__ = ["DecisionForm", "GrantRequestForm", "RecertifyForm"]


class GrantRequestForm(forms.Form):
    """Request access for a person to a system."""

    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Person")
    system = forms.ModelChoiceField(
        queryset=ExternalSystem.objects.filter(in_service=True), to_field_name="code"
    )
    job_function = forms.CharField(
        max_length=200, help_text="The job function that needs this access."
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=20,
        help_text="The need to know: why this person's work requires searching this system.",
    )
    external_account_id = forms.CharField(
        max_length=200, required=False, help_text="The person's account id on that system."
    )
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = accounts.filter(is_active=True).order_by("username")
        self.fields["starts_on"].initial = timezone.localdate()


class DecisionForm(forms.Form):
    """Approve, refuse or revoke, with a reason."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RecertifyForm(forms.Form):
    """Recertify a grant: the need continues."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to keep the current expiry.",
    )
