"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys and cosignatures.

A signed note is a UTF-8 text ending in a newline, a blank line, and one or more signature
lines ``— <key name> base64(key ID || signature)``. Keys are identified by their name and a
four-byte key ID, ``SHA-256(name || 0x0A || type || public key)[:4]``.

Two signature types are supported:

* ``0x01``, Ed25519 over the note text: the log's own signature on its checkpoints. Key
  texts are those of golang.org/x/mod/sumdb/note, so keys and notes interoperate with Go.
* ``0x04``, timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature): Ed25519
  over ``"cosignature/v1\\ntime <t>\\n" || checkpoint body``, sent as ``t`` (8 bytes,
  big-endian) followed by the signature.

Parsing is strict. A signature by a known key (name and key ID both match) that fails to
verify rejects the whole note; signatures by unknown keys are kept but not trusted; a note
with no verified signature is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "COSIGNATURE_TYPE",
    "ED25519_TYPE",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "Note",
    "NoteError",
    "NoteSigner",
    "Signature",
    "Signer",
    "Verifier",
    "compute_key_id",
    "cosign_note",
    "cosignature_timestamp",
    "open_note",
    "parse_signature_lines",
    "sign_note",
]

ED25519_TYPE = 0x01
COSIGNATURE_TYPE = 0x04
# golang.org/x/mod rejects notes with more than 100 signatures; the spec asks for at least
# 16. The limit bounds the work an attacker can make a verifier do.
MAX_SIGNATURES = 100
# tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1.
MAX_TIMESTAMP = 2**63 - 1

_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_COSIGNATURE_HEADER = "cosignature/v1\n"
_KEY_TYPES = {ED25519_TYPE: "Ed25519", COSIGNATURE_TYPE: "Ed25519 cosignature"}
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
# Every ASCII control character except newline; the spec forbids them anywhere in a note.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key or signature is malformed, or a note fails verification."""


