"""The ledger's signing key: a C2SP signed-note Ed25519 key kept in a file."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from searchledger.ledger.note import Signer, Verifier

__all__ = ["SigningKeyError", "create_signing_key", "load_signer", "load_verifier"]


class SigningKeyError(RuntimeError):
    """The signing key is missing, unreadable or malformed."""


def _key_path() -> Path:
    return Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE)


def create_signing_key(origin: str | None = None, path: Path | None = None) -> Signer:
    """Create a new key file (mode 0600) for the log ``origin``; refuse to overwrite one.

    Replacing a key would orphan every checkpoint signed with it, so a new key is a
    deliberate operation (see docs/operations.md), never a side effect.
    """
    target = path or _key_path()
    if target.exists():
        raise SigningKeyError(f"{target} already exists; refusing to overwrite a signing key")
    signer = Signer.generate(origin or settings.SEARCHLEDGER_LOG_ORIGIN)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.private_key_text() + "\n")
    return signer


def load_signer(path: Path | None = None) -> Signer:
    """Read the signing key from its file."""
    target = path or _key_path()
    try:
        text = target.read_text().strip()
    except FileNotFoundError as exc:
        raise SigningKeyError(
            f"no ledger signing key at {target}: run `searchledger init` to create one"
        ) from exc
    try:
        return Signer.from_private_key_text(text)
    except ValueError as exc:
        raise SigningKeyError(f"{target} does not hold a valid signing key: {exc}") from exc


def load_verifier(path: Path | None = None) -> Verifier:
    """The verifier key matching the configured signing key."""
    return Verifier.from_verifier_key(load_signer(path).verifier_key())
