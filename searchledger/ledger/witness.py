"""A witness (c2sp.org/tlog-witness) for the ledger, and the requests a log sends to one.

An oversight body runs the witness. For each log it knows (by the log's verifier key) it
remembers the last checkpoint it cosigned. It cosigns a new checkpoint only if

1. the checkpoint is signed by the log's key;
2. the request's ``old`` size is the size the witness last cosigned (else *conflict*: the
   log must ask again from the witness's size);
3. the consistency proof from that size to the new one verifies against the root the
   witness remembers (else *inconsistent*: the log has rewritten history or shows
   different views to different parties; the witness refuses loudly and keeps the request
   as evidence);

and it then returns a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature), which
the log stores beside its checkpoint. The request body is the add-checkpoint format: a line
``old <size>``, the consistency proof as base64 lines, an empty line, then the signed
checkpoint note.

The state is a small JSON document the caller persists (atomically, before answering); the
functions here are pure.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from searchledger.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from searchledger.ledger.merkle import HASH_SIZE, ProofError, verify_consistency
from searchledger.ledger.note import (
    COSIGNATURE_TYPE,
    CosignatureSigner,
    NoteError,
    Signature,
    Verifier,
    cosign_note,
    cosignature_timestamp,
    open_note,
)

__all__ = [
    "KnownLog",
    "Refusal",
    "WitnessRefused",
    "WitnessState",
    "add_checkpoint",
    "format_add_checkpoint",
    "open_cosignature",
    "parse_add_checkpoint",
]

# "old <size>": ASCII digits, no leading zeros, at most the 20 digits of a uint64 (str.isdigit
# would also take superscripts and other scripts' digits, which int() then refuses).
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")
_MAX_PROOF_HASHES = 63


class Refusal(StrEnum):
    """Why a witness refused, with the HTTP status tlog-witness gives each."""

    MALFORMED = "malformed"  # 400
    UNKNOWN_LOG = "unknown log"  # 404
    BAD_SIGNATURE = "bad signature"  # 403
    CONFLICT = "conflict"  # 409: the old size is not the witness's
    INCONSISTENT = "inconsistent"  # 422: the proof does not verify: a fork or a rewrite

    @property
    def http_status(self) -> int:
        """The status code tlog-witness uses for this refusal."""
        return {
            Refusal.MALFORMED: 400,
            Refusal.UNKNOWN_LOG: 404,
            Refusal.BAD_SIGNATURE: 403,
            Refusal.CONFLICT: 409,
            Refusal.INCONSISTENT: 422,
        }[self]


class WitnessRefused(ValueError):
    """The witness will not cosign; ``refusal`` says why and ``known_size`` is the size it
    last cosigned (for a conflict)."""

    def __init__(self, refusal: Refusal, message: str, known_size: int | None = None) -> None:
        super().__init__(f"{refusal.value}: {message}")
        self.refusal = refusal
        self.known_size = known_size


@dataclass(frozen=True)
class KnownLog:
    """A log the witness follows: its verifier key and the last checkpoint it cosigned."""

    verifier_key: str
    size: int = 0
    root: bytes = b""

    @property
    def verifier(self) -> Verifier:
        """The log's signature verifier."""
        return Verifier.from_verifier_key(self.verifier_key)


