"""Forms for accounts."""

from __future__ import annotations

from django import forms

from searchledger.apps.accounts.models import Account, OrgUnit, OrgUnitKind
from searchledger.core.roles import Role

__all__ = ["AccountCreateForm", "AccountStatusForm", "AssignForm", "OrgUnitForm"]


class AccountCreateForm(forms.Form):
    """Create an account with an initial password."""

    username = forms.CharField(max_length=150)
    full_name = forms.CharField(max_length=300, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])
    password = forms.CharField(widget=forms.PasswordInput, min_length=12, strip=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this person needs an account (recorded on the ledger as a commitment).",
    )


class AccountStatusForm(forms.Form):
    """Deactivate or reactivate an account, with a reason."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class OrgUnitForm(forms.Form):
    """Add a unit to the organisation tree."""

    code = forms.SlugField(max_length=40)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=OrgUnitKind.choices)
    parent = forms.ModelChoiceField(
        queryset=OrgUnit.objects.all(), required=False, to_field_name="code"
    )


class AssignForm(forms.Form):
    """Place a person in a unit, under a supervisor."""

    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.all(), required=False, to_field_name="code", label="Unit"
    )
    supervisor = forms.ModelChoiceField(
        queryset=Account.objects.filter(
            is_active=True, role__in=[Role.SUPERVISOR.value, Role.ADMINISTRATOR.value]
        ).order_by("username"),
        required=False,
    )
    job_title = forms.CharField(max_length=200, required=False)
