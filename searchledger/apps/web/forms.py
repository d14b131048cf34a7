"""Helpers shared by forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

__all__ = ["add_validation_errors"]


def add_validation_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach an action's ValidationError to the form fields it names (or to the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