# ---------------------------------------------------------------------------------------
# Signatures and notes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 4-byte key ID and the signature bytes after the ID."""

    name: str
    key_id: bytes
    sig: bytes

    def __post_init__(self) -> None:
        """Refuse a signature that could not be written as a signature line."""
        _check_name(self.name, "signature key name")
        if len(self.key_id) != _KEY_ID_SIZE:
            raise NoteError(f"key ID is {len(self.key_id)} bytes, not {_KEY_ID_SIZE}")
        if not self.sig:
            raise NoteError(f"signature by {self.name} is empty")

    def line(self) -> str:
        """Return the signature line, ``— name base64(key_id || sig)`` and a newline."""
        encoded = base64.b64encode(self.key_id + self.sig).decode("ascii")
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, every distinct signature in order, and the verified ones."""

    text: str
    signatures: tuple[Signature, ...]
    verified: tuple[Signature, ...]

    @property
    def unverified(self) -> tuple[Signature, ...]:
        """Signatures by keys the caller did not supply; they prove nothing."""
        return tuple(s for s in self.signatures if s not in self.verified)


# ---------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------


def compute_key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """Return the key ID ``SHA-256(name || 0x0A || key_type || public_key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


class Verifier:
    """A public key that verifies signatures of type 0x01 (Ed25519) or 0x04 (cosignature)."""

    def __init__(self, name: str, key_type: int, public_key: bytes) -> None:
        """Create a verifier for the key ``public_key`` of ``key_type`` named ``name``."""
        _check_name(name, "verifier key name")
        if key_type not in _KEY_TYPES:
            raise NoteError(
                f"verifier key type 0x{key_type:02x} is not supported; "
                "only 0x01 (Ed25519) and 0x04 (Ed25519 cosignature) are"
            )
        if len(public_key) != _ED25519_KEY_SIZE:
            raise NoteError(
                f"Ed25519 public key is {len(public_key)} bytes, not {_ED25519_KEY_SIZE}"
            )
        self._name = name
        self._key_type = key_type
        self._public_key = public_key
        self._key = Ed25519PublicKey.from_public_bytes(public_key)
        self._key_id = compute_key_id(name, key_type, public_key)

    @classmethod
    def from_verifier_key(cls, text: str) -> Self:
        """Parse a verifier key ``name+hex8(key ID)+base64(type || public key)``."""
        name, _, rest = text.partition("+")
        hex_id, _, encoded = rest.partition("+")
        _check_name(name, "verifier key name")
        if not _HEX8.fullmatch(hex_id):
            raise NoteError(f"verifier key for {name} has key ID {hex_id!r}, not 8 hex digits")
        raw = _decode_base64(encoded, f"verifier key for {name}")
        if not raw:
            raise NoteError(f"verifier key for {name} has no key material")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.key_id != bytes.fromhex(hex_id):
            raise NoteError(
                f"verifier key for {name} claims key ID {hex_id.lower()} but its key has "
                f"key ID {verifier.key_id.hex()}"
            )
        return verifier

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def key_type(self) -> int:
        """The signature type byte: 0x01 or 0x04."""
        return self._key_type

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public_key

    def verifier_key(self) -> str:
        """Return the verifier key text ``name+hex8+base64(type || public key)``."""
        return _verifier_key_text(self._name, self._key_id, self._key_type, self._public_key)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Report whether ``sig`` (without the key ID) is this key's signature of ``msg``.

        For a cosignature key ``sig`` is the 8-byte timestamp followed by the Ed25519
        signature, and ``msg`` must be a checkpoint body.
        """
        if self._key_type == COSIGNATURE_TYPE:
            if len(sig) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
                return False
            timestamp = int.from_bytes(sig[:_TIMESTAMP_SIZE], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            if not _is_checkpoint_body(msg):
                return False
            return self._verify_ed25519(_cosigned_message(msg, timestamp), sig[_TIMESTAMP_SIZE:])
        if len(sig) != _ED25519_SIGNATURE_SIZE:
            return False
        return self._verify_ed25519(msg, sig)

    def _verify_ed25519(self, msg: bytes, sig: bytes) -> bool:
        try:
            self._key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True


class _Ed25519KeyPair:
    """A named Ed25519 private key of one signature type; shared by both signer kinds."""

    _KEY_TYPE: ClassVar[int]

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        """Wrap ``private_key`` under ``name``."""
        _check_name(name, "signer key name")
        self._name = name
        self._private_key = private_key
        self._public_key = private_key.public_key().public_bytes_raw()
        self._key_id = compute_key_id(name, self._KEY_TYPE, self._public_key)

    @classmethod
    def generate(cls, name: str) -> Self:
        """Create a new random key named ``name``."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """Create the key named ``name`` from its 32-byte Ed25519 seed."""
        if len(seed) != _ED25519_KEY_SIZE:
            raise NoteError(f"Ed25519 seed is {len(seed)} bytes, not {_ED25519_KEY_SIZE}")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_private_key_text(cls, text: str) -> Self:
        """Parse ``PRIVATE+KEY+name+hex8(key ID)+base64(type || 32-byte seed)``.

        The key ID is checked against the public key derived from the seed.
        """
        if not text.startswith(_PRIVATE_KEY_PREFIX):
            raise NoteError("private key text does not start with PRIVATE+KEY+")
        name, _, rest = text[len(_PRIVATE_KEY_PREFIX) :].partition("+")
        hex_id, _, encoded = rest.partition("+")
        _check_name(name, "private key name")
        if not _HEX8.fullmatch(hex_id):
            raise NoteError(f"private key for {name} has key ID {hex_id!r}, not 8 hex digits")
        # The key material is secret: error messages below never include it.
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"private key for {name} is not valid base64") from None
        if not raw or raw[0] != cls._KEY_TYPE:
            found = f"0x{raw[0]:02x}" if raw else "missing"
            raise NoteError(
                f"private key for {name} has type {found}; {cls.__name__} needs "
                f"0x{cls._KEY_TYPE:02x} ({_KEY_TYPES[cls._KEY_TYPE]})"
            )
        signer = cls.from_seed(name, raw[1:])
        if signer.key_id != bytes.fromhex(hex_id):
            raise NoteError(
                f"private key for {name} claims key ID {hex_id.lower()} but its public key "
                f"has key ID {signer.key_id.hex()}"
            )
        return signer

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public_key

    def private_key_text(self) -> str:
        """Return ``PRIVATE+KEY+name+hex8+base64(type || seed)``; keep it secret."""
        material = bytes([self._KEY_TYPE]) + self._private_key.private_bytes_raw()
        encoded = base64.b64encode(material).decode("ascii")
        return f"{_PRIVATE_KEY_PREFIX}{self._name}+{self._key_id.hex()}+{encoded}"

    def verifier_key(self) -> str:
        """Return the public verifier key text for this key."""
        return _verifier_key_text(self._name, self._key_id, self._KEY_TYPE, self._public_key)

    def verifier(self) -> Verifier:
        """Return the ``Verifier`` for this key."""
        return Verifier(self._name, self._KEY_TYPE, self._public_key)


class NoteSigner(Protocol):
    """What ``sign_note`` needs from a signer."""

    @property
    def name(self) -> str:
        """The key name written on the signature line."""
        ...

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        ...

    def sign(self, msg: bytes) -> bytes:
        """Return ``key_id || signature`` over ``msg``."""
        ...


class Signer(_Ed25519KeyPair):
    """An Ed25519 (type 0x01) note signer, compatible with golang.org/x/mod/sumdb/note."""

    _KEY_TYPE = ED25519_TYPE

    def sign(self, msg: bytes) -> bytes:
        """Return ``key_id || Ed25519 signature of msg`` (deterministic, RFC 8032)."""
        return self._key_id + self._private_key.sign(msg)


class CosignatureSigner(_Ed25519KeyPair):
    """A witness key making timestamped Ed25519 cosignatures (type 0x04) of checkpoints.

    It has no ``sign`` method on purpose: a cosignature states a time, and the time is
    always passed in by the caller rather than read from a clock here.
    """

    _KEY_TYPE = COSIGNATURE_TYPE

    def cosign(self, checkpoint_body: bytes, timestamp: int) -> bytes:
        """Return ``key_id || timestamp (8 bytes, big-endian) || Ed25519 signature``.

        The signature covers ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint_body``;
        ``checkpoint_body`` must be a checkpoint note text.
        """
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise NoteError(f"cosignature timestamp {timestamp} is not between 0 and 2^63-1")
        _require_checkpoint_body(checkpoint_body)
        signature = self._private_key.sign(_cosigned_message(checkpoint_body, timestamp))
        return self._key_id + timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature


def cosignature_timestamp(signature: Signature) -> int:
    """Return the POSIX timestamp a cosignature (type 0x04) claims to have been made at.

    Only meaningful for a signature that has been verified with a cosignature key.
    """
    if len(signature.sig) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise NoteError(
            f"signature by {signature.name} is {len(signature.sig)} bytes; a cosignature is "
            f"{_TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE}"
        )
    return int.from_bytes(signature.sig[:_TIMESTAMP_SIZE], "big")


# ---------------------------------------------------------------------------------------
# Signing and opening notes
# ---------------------------------------------------------------------------------------


def sign_note(text: str, *signers: NoteSigner) -> str:
    """Return the signed note: ``text``, a blank line, and one signature line per signer."""
    _check_note_characters(text)
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if not signers:
        raise NoteError("a note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise NoteError(f"{len(signers)} signers; a note may carry at most {MAX_SIGNATURES}")
    message = text.encode("utf-8")
    lines = []
    seen: set[tuple[str, bytes]] = set()
    for signer in signers:
        identity = (signer.name, signer.key_id)
        if identity in seen:
            raise NoteError(f"signer {signer.name}+{signer.key_id.hex()} is given twice")
        seen.add(identity)
        signed = signer.sign(message)
        if signed[:_KEY_ID_SIZE] != signer.key_id:
            raise NoteError(f"signer {signer.name} returned a signature for another key ID")
        lines.append(Signature(signer.name, signer.key_id, signed[_KEY_ID_SIZE:]).line())
    return text + "\n" + "".join(lines)


def cosign_note(note_text: str, cosigner: CosignatureSigner, timestamp: int) -> str:
    """Return ``note_text`` (a signed checkpoint) with ``cosigner``'s cosignature added.

    An earlier signature by the same key is replaced. This does not verify the note: a
    witness must open the checkpoint with the log's key and check its consistency with the
    previous one before cosigning.
    """
    text, signatures = _split_note(note_text)
    signed = cosigner.cosign(text.encode("utf-8"), timestamp)
    new = Signature(cosigner.name, cosigner.key_id, signed[_KEY_ID_SIZE:])
    kept = [s for s in signatures if (s.name, s.key_id) != (new.name, new.key_id)]
    if len(kept) + 1 > MAX_SIGNATURES:
        raise NoteError(f"note already carries the maximum of {MAX_SIGNATURES} signatures")
    return text + "\n" + "".join(s.line() for s in kept) + new.line()


def open_note(note_text: str | bytes, verifiers: Sequence[Verifier]) -> Note:
    """Parse a signed note and verify its signatures with ``verifiers``.

    Raises ``NoteError`` if the note is malformed, if a signature by one of ``verifiers``
    (same name and key ID) does not verify, or if no signature by them is present.
    Repeated identical signatures are listed once.
    """
    if isinstance(note_text, bytes):
        try:
            note_text = note_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"note is not valid UTF-8 (byte offset {exc.start})") from None
    text, signatures = _split_note(note_text)
    known = _index_verifiers(verifiers)
    message = text.encode("utf-8")
    distinct: list[Signature] = []
    verified: list[Signature] = []
    for signature in signatures:
        if signature in distinct:
            continue
        distinct.append(signature)
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, signature.sig):
            raise NoteError(
                f"signature by known key {signature.name}+{signature.key_id.hex()} does not verify"
            )
        verified.append(signature)
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in distinct)
        raise NoteError(f"note has no signature by a known key (it is signed by {names})")
    return Note(text=text, signatures=tuple(distinct), verified=tuple(verified))


def parse_signature_lines(block: str) -> list[Signature]:
    """Parse the signature block of a note (everything after the blank line)."""
    if not block:
        raise NoteError("note has no signature lines after the blank line")
    if not block.endswith("\n"):
        raise NoteError("note does not end with a newline after its last signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines; at most {MAX_SIGNATURES}")
    return [_parse_signature_line(number, line) for number, line in enumerate(lines, 1)]


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _parse_signature_line(number: int, line: str) -> Signature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError(
            f"signature line {number} does not start with an em dash and a space: {_excerpt(line)}"
        )
    name, separator, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not separator:
        raise NoteError(f"signature line {number} has no space between key name and signature")
    _check_name(name, f"key name on signature line {number}")
    raw = _decode_base64(encoded, f"signature on line {number}")
    if len(raw) <= _KEY_ID_SIZE:
        raise NoteError(
            f"signature on line {number} is {len(raw)} bytes; it needs a 4-byte key ID and "
            "a signature"
        )
    return Signature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def _split_note(note_text: str) -> tuple[str, list[Signature]]:
    """Split a note into its text and parsed signature lines, checking the format."""
    _check_note_characters(note_text)
    # The text may contain blank lines itself: the signatures follow the last one.
    split = note_text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line between its text and its signatures")
    return note_text[: split + 1], parse_signature_lines(note_text[split + 2 :])


def _check_note_characters(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError(f"note is not valid UTF-8 (character offset {exc.start})") from None
    control = _CONTROL.search(text)
    if control:
        raise NoteError(
            f"note contains control character U+{ord(control.group()):04X} at offset "
            f"{control.start()}; only newline is allowed"
        )


def _check_name(name: str, what: str) -> None:
    if not name:
        raise NoteError(f"{what} is empty")
    if "+" in name:
        raise NoteError(f"{what} {_excerpt(name)} contains a plus sign")
    if any(ch.isspace() for ch in name):
        raise NoteError(f"{what} {_excerpt(name)} contains a space")
    if _CONTROL.search(name):
        raise NoteError(f"{what} {_excerpt(name)} contains a control character")


def _index_verifiers(verifiers: Sequence[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        identity = (verifier.name, verifier.key_id)
        if identity in known:
            # Two keys with the same name and ID cannot be told apart on a signature line.
            raise NoteError(
                f"two verifiers share name and key ID {verifier.name}+{verifier.key_id.hex()}"
            )
        known[identity] = verifier
    return known


def _decode_base64(encoded: str, what: str) -> bytes:
    """Decode standard padded base64, accepting only the canonical encoding."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64: {_excerpt(encoded)}") from None
    # b64decode ignores non-zero padding bits; re-encoding makes each value's text unique.
    if base64.b64encode(raw).decode("ascii") != encoded:
        raise NoteError(f"{what} is not canonical base64: {_excerpt(encoded)}")
    return raw


def _verifier_key_text(name: str, key_id: bytes, key_type: int, public_key: bytes) -> str:
    encoded = base64.b64encode(bytes([key_type]) + public_key).decode("ascii")
    return f"{name}+{key_id.hex()}+{encoded}"


def _cosigned_message(checkpoint_body: bytes, timestamp: int) -> bytes:
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n".encode("ascii") + checkpoint_body


def _require_checkpoint_body(body: bytes) -> None:
    # Imported here, not at the top: checkpoint.py builds on this module to sign and open
    # checkpoints, and only this one check needs the checkpoint grammar in return.
    from searchledger.ledger.checkpoint import CheckpointError, parse_checkpoint_body  # noqa: PLC0415

    try:
        parse_checkpoint_body(body.decode("utf-8"))
    except (UnicodeDecodeError, CheckpointError) as exc:
        raise NoteError(f"a cosignature can only be made over a checkpoint body: {exc}") from None


def _is_checkpoint_body(body: bytes) -> bool:
    try:
        _require_checkpoint_body(body)
    except NoteError:
        return False
    return True


def _excerpt(text: str) -> str:
    """Quote untrusted text in an error message without letting it grow the message."""
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")
