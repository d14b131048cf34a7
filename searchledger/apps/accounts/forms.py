"""Forms for accounts."""

from __future__ import annotations

from django import forms

from searchledger.core.roles import Role

__all__ = ["AccountCreateForm", "AccountStatusForm"]


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