@dataclass(frozen=True)
class WitnessState:
    """Every log the witness follows, by origin."""

    logs: dict[str, KnownLog]

    def to_json(self) -> str:
        """The state as a JSON document (roots in base64)."""
        return json.dumps(
            {
                "logs": {
                    origin: {
                        "verifier_key": log.verifier_key,
                        "size": log.size,
                        "root": base64.b64encode(log.root).decode("ascii"),
                    }
                    for origin, log in sorted(self.logs.items())
                }
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> WitnessState:
        """Read the state written by :meth:`to_json`; ``ValueError`` saying what is wrong
        with a document that is not one."""
        try:
            data: Any = json.loads(text)
            logs = {
                str(origin): KnownLog(
                    str(log["verifier_key"]),
                    int(log["size"]),
                    base64.b64decode(log["root"], validate=True),
                )
                for origin, log in data["logs"].items()
            }
        except (KeyError, TypeError, AttributeError, RecursionError) as exc:
            # KeyError's text is only the key; say what the document lacks.
            raise ValueError(
                f"the witness state is not a {{logs: {{origin: {{verifier_key, size, root}}}}}} "
                f"document ({type(exc).__name__}: {exc})"
            ) from exc
        except ValueError as exc:  # JSON, int() and base64 errors
            raise ValueError(f"the witness state is malformed: {exc}") from exc
        return cls(logs)

    def follow(self, verifier_key: str) -> WitnessState:
        """The state with a new log to follow (from size 0); its origin is the key's name."""
        origin = Verifier.from_verifier_key(verifier_key).name
        if origin in self.logs:
            raise WitnessRefused(Refusal.MALFORMED, f"the witness already follows {origin}")
        return WitnessState({**self.logs, origin: KnownLog(verifier_key)})


def format_add_checkpoint(old_size: int, proof: list[bytes], note: str) -> str:
    """The add-checkpoint request body for ``note`` from ``old_size`` with ``proof``."""
    lines = [f"old {old_size}", *(base64.b64encode(p).decode("ascii") for p in proof)]
    return "\n".join(lines) + "\n\n" + note


def parse_add_checkpoint(body: str) -> tuple[int, list[bytes], str]:
    """Split a request body into the old size, the proof and the checkpoint note."""
    head, separator, note = body.partition("\n\n")
    if not separator or not note:
        raise WitnessRefused(Refusal.MALFORMED, "no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    old = _OLD_LINE.fullmatch(first)
    if old is None:
        raise WitnessRefused(Refusal.MALFORMED, f"the first line is {first[:40]!r}, not 'old N'")
    if len(lines) - 1 > _MAX_PROOF_HASHES:
        # Checked before decoding: a long proof is refused without decoding every line.
        raise WitnessRefused(Refusal.MALFORMED, f"a proof of {len(lines) - 1} hashes is too long")
    proof = []
    for number, line in enumerate(lines[1:], 2):
        try:
            node = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WitnessRefused(Refusal.MALFORMED, f"proof line {number} is not base64") from exc
        if len(node) != HASH_SIZE:
            raise WitnessRefused(Refusal.MALFORMED, f"proof line {number} is not a hash")
        proof.append(node)
    return int(old.group(1)), proof, note


def add_checkpoint(
    state: WitnessState, body: str, witness: CosignatureSigner, timestamp: int
) -> tuple[WitnessState, str, Checkpoint]:
    """Check an add-checkpoint request; return the new state (persist it before answering),
    the cosignature line(s) to send back and the checkpoint. Raises :class:`WitnessRefused`.
    """
    old_size, proof, note = parse_add_checkpoint(body)
    origin = note.split("\n", 1)[0]
    known = state.logs.get(origin)
    if known is None:
        raise WitnessRefused(Refusal.UNKNOWN_LOG, f"the witness does not follow {origin!r}")
    try:
        checkpoint, _ = open_checkpoint(note, known.verifier, origin)
    except (NoteError, CheckpointError) as exc:
        raise WitnessRefused(Refusal.BAD_SIGNATURE, str(exc)) from exc
    if old_size != known.size:
        raise WitnessRefused(
            Refusal.CONFLICT,
            f"the request is from size {old_size}, but the witness last cosigned size {known.size}",
            known.size,
        )
    if checkpoint.size < known.size:
        raise WitnessRefused(
            Refusal.INCONSISTENT,
            f"checkpoint size {checkpoint.size} is smaller than the size {known.size} the "
            "witness already cosigned: the log was rolled back",
            known.size,
        )
    if known.size > 0:
        try:
            verify_consistency(known.size, checkpoint.size, proof, known.root, checkpoint.root_hash)
        except ProofError as exc:
            raise WitnessRefused(
                Refusal.INCONSISTENT,
                f"checkpoint {checkpoint.size} is not consistent with the checkpoint of size "
                f"{known.size} the witness cosigned ({exc}): the log was rewritten or forked",
                known.size,
            ) from exc
    elif proof:
        raise WitnessRefused(Refusal.MALFORMED, "a request from size 0 carries no proof")
    cosigned = cosign_note(note, witness, timestamp)
    line = cosigned[len(note) :] if cosigned.startswith(note) else _last_signature(cosigned)
    new_state = WitnessState(
        {**state.logs, origin: KnownLog(known.verifier_key, checkpoint.size, checkpoint.root_hash)}
    )
    return new_state, line, checkpoint


def open_cosignature(
    checkpoint_note: str, answer: str, witness: Verifier
) -> tuple[Signature, datetime]:
    """Check a witness's answer (its cosignature line) to ``checkpoint_note``: one valid
    cosignature by ``witness`` of that checkpoint. Return the signature and the time it
    states; raise ``NoteError`` saying what is wrong otherwise."""
    if witness.key_type != COSIGNATURE_TYPE:
        raise NoteError(f"{witness.name} is not a witness cosignature key (type 0x04)")
    text = answer if answer.endswith("\n") else answer + "\n"
    note = open_note(checkpoint_note + text, [witness])
    if len(note.verified) != 1:
        # Cosignatures carry a time, so one key can make many valid ones; keep exactly one.
        raise NoteError(
            f"the answer holds {len(note.verified)} different cosignatures by {witness.name}; "
            "send one"
        )
    (signature,) = note.verified
    seconds = cosignature_timestamp(signature)
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise NoteError(
            f"the cosignature by {witness.name} states the time {seconds}, which is not a "
            "date this system can record (after the year 9999)"
        ) from None
    return signature, moment


def _last_signature(note: str) -> str:
    """The last signature line of a note (where ``cosign_note`` put the new one)."""
    return note.rstrip("\n").rsplit("\n", 1)[-1] + "\n"
