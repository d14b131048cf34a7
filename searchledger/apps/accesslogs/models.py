"""Persistence for external access logs. Rows change only through ``accesslogs.actions``.

The events themselves are not in the database: each completed import's validated events
are one Parquet file under ``$SEARCHLEDGER_HOME/access-logs/<system>/`` (see
docs/access-logs.md), whose SHA-256 is kept here and on the ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override

from searchledger.core.accesslogs import LogFormat, MappingSpec

__all__ = [
    "AccessLogImport",
    "ColumnMapping",
    "ExternalAccount",
    "ImportStatus",
    "RejectedRow",
]


class ColumnMapping(models.Model):
    """One version of how to read a system's access log (``core.accesslogs.MappingSpec``).
    Versions are never edited: a change is a new version, with its own ledger entry."""

    system = models.ForeignKey(
        "systems.ExternalSystem", on_delete=models.PROTECT, related_name="log_mappings"
    )
    version = models.PositiveIntegerField()
    format = models.CharField(
        max_length=8, choices=[(f.value, f.value) for f in LogFormat], default=LogFormat.CSV
    )
    delimiter = models.CharField(max_length=1, default=",")
    encoding = models.CharField(max_length=10, default="utf-8")
    account_column = models.CharField(max_length=120)
    timestamp_column = models.CharField(max_length=120)
    action_column = models.CharField(max_length=120)
    reference_column = models.CharField(max_length=120)
    case_ref_column = models.CharField(max_length=120, blank=True)
    timestamp_format = models.CharField(max_length=120, blank=True)
    naive_timezone = models.CharField(max_length=64, blank=True)
    search_actions = models.JSONField(default=list)
    system_column = models.CharField(max_length=120, blank=True)
    system_value = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="log_mapping_version_once")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.system} log mapping v{self.version}"

    def spec(self) -> MappingSpec:
        """The pure mapping the importer reads with."""
        return MappingSpec(
            format=LogFormat(self.format),
            delimiter=self.delimiter,
            encoding=self.encoding,
            account_column=self.account_column,
            timestamp_column=self.timestamp_column,
            action_column=self.action_column,
            reference_column=self.reference_column,
            case_ref_column=self.case_ref_column,
            timestamp_format=self.timestamp_format,
            naive_timezone=self.naive_timezone,
            search_actions=tuple(str(a) for a in self.search_actions),
            system_column=self.system_column,
            system_value=self.system_value,
        )


class ImportStatus(models.TextChoices):
    """Where an import stands. Only ``completed`` imports count."""

    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class AccessLogImport(models.Model):
    """One import of a system's access log file: what was read, what was kept, what was
    rejected and why, and where the events are. A failed or interrupted import can be run
    again under the same id; its events count only once it is ``completed``."""

    system = models.ForeignKey(
        "systems.ExternalSystem", on_delete=models.PROTECT, related_name="log_imports"
    )
    mapping = models.ForeignKey(ColumnMapping, on_delete=models.PROTECT, related_name="imports")
    original_name = models.CharField(max_length=200)
    source_path = models.CharField(
        max_length=1000, help_text="Where the file is read from (the spool, or the CLI's path)."
    )
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    strict = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=1)
    records_read = models.BigIntegerField(default=0)
    valid_events = models.BigIntegerField(default=0)
    searches = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    duplicates_in_file = models.BigIntegerField(default=0)
    duplicates_earlier = models.BigIntegerField(default=0)
    formula_cells = models.BigIntegerField(default=0)
    first_event_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    reject_reasons = models.JSONField(default=dict, help_text="Reason -> number of rows.")
    failure = models.TextField(blank=True)
    phase = models.CharField(max_length=60, blank=True)
    percent = models.FloatField(default=0.0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    parquet_path = models.CharField(max_length=1000, blank=True)
    parquet_sha256 = models.CharField(max_length=64, blank=True)
    rejects_path = models.CharField(max_length=1000, blank=True)
    rejects_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "sha256"],
                condition=~Q(status="failed"),
                name="access_log_file_once_per_system",
            )
        ]

    @override
    def __str__(self) -> str:
        return f"import {self.pk} of {self.original_name} ({self.status})"


class RejectedRow(models.Model):
    """One of the first rejected rows of an import (the full list is the import's rejects
    CSV). ``record`` is the data record number (1-based, header excluded); ``line`` is the
    physical line, known only for rows the CSV reader itself could not split."""

    log_import = models.ForeignKey(
        AccessLogImport, on_delete=models.CASCADE, related_name="rejected_rows"
    )
    record = models.BigIntegerField(null=True, blank=True)
    line = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["log_import", "record", "line", "pk"]

    @override
    def __str__(self) -> str:
        where = f"record {self.record}" if self.record is not None else f"line {self.line}"
        return f"{where}: {self.reason}"


class ExternalAccount(models.Model):
    """An account id seen in a system's completed imports, with what it did and, once an
    administrator maps it, the person it belongs to. An unmapped account that searched is
    someone with access the agency does not know about."""

    system = models.ForeignKey(
        "systems.ExternalSystem", on_delete=models.PROTECT, related_name="external_accounts"
    )
    external_id = models.CharField(max_length=300)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="external_accounts",
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    events = models.BigIntegerField(default=0)
    searches = models.BigIntegerField(default=0)
    mapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "external_id"], name="external_account_once_per_system"
            )
        ]

    @override
    def __str__(self) -> str:
        return f"{self.external_id} on {self.system}"
