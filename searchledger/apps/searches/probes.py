"""Probe images: stored only where the search's policy says so, encrypted at rest, destroyed
when their retention period ends, and never shown without a ledger entry.

**Envelope encryption.** Each image gets a fresh random 256-bit data key. The image is
encrypted with AES-256-GCM under that key, with a random 96-bit nonce and the search id as
associated data, so a ciphertext moved to another record does not decrypt. The data key is
itself encrypted (wrapped) with AES-256-GCM under the master key read from
``settings.SEARCHLEDGER_PROBE_KEY_FILE``, again bound to the search id; the wrapped key is
stored as ``nonce || ciphertext``. The master key never touches the database; the row keeps
its fingerprint (``key_id``) so a wrong master key is named as such.

**Crypto-shredding.** Destroying an image erases its ciphertext, nonce and wrapped data key;
the SHA-256 of the plaintext, its size, type and times stay, and the ledger records the
destruction. The hash of an image may appear on the ledger; the image never does.

Every view of an image goes through :func:`do_view_probe_image`, which first records the
view (``actions.do_log_search_view`` with ``probe_image=True``) in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.authz import require
from searchledger.apps.ledger import writer
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import ProbeImage, SearchRecord
from searchledger.apps.searches.selectors import access_search_by_id
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission
from searchledger.core.searches import SearchStatus
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "CONTENT_TYPES",
    "MAX_PROBE_BYTES",
    "DecryptedProbe",
    "ProbeDecryptionError",
    "ProbeImageGone",
    "ProbeKeyError",
    "SealedProbe",
    "create_probe_master_key",
    "decrypt_probe",
    "do_destroy_expired_probe_images",
    "do_store_probe_image",
    "do_view_probe_image",
    "encrypt_probe",
    "load_probe_master_key",
    "sealed_of",
    "sniff_content_type",
]

MAX_PROBE_BYTES = 10 * 1024 * 1024
# What may be stored, and the first bytes each format must start with.
CONTENT_TYPES: dict[str, bytes] = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
_KEY_BYTES = 32
_NONCE_BYTES = 12
_SEARCH = "searches.searchrecord"


class ProbeKeyError(RuntimeError):
    """The probe master key is missing, unreadable or malformed."""


class ProbeDecryptionError(RuntimeError):
    """A stored probe image did not decrypt: the wrong master key, or the ciphertext, its
    nonce, its wrapped key or the record it belongs to was changed."""


class ProbeImageGone(ValidationError):
    """The search has no probe image to show: none was stored, or it has been destroyed."""


# --------------------------------------------------------------------------- the master key


def _key_path() -> Path:
    return Path(settings.SEARCHLEDGER_PROBE_KEY_FILE)


def create_probe_master_key(path: Path | None = None) -> Path:
    """Create a new master key file (32 random bytes as base64, mode 0600); refuse to
    overwrite one, since every stored probe image would become unreadable."""
    target = path or _key_path()
    if target.exists():
        raise ProbeKeyError(f"{target} already exists; refusing to overwrite a probe master key")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii") + "\n")
    return target


def load_probe_master_key(path: Path | None = None) -> bytes:
    """The master key from its file."""
    target = path or _key_path()
    try:
        text = target.read_text().strip()
    except FileNotFoundError as exc:
        raise ProbeKeyError(
            f"no probe master key at {target}: run `searchledger init` to create one"
        ) from exc
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ProbeKeyError(f"{target} does not hold a base64 probe master key") from exc
    if len(key) != _KEY_BYTES:
        raise ProbeKeyError(f"{target} holds {len(key)} bytes, not a 256-bit probe master key")
    return key


def _key_id(master_key: bytes) -> str:
    """A fingerprint of the master key (not secret: it only names which key was used)."""
    return hashlib.sha256(b"searchledger probe master key\0" + master_key).hexdigest()[:16]


# --------------------------------------------------------------------------- the crypto glue


@dataclass(frozen=True)
class SealedProbe:
    """An image encrypted for storage: what the database keeps, never the plaintext."""

    ciphertext: bytes
    nonce: bytes
    wrapped_key: bytes
    key_id: str
    sha256: str


@dataclass(frozen=True)
class DecryptedProbe:
    """An image as it is shown."""

    search_id: int
    content_type: str
    data: bytes
    sha256: str


def _aad(search_id: int, what: str) -> bytes:
    return f"searchledger/probe-image/v1/{what}/search={search_id}".encode("ascii")


def encrypt_probe(data: bytes, search_id: int, master_key: bytes) -> SealedProbe:
    """Encrypt ``data`` for the search ``search_id`` under a fresh data key, and wrap that
    key under ``master_key``."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, data, _aad(search_id, "image"))
    wrap_nonce = secrets.token_bytes(_NONCE_BYTES)
    wrapped = wrap_nonce + AESGCM(master_key).encrypt(
        wrap_nonce, data_key, _aad(search_id, "data-key")
    )
    return SealedProbe(
        ciphertext=ciphertext,
        nonce=nonce,
        wrapped_key=wrapped,
        key_id=_key_id(master_key),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def decrypt_probe(sealed: SealedProbe, search_id: int, master_key: bytes) -> bytes:
    """The plaintext of ``sealed``, or :class:`ProbeDecryptionError` saying what failed."""
    if sealed.key_id != _key_id(master_key):
        raise ProbeDecryptionError(
            f"the probe image of search {search_id} was encrypted under master key "
            f"{sealed.key_id}, not the configured key {_key_id(master_key)}"
        )
    wrap_nonce, wrapped = sealed.wrapped_key[:_NONCE_BYTES], sealed.wrapped_key[_NONCE_BYTES:]
    try:
        data_key = AESGCM(master_key).decrypt(wrap_nonce, wrapped, _aad(search_id, "data-key"))
    except InvalidTag as exc:
        raise ProbeDecryptionError(
            f"the data key of the probe image of search {search_id} does not unwrap: it was "
            "changed, or belongs to another record"
        ) from exc
    try:
        data = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, _aad(search_id, "image"))
    except InvalidTag as exc:
        raise ProbeDecryptionError(
            f"the probe image of search {search_id} does not decrypt: its ciphertext or nonce "
            "was changed, or it belongs to another record"
        ) from exc
    if hashlib.sha256(data).hexdigest() != sealed.sha256:
        raise ProbeDecryptionError(
            f"the probe image of search {search_id} decrypts but does not match its hash"
        )
    return data


