"""Forms for accounts."""

from __future__ import annotations

from typing import Any

from django import forms

from searchledger.apps.accounts.models import Account, OrgUnit, OrgUnitKind, scope_label
from searchledger.apps.accounts.tokens import token_scopes_for
from searchledger.core.roles import Role

__all__ = [
    "TOKEN_LIFETIMES",
    "AccountCreateForm",
    "AccountStatusForm",
    "ApiTokenForm",
    "AssignForm",
    "OrgUnitForm",
    "TotpCodeForm",
]


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


class TotpCodeForm(forms.Form):
    """The six-digit code an authenticator app shows."""

    code = forms.CharField(
        label="Six-digit code",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


# (days, label): how long a new API token may live. Every token expires within a year.
TOKEN_LIFETIMES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")]


class ApiTokenForm(forms.Form):
    """Issue a personal API token with some of the role's permissions."""

    name = forms.CharField(
        max_length=100,
        help_text="What will use the token, e.g. \u201ccase system nightly sync\u201d "
        "(recorded on the ledger as a commitment).",
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Only what the integration needs. A token can never do more than your "
        "role allows, now or later.",
    )
    lifetime_days = forms.TypedChoiceField(
        label="Expires after", coerce=int, choices=TOKEN_LIFETIMES, initial=90
    )

    def __init__(self, *args: Any, role: Role | str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        scopes.choices = [(p.value, scope_label(p.value)) for p in token_scopes_for(role)]
