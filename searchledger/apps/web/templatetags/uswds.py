"""Template filters that render Django form widgets with USWDS classes."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

__all__ = ["uswds"]

register = template.Library()


@register.filter
def uswds(field: forms.BoundField) -> SafeString:
    """Render ``field`` with the USWDS class for its widget, and ARIA links to its hint
    and error."""
    widget = field.field.widget
    attrs: dict[str, str | bool] = {}
    if isinstance(widget, forms.Select) and not isinstance(widget, forms.SelectMultiple):
        attrs["class"] = "usa-select"
    elif isinstance(widget, forms.Textarea):
        attrs["class"] = "usa-textarea"
    elif isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
        pass
    else:
        attrs["class"] = "usa-input"
    if field.errors:
        attrs["class"] = f"{attrs.get('class', '')} usa-input--error".strip()
        attrs["aria-invalid"] = "true"
    if field.help_text:
        attrs["aria-describedby"] = f"{field.id_for_label}-hint"
    return field.as_widget(attrs=attrs)