def sealed_of(image: ProbeImage) -> SealedProbe:
    """What the database holds for ``image``; refused once it has been destroyed."""
    parts = (image.ciphertext, image.nonce, image.wrapped_key)
    if image.destroyed_at is not None or any(part is None for part in parts):
        raise ProbeImageGone(
            {"image": f"the probe image of search {image.search_id} is no longer stored"}
        )
    ciphertext, nonce, wrapped = (bytes(part) for part in parts if part is not None)
    return SealedProbe(
        ciphertext=ciphertext,
        nonce=nonce,
        wrapped_key=wrapped,
        key_id=image.key_id,
        sha256=image.sha256,
    )


def sniff_content_type(data: bytes) -> str | None:
    """The content type the image's first bytes show, if it is one we store."""
    for content_type, magic in CONTENT_TYPES.items():
        if data.startswith(magic):
            return content_type
    return None


# --------------------------------------------------------------------------- actions


def _lock(search_id: int) -> SearchRecord:
    search = (
        # The record only, not the joined rows (see searches.actions._lock).
        SearchRecord.objects.select_for_update(of=("self",))
        .select_related("officer", "system", "policy")
        .filter(pk=search_id)
        .first()
    )
    if search is None:
        raise ValidationError({"search": f"no search record with id {search_id}"})
    return search


def _data_errors(data: bytes, content_type: str) -> dict[str, str]:
    if content_type not in CONTENT_TYPES:
        allowed = " or ".join(CONTENT_TYPES)
        return {"image": f"a probe image must be {allowed}, not {content_type or 'unknown'}"}
    if not data:
        return {"image": "the file is empty"}
    if len(data) > MAX_PROBE_BYTES:
        return {
            "image": f"the image is {len(data):,} bytes; the limit is {MAX_PROBE_BYTES:,} bytes"
        }
    sniffed = sniff_content_type(data)
    if sniffed != content_type:
        found = f"a {sniffed} file" if sniffed else "not a JPEG or PNG image"
        return {"image": f"the file is said to be {content_type} but its contents are {found}"}
    return {}


def _entry(event: LedgerEventType, image: ProbeImage, actor: Actor, **data: object) -> None:
    search = image.search
    writer.append(
        event,
        object_type=_SEARCH,
        object_id=search.pk,
        actor=actor,
        data={
            "officer": search.officer_id,
            "system": search.system.code,
            "policy": search.policy_id,
            "policy_version": search.policy_version,
            "sha256": image.sha256,
            "size": image.size,
            "content_type": image.content_type,
            "destroy_after": image.destroy_after.isoformat(),
            **data,
        },
    )


