"""The upload form for bulk imports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from searchledger.apps.bulk.parsing import DEFAULT_MAX_BYTES, KINDS
from searchledger.core.uploads import binary_kind

__all__ = ["ImportForm", "upload_limit"]


def upload_limit() -> int:
    """The largest file the form accepts: the action's limit (``SEARCHLEDGER_IMPORT_MAX_BYTES``,
    default 5 MiB), so that raising the setting raises both."""
    return int(getattr(settings, "SEARCHLEDGER_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


class ImportForm(forms.Form):
    """Upload a CSV file of one kind; a dry run first, unless the box is unticked."""

    kind = forms.ChoiceField(choices=[(k, k.capitalize()) for k in KINDS])
    file = forms.FileField(help_text="A UTF-8 CSV file.")
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Dry run: check every row and report, write nothing",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"A UTF-8 CSV file of at most {upload_limit():,} bytes."

    def clean_file(self) -> bytes:
        """Read the upload, refusing oversized files before reading them whole."""
        upload = self.cleaned_data["file"]
        limit = upload_limit()
        if upload.size > limit:
            raise forms.ValidationError(
                f"the file is {upload.size:,} bytes; the limit is {limit:,}"
            )
        self.filename = upload.name
        data = bytes(upload.read())
        # An archive, image or executable is named; encodings and NUL bytes are the
        # parser's (it gives their line numbers).
        found = binary_kind(data[:64])
        if found is not None:
            raise forms.ValidationError(f"this is {found[0]}, not a CSV file ({found[1]})")
        return data
