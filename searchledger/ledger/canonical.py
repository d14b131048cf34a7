"""Canonical encoding of ledger entries and salted commitments.

An entry is a JSON object encoded with RFC 8785 (JSON Canonicalization Scheme), so the same
entry always has the same bytes and therefore the same Merkle leaf hash. Personal data and
free text never enter an entry in clear: they enter as salted SHA-256 commitments, and the
salts are kept apart from the ledger so the ledger alone can be handed to an auditor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

import rfc8785

__all__ = [
    "COMMITMENT_DOMAIN",
    "MAX_ENTRY_BYTES",
    "SALT_BYTES",
    "CanonicalError",
    "canonical_bytes",
    "commit",
    "commitment_for",
    "decode_canonical",
    "verify_commitment",
]

# tlog-tiles entry bundles prefix each entry with a uint16 length, so an entry can never
# be larger than this.
MAX_ENTRY_BYTES = 65535
SALT_BYTES = 16
COMMITMENT_DOMAIN = b"searchledger/commitment/v1\x00"


class CanonicalError(ValueError):
    """An entry cannot be encoded, or stored bytes are not a canonical entry."""


def canonical_bytes(obj: Mapping[str, Any]) -> bytes:
    """Encode ``obj`` with RFC 8785; refuse floats (they do not round-trip exactly) and
    entries too large for a tile entry bundle."""
    _refuse_floats(obj, "$")
    try:
        data: bytes = rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalError(f"entry cannot be canonicalised: {exc}") from exc
    if len(data) > MAX_ENTRY_BYTES:
        raise CanonicalError(
            f"entry is {len(data)} bytes; the ledger accepts at most {MAX_ENTRY_BYTES}"
        )
    return data


def decode_canonical(data: bytes) -> dict[str, Any]:
    """Parse stored entry bytes and check that they are exactly the canonical form.

    Raises :class:`CanonicalError` naming the problem: not UTF-8, not JSON, not an object,
    or bytes that differ from the canonical re-encoding (someone edited the stored text).
    """
    if len(data) > MAX_ENTRY_BYTES:
        raise CanonicalError(
            f"entry is {len(data)} bytes; the ledger accepts at most {MAX_ENTRY_BYTES}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"entry is not UTF-8: {exc}") from exc
    try:
        obj = json.loads(text, parse_float=_reject_float, parse_constant=_reject_constant)
    except RecursionError:
        raise CanonicalError("entry is not valid JSON: it is nested too deeply") from None
    except ValueError as exc:
        # JSONDecodeError, our float refusal, and int()'s refusal of a number of more than
        # 4300 digits (a plain ValueError, not a JSONDecodeError).
        raise CanonicalError(f"entry is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise CanonicalError("entry is not a JSON object")
    try:
        again = canonical_bytes(obj)
    except RecursionError:
        raise CanonicalError("entry is nested too deeply to be canonicalised") from None
    if again != data:
        raise CanonicalError("entry bytes are not in RFC 8785 canonical form")
    return obj


def commitment_for(value: str, salt: bytes) -> str:
    """The hex SHA-256 commitment to ``value`` under ``salt``.

    ``SHA-256("searchledger/commitment/v1" || 0x00 || salt || UTF-8(value))``; the domain
    prefix keeps these hashes from colliding with any other use of SHA-256 in the system.
    """
    if len(salt) != SALT_BYTES:
        raise CanonicalError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    return hashlib.sha256(COMMITMENT_DOMAIN + salt + value.encode("utf-8")).hexdigest()


def commit(value: str) -> tuple[str, bytes]:
    """Commit to ``value`` with a fresh random salt; return (commitment hex, salt)."""
    salt = secrets.token_bytes(SALT_BYTES)
    return commitment_for(value, salt), salt


def verify_commitment(commitment: str, value: str, salt: bytes) -> bool:
    """Whether ``value`` and ``salt`` open ``commitment`` (constant-time comparison)."""
    return hmac.compare_digest(commitment_for(value, salt), commitment)


def _refuse_floats(obj: Any, path: str) -> None:
    if isinstance(obj, float):
        raise CanonicalError(f"{path}: floating-point numbers are not allowed in entries")
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            _refuse_floats(value, f"{path}.{key}")
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _refuse_floats(value, f"{path}[{i}]")


def _reject_float(text: str) -> float:
    raise CanonicalError(f"floating-point number {text!r} in entry")


def _reject_constant(text: str) -> float:
    raise CanonicalError(f"non-standard constant {text!r} in entry")
