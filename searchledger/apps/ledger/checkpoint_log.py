"""Checkpoints kept outside the database, and checking the database against them.

A database restored from an old backup holds a ledger that is internally perfect: every
entry, node and checkpoint in it agrees, it is merely shorter than the ledger the agency
had. ``verify`` alone cannot see that. What can is a checkpoint the agency signed later and
that lives somewhere the restore did not touch: the **checkpoint log** (every checkpoint
the ledger signs is appended to ``$SEARCHLEDGER_HOME/checkpoints.log``, or to
``SEARCHLEDGER_CHECKPOINT_LOG``, ideally on another volume), a witness's copy, the
checkpoint a published transparency report was computed from.

:func:`check_against` checks the database's (already verified) ledger against such
checkpoints: each must be signed by the ledger's key, no larger than the ledger, and its
root must equal the ledger's root at its size (the entries a checkpoint covers were not
changed or replaced). ``searchledger verify --checkpoint FILE`` and ``searchledger
restore`` use it.

The log is JSON lines, one object per checkpoint (``size``, ``root``, ``signed_at``,
``note``), appended with one ``write`` to a file opened ``O_APPEND`` and then fsynced, after
the checkpoint's transaction commits (a rolled-back checkpoint is never logged).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from searchledger.apps.ledger.models import Checkpoint as CheckpointRow
from searchledger.apps.ledger.selectors import get_node
from searchledger.apps.ledger.verify import VerificationFailure, VerificationReport
from searchledger.core.published import CSV_HEADER, parse_report_csv
from searchledger.ledger import merkle
from searchledger.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from searchledger.ledger.note import NoteError, Verifier

__all__ = [
    "CheckpointFileError",
    "ExternalCheckpoint",
    "check_against",
    "checkpoint_log_path",
    "log_checkpoint_on_commit",
    "read_checkpoint_file",
]

logger = logging.getLogger(__name__)


class CheckpointFileError(ValueError):
    """A checkpoint file cannot be read or holds no valid checkpoint; the message says why."""


@dataclass(frozen=True)
class ExternalCheckpoint:
    """A checkpoint from outside the database, and where it came from: a signed ``note``,
    or (``stated``) the tree size and root a published transparency report states: not
    signed itself, but given out, so a ledger that disagrees with it was rolled back or
    rewritten."""

    note: str
    source: str
    stated: Checkpoint | None = None


def checkpoint_log_path() -> Path:
    """``SEARCHLEDGER_CHECKPOINT_LOG``, else ``$SEARCHLEDGER_HOME/checkpoints.log``."""
    configured = getattr(settings, "SEARCHLEDGER_CHECKPOINT_LOG", "")
    return Path(configured) if configured else Path(settings.HOME) / "checkpoints.log"


def _append(row: CheckpointRow) -> None:
    line = json.dumps(
        {
            "size": row.size,
            "root": row.root,
            "signed_at": row.signed_at.isoformat(),
            "note": row.note,
        },
        sort_keys=True,
    )
    path = checkpoint_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        # The checkpoint is signed and stored; only its copy outside the database is
        # missing. Failing the caller (a page asking for the checkpoint) would not bring
        # the copy back, so say it loudly where operators look.
        logger.exception("could not append the checkpoint of size %s to %s", row.size, path)


def log_checkpoint_on_commit(row: CheckpointRow) -> None:
    """Append ``row`` to the checkpoint log once the transaction that stored it commits."""
    transaction.on_commit(lambda: _append(row))


def read_checkpoint_file(path: Path) -> list[ExternalCheckpoint]:
    """The checkpoints in ``path``: a signed checkpoint note (as printed by ``searchledger
    checkpoint``, by a witness or beside a published report, cosignatures allowed), a
    checkpoint log (JSON lines), or a published transparency report's CSV (the checkpoint
    it states). Signatures are checked later, by :func:`check_against`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointFileError(f"{path}: {exc}") from exc
    if not text.strip():
        raise CheckpointFileError(f"{path} is empty: it holds no checkpoint")
    if text.startswith(",".join(CSV_HEADER)):
        return [_from_report(path, text)]
    if not text.lstrip().startswith("{"):
        return [ExternalCheckpoint(note=text, source=str(path))]
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            note = record["note"]
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            # RecursionError: a line of JSON nested too deeply for the decoder.
            raise CheckpointFileError(
                f"{path} line {number} is not a checkpoint log record: {exc}"
            ) from exc
        if not isinstance(note, str):
            raise CheckpointFileError(f"{path} line {number}: 'note' is not text")
        found.append(ExternalCheckpoint(note=note, source=f"{path} line {number}"))
    return found


def _from_report(path: Path, text: str) -> ExternalCheckpoint:
    """The checkpoint a published transparency report (its CSV) was computed from."""
    try:
        meta = parse_report_csv(text).meta
        stated = Checkpoint(
            origin="published-report",
            size=meta.checkpoint_size,
            root_hash=bytes.fromhex(meta.checkpoint_root),
        )
    except (ValueError, CheckpointError) as exc:
        raise CheckpointFileError(f"{path} is not a published report's CSV: {exc}") from exc
    return ExternalCheckpoint(note="", source=f"{path} (published report)", stated=stated)


def open_external(checkpoint: ExternalCheckpoint, verifier: Verifier) -> Checkpoint:
    """The checkpoint's body, once its signature by the ledger's key is checked (a
    published report's checkpoint has none: its size and root are taken as stated)."""
    if checkpoint.stated is not None:
        return checkpoint.stated
    try:
        body, _note = open_checkpoint(checkpoint.note, verifier, origin=verifier.name)
    except (CheckpointError, NoteError) as exc:
        raise VerificationFailure(
            None, f"{checkpoint.source} is not a checkpoint signed by the ledger key: {exc}"
        ) from exc
    return body


def check_against(
    report: VerificationReport, checkpoints: Iterable[ExternalCheckpoint], verifier: Verifier
) -> int:
    """Check the database's ledger, already verified (``report``), against checkpoints
    from outside it; return how many were checked. Raises :class:`VerificationFailure`
    naming the first checkpoint the ledger is older than or inconsistent with."""
    count = 0
    for checkpoint in checkpoints:
        body = open_external(checkpoint, verifier)
        if body.size > report.entries:
            raise VerificationFailure(
                None,
                f"the database's ledger has {report.entries} entries but {checkpoint.source} "
                f"is a checkpoint signed at size {body.size}: the database is older than a "
                "checkpoint already given out (restored from an old backup, or entries "
                "deleted from the end)",
            )
        # verify_ledger has compared every stored node with the recomputed one, so the
        # root assembled from them is the root of the entries themselves.
        root = merkle.subtree_root(0, body.size, get_node)
        if root != body.root_hash:
            raise VerificationFailure(
                None,
                f"the database's first {body.size} entries do not have the root signed in "
                f"{checkpoint.source}: the ledger was rewritten since that checkpoint "
                "(a fork)",
            )
        count += 1
    return count
