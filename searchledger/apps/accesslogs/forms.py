"""Forms for access logs: the column mapping, the upload, mapping an external account."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from searchledger.apps.accounts.models import Account
from searchledger.core.accesslogs import ENCODINGS, LogFormat, MappingSpec
from searchledger.core.uploads import text_problem

__all__ = [
    "DEFAULT_MAX_UPLOAD",
    "AccountMapForm",
    "AccountMappingsForm",
    "MappingForm",
    "UploadForm",
    "upload_limit",
]

MAPPINGS_MAX_BYTES = 5 * 1024 * 1024

DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024
"""The web upload limit (setting ``SEARCHLEDGER_MAX_LOG_UPLOAD_BYTES``): 512 MiB."""


def upload_limit() -> int:
    """The largest file the upload page accepts; larger ones go through the CLI."""
    return int(getattr(settings, "SEARCHLEDGER_MAX_LOG_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD))


class MappingForm(forms.Form):
    """How to read a system's log; saving makes a new mapping version."""

    format = forms.ChoiceField(choices=[(f.value, f.value.upper()) for f in LogFormat])
    delimiter = forms.CharField(
        max_length=1, required=False, initial=",", strip=False, help_text="CSV only."
    )
    encoding = forms.ChoiceField(choices=[(e, e) for e in ENCODINGS], initial="utf-8")
    account_id = forms.CharField(max_length=120, label="Account id column (or JSON key)")
    timestamp = forms.CharField(max_length=120, label="Timestamp column")
    action = forms.CharField(max_length=120, label="Action column")
    reference = forms.CharField(max_length=120, label="Query or record reference column")
    case_ref = forms.CharField(max_length=120, required=False, label="Case reference column")
    timestamp_format = forms.CharField(
        max_length=120,
        required=False,
        help_text="Blank for ISO 8601 (2026-03-01T10:00:00Z); else a strptime pattern such as "
        "%d/%m/%Y %H:%M:%S %z.",
    )
    naive_timezone = forms.CharField(
        max_length=64,
        required=False,
        label="Time zone of timestamps without an offset",
        help_text="Blank: a timestamp without an offset is a rejected row. Else an IANA zone, "
        "e.g. America/New_York.",
    )
    search_actions = forms.CharField(
        max_length=500,
        help_text="The action values that count as searches, separated by commas.",
    )
    system_column = forms.CharField(
        max_length=120,
        required=False,
        help_text="Optional: a column naming the system; rows with another value are rejected.",
    )
    system_value = forms.CharField(max_length=200, required=False)

    @staticmethod
    def initial_from(spec: MappingSpec | None) -> dict[str, Any]:
        """The form's initial values for an existing mapping."""
        if spec is None:
            return {"format": "csv", "delimiter": ",", "encoding": "utf-8"}
        data = spec.as_json()
        data["search_actions"] = ", ".join(spec.search_actions)
        return data

    def spec(self) -> MappingSpec:
        """The mapping the cleaned form describes (validated by the action)."""
        data = self.cleaned_data
        return MappingSpec(
            format=LogFormat(data["format"]),
            delimiter=data["delimiter"] or ",",
            encoding=data["encoding"],
            account_column=data["account_id"].strip(),
            timestamp_column=data["timestamp"].strip(),
            action_column=data["action"].strip(),
            reference_column=data["reference"].strip(),
            case_ref_column=data["case_ref"].strip(),
            timestamp_format=data["timestamp_format"].strip(),
            naive_timezone=data["naive_timezone"].strip(),
            search_actions=tuple(a.strip() for a in data["search_actions"].split(",") if a.strip()),
            system_column=data["system_column"].strip(),
            system_value=data["system_value"].strip(),
        )


class UploadForm(forms.Form):
    """Upload a log file of a system."""

    file = forms.FileField(help_text="CSV or JSON lines, as the system's mapping says.")
    strict = forms.BooleanField(
        required=False, label="Strict: any rejected row fails the whole import"
    )

    def __init__(self, *args: Any, encoding: str = "utf-8", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoding = encoding

    def clean_file(self) -> Any:
        """Refuse a file above the web upload limit, pointing to the command line, and a
        file that is not text in the mapping's encoding (an archive, an image, an
        executable, another encoding's byte order mark, a NUL byte), before anything is
        stored or recorded."""
        upload = self.cleaned_data["file"]
        limit = upload_limit()
        if upload.size > limit:
            raise forms.ValidationError(
                f"the file is {upload.size:,} bytes; the web upload limit is {limit:,} bytes. "
                "Import it with the command line, which streams it from disk: "
                "searchledger import-log SYSTEM FILE --actor YOUR_USERNAME"
            )
        problem = text_problem(upload.chunks(), "a CSV or JSON lines file", self.encoding)
        if problem is not None:
            raise forms.ValidationError(problem)
        return upload


class AccountMapForm(forms.Form):
    """Name the person an external account belongs to."""

    account = forms.ModelChoiceField(
        queryset=Account.objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        label="Person",
    )


class AccountMappingsForm(forms.Form):
    """Upload a CSV file of account mappings: ``external_id,username``, one a line."""

    file = forms.FileField(
        label="Mappings (CSV)",
        help_text="Header external_id,username; one external account and person a line.",
    )

    def clean_file(self) -> bytes:
        """The file's bytes, refusing files over 5 MiB before reading them and files that
        are not UTF-8 text (an archive, an image, an executable, UTF-16, a NUL byte)."""
        upload = self.cleaned_data["file"]
        if upload.size > MAPPINGS_MAX_BYTES:
            raise forms.ValidationError(
                f"the file is {upload.size:,} bytes; the limit is {MAPPINGS_MAX_BYTES:,}"
            )
        data = bytes(upload.read())
        problem = text_problem([data], "a CSV file")
        if problem is not None:
            raise forms.ValidationError(problem)
        return data
