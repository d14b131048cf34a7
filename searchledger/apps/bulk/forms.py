"""The upload form for bulk imports."""

from __future__ import annotations

from django import forms

from searchledger.apps.bulk.parsing import DEFAULT_MAX_BYTES, KINDS
from searchledger.core.uploads import binary_kind

__all__ = ["ImportForm"]


class ImportForm(forms.Form):
    """Upload a CSV file of one kind; a dry run first, unless the box is unticked."""

    kind = forms.ChoiceField(choices=[(k, k.capitalize()) for k in KINDS])
    file = forms.FileField(help_text=f"A UTF-8 CSV file of at most {DEFAULT_MAX_BYTES:,} bytes.")
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Dry run: check every row and report, write nothing",
    )

    def clean_file(self) -> bytes:
        """Read the upload, refusing oversized files before reading them whole."""
        upload = self.cleaned_data["file"]
        if upload.size > DEFAULT_MAX_BYTES:
            raise forms.ValidationError(
                f"the file is {upload.size:,} bytes; the limit is {DEFAULT_MAX_BYTES:,}"
            )
        self.filename = upload.name
        data = bytes(upload.read())
        # An archive, image or executable is named; encodings and NUL bytes are the
        # parser's (it gives their line numbers).
        found = binary_kind(data[:64])
        if found is not None:
            raise forms.ValidationError(f"this is {found[0]}, not a CSV file ({found[1]})")
        return data