@transaction.atomic
def do_store_probe_image(
    search_id: int, data: bytes, content_type: str, *, actor: Actor
) -> ProbeImage:
    """Store the probe image of a search, encrypted: only the search's officer, only where
    the search's policy stores probe images, a JPEG or PNG (checked by its first bytes) of
    at most :data:`MAX_PROBE_BYTES`, once per search. Kept until ``probe_retention_days``
    after today; the ledger entry carries the image's SHA-256, never the image."""
    require(actor, Permission.REQUEST_SEARCH)
    search = _lock(search_id)
    if actor.account_id != search.officer_id:
        raise PermissionDenied("only the officer who requested the search stores its probe image")
    policy = search.policy
    if not policy.store_probe_images:
        raise ValidationError(
            {
                "image": f"{policy} (which governs search {search.pk}) does not store probe "
                "images; keep the image where your case file keeps evidence"
            }
        )
    if search.status in {SearchStatus.REFUSED, SearchStatus.CANCELLED}:
        raise ValidationError(
            {"search": f"search {search.pk} is {search.status}; it keeps no probe image"}
        )
    existing = ProbeImage.objects.filter(search=search).first()
    if existing is not None:
        when = timezone.localtime(existing.stored_at)
        raise ValidationError(
            {"image": f"the probe image of search {search.pk} was already stored on {when:%F}"}
        )
    if errors := _data_errors(data, content_type):
        raise ValidationError(errors)
    sealed = encrypt_probe(data, search.pk, load_probe_master_key())
    now = timezone.now()
    image = ProbeImage(
        search=search,
        content_type=content_type,
        size=len(data),
        sha256=sealed.sha256,
        ciphertext=sealed.ciphertext,
        nonce=sealed.nonce,
        wrapped_key=sealed.wrapped_key,
        key_id=sealed.key_id,
        stored_at=now,
        stored_by_id=actor.account_id,
        destroy_after=timezone.localdate(now) + timedelta(days=policy.probe_retention_days),
    )
    image.save(force_insert=True)
    _entry(LedgerEventType.SEARCH_PROBE_STORED, image, actor)
    return image


@transaction.atomic
def do_view_probe_image(search_id: int, *, actor: Actor, channel: str) -> DecryptedProbe:
    """The decrypted probe image of a search, for someone who may see the search. The view
    is recorded on the ledger first, in the same transaction; a search without an image,
    or whose image was destroyed, is refused (:class:`ProbeImageGone`) and nothing is
    shown or recorded."""
    search = access_search_by_id(search_id, actor)
    image = ProbeImage.objects.filter(search=search).first()
    if image is None:
        raise ProbeImageGone({"image": f"search {search.pk} has no stored probe image"})
    if image.destroyed_at is not None:
        when = timezone.localtime(image.destroyed_at)
        raise ProbeImageGone(
            {
                "image": f"the probe image of search {search.pk} was destroyed on "
                f"{when:%F} at the end of its retention period; its SHA-256 was {image.sha256}"
            }
        )
    sealed = sealed_of(image)
    actions.do_log_search_view(search.pk, actor=actor, channel=channel, probe_image=True)
    data = decrypt_probe(sealed, search.pk, load_probe_master_key())
    return DecryptedProbe(
        search_id=search.pk, content_type=image.content_type, data=data, sha256=image.sha256
    )


@transaction.atomic
def do_destroy_expired_probe_images(*, actor: Actor, today: date | None = None) -> list[int]:
    """Destroy every probe image whose retention ended before ``today`` (default: today):
    erase its ciphertext, nonce and wrapped data key, keep its hash, size and times, and
    append one ledger entry per image. Returns the ids of the searches affected. Run daily
    (``searchledger purge-probe-images``)."""
    require(actor, Permission.MANAGE_SEARCH_POLICY)
    day = today or timezone.localdate()
    due = (
        ProbeImage.objects.select_for_update(of=("self",))  # not the searches, systems
        .filter(destroyed_at__isnull=True, destroy_after__lt=day)
        .select_related("search", "search__system")
        .order_by("destroy_after", "pk")
    )
    destroyed: list[int] = []
    now = timezone.now()
    for image in due:
        image.ciphertext = None
        image.nonce = None
        image.wrapped_key = None
        image.destroyed_at = now
        image.save(update_fields=["ciphertext", "nonce", "wrapped_key", "destroyed_at"])
        _entry(LedgerEventType.SEARCH_PROBE_DESTROYED, image, actor, reason="retention_ended")
        destroyed.append(image.search_id)
    return destroyed
