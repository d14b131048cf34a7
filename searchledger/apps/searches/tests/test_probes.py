"""Probe images: stored only where the policy says so, encrypted at rest under a data key
per image, destroyed when their retention ends (the hash stays), and every view on the
ledger."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.searches import actions, probes
from searchledger.apps.searches.models import ProbeImage
from searchledger.cli import main
from searchledger.core.actor import Actor

from .support import actor_for, entries_since, events_since, head, make_searcher, request

pytestmark = pytest.mark.django_db

# Not real images: what the store checks is the type's first bytes, so these carry a marker
# that is easy to look for in the database and on the ledger.
MARKER = b"THE-PROBE-PLAINTEXT-MARKER-" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + MARKER
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + MARKER


def _storing_policy(admin_actor: Actor, *, store: bool = True, days: int = 30) -> None:
    actions.do_set_search_policy(
        org_unit_code=None,
        system_code=None,
        settings=actions.PolicySettings(
            forbidden_purposes=["immigration_civil_enforcement"],
            store_probe_images=store,
            probe_retention_days=days if store else 0,
        ),
        actor=admin_actor,
        reason="keep probe images for review",
    )


@pytest.fixture
def stored(sworld, admin_actor):
    """``sworld`` under a policy keeping probe images 30 days, and a search by ``searcher``
    with a JPEG stored."""
    _storing_policy(admin_actor)
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    image = probes.do_store_probe_image(search.pk, JPEG, "image/jpeg", actor=officer)
    return {**sworld, "search": search, "image": image, "officer": officer}


def _row(search_id: int) -> ProbeImage:
    return ProbeImage.objects.get(search_id=search_id)


# --------------------------------------------------------------------------- storing


def test_a_stored_image_decrypts_to_the_same_bytes(stored):
    image = _row(stored["search"].pk)
    today = timezone.localdate()
    assert (image.content_type, image.size) == ("image/jpeg", len(JPEG))
    assert image.destroy_after == today + timedelta(days=30)
    assert image.stored_by_id == stored["searcher"].pk
    shown = probes.do_view_probe_image(stored["search"].pk, actor=stored["officer"], channel="web")
    assert shown.data == JPEG
    assert shown.content_type == "image/jpeg"


def test_storing_is_on_the_ledger_with_the_hash_and_never_the_image(sworld, admin_actor):
    _storing_policy(admin_actor)
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    start = head()
    image = probes.do_store_probe_image(search.pk, PNG, "image/png", actor=officer)
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_PROBE_STORED"
    assert entry["actor"] == sworld["searcher"].pk
    assert entry["object"] == {"type": "searches.searchrecord", "id": str(search.pk)}
    assert entry["data"]["sha256"] == image.sha256
    assert entry["data"]["size"] == len(PNG)
    assert entry["data"]["destroy_after"] == image.destroy_after.isoformat()
    assert b"MARKER" not in LedgerEntry.objects.get(seq=start).body.encode()


def test_the_database_holds_ciphertext_not_the_image(stored):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ciphertext, nonce, wrapped_key, sha256 FROM searches_probeimage "
            "WHERE search_id = %s",
            [stored["search"].pk],
        )
        [row] = cursor.fetchall()
    ciphertext, nonce, wrapped = (bytes(value) for value in row[:3])
    digest = row[3]
    assert b"MARKER" not in ciphertext
    assert JPEG[:16] not in ciphertext
    # AES-GCM: the plaintext's length plus a 16-byte tag; a 12-byte nonce; the wrapped data
    # key is its own nonce, 32 bytes of key and a tag.
    assert len(ciphertext) == len(JPEG) + 16
    assert len(nonce) == 12
    assert len(wrapped) == 12 + 32 + 16
    assert digest == stored["image"].sha256


def test_each_image_has_its_own_data_key(sworld, admin_actor):
    _storing_policy(admin_actor)
    officer = actor_for(sworld["searcher"])
    first = actions.do_request_search(request(), actor=officer)
    second = actions.do_request_search(request(), actor=officer)
    probes.do_store_probe_image(first.pk, JPEG, "image/jpeg", actor=officer)
    probes.do_store_probe_image(second.pk, JPEG, "image/jpeg", actor=officer)
    a, b = _row(first.pk), _row(second.pk)
    assert a.sha256 == b.sha256  # the same image...
    sealed_a, sealed_b = probes.sealed_of(a), probes.sealed_of(b)
    assert sealed_a.ciphertext != sealed_b.ciphertext  # ...encrypted differently
    assert sealed_a.nonce != sealed_b.nonce
    master = AESGCM(probes.load_probe_master_key())
    keys = []
    for image, sealed in ((a, sealed_a), (b, sealed_b)):
        wrapped = sealed.wrapped_key
        aad = f"searchledger/probe-image/v1/data-key/search={image.search_id}".encode()
        keys.append(master.decrypt(wrapped[:12], wrapped[12:], aad))
    assert len(keys[0]) == 32
    assert keys[0] != keys[1]


def test_only_the_searchs_officer_stores_its_image(sworld, admin_actor):
    _storing_policy(admin_actor)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    before = head()
    for actor in (actor_for(sworld["boss"]), admin_actor):
        with pytest.raises(PermissionDenied, match="only the officer who requested the search"):
            probes.do_store_probe_image(search.pk, JPEG, "image/jpeg", actor=actor)
    assert head() == before
    assert not ProbeImage.objects.exists()


def test_a_policy_that_stores_no_images_refuses_naming_the_policy(sworld):
    officer = actor_for(sworld["searcher"])
    search = actions.do_request_search(request(), actor=officer)
    before = head()
    with pytest.raises(ValidationError) as info:
        probes.do_store_probe_image(search.pk, JPEG, "image/jpeg", actor=officer)
    [message] = info.value.message_dict["image"]
    assert message.startswith("Search policy agency / all systems v1 (which governs search")
    assert "does not store probe images" in message
    assert head() == before
    assert not ProbeImage.objects.exists()


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        (JPEG, "image/gif", "must be image/jpeg or image/png, not image/gif"),
        (JPEG, "", "must be image/jpeg or image/png, not unknown"),
        (PNG, "image/jpeg", "said to be image/jpeg but its contents are a image/png file"),
        (b"GIF89a" + MARKER, "image/png", "its contents are not a JPEG or PNG image"),
        (b"", "image/png", "the file is empty"),
        (
            JPEG[:4] + bytes(probes.MAX_PROBE_BYTES),
            "image/jpeg",
            f"the limit is {probes.MAX_PROBE_BYTES:,} bytes",
        ),
    ],
)
def test_wrong_types_and_oversized_files_are_refused(stored, data, content_type, words):
    officer = stored["officer"]
    search = actions.do_request_search(request(), actor=officer)
    before = head()
    with pytest.raises(ValidationError) as info:
        probes.do_store_probe_image(search.pk, data, content_type, actor=officer)
    assert words in info.value.message_dict["image"][0]
    assert head() == before
    assert not ProbeImage.objects.filter(search=search).exists()


def test_an_image_of_exactly_the_limit_is_kept(stored):
    officer = stored["officer"]
    search = actions.do_request_search(request(), actor=officer)
    data = JPEG[:4] + bytes(probes.MAX_PROBE_BYTES - 4)
    probes.do_store_probe_image(search.pk, data, "image/jpeg", actor=officer)
    assert _row(search.pk).size == probes.MAX_PROBE_BYTES


def test_one_image_per_search(stored):
    before = head()
    with pytest.raises(ValidationError, match="already stored on"):
        probes.do_store_probe_image(stored["search"].pk, PNG, "image/png", actor=stored["officer"])
    assert head() == before


# --------------------------------------------------------------------------- tampering and keys


def _flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("ciphertext", "its ciphertext or nonce was changed"),
        ("nonce", "its ciphertext or nonce was changed"),
        ("wrapped_key", "data key of the probe image"),
    ],
)
def test_a_changed_column_does_not_decrypt(stored, column, words):
    search_id = stored["search"].pk
    image = _row(search_id)
    ProbeImage.objects.filter(pk=image.pk).update(
        **{column: _flip(bytes(getattr(image, column)), 5)}
    )
    with pytest.raises(probes.ProbeDecryptionError, match=words):
        probes.do_view_probe_image(search_id, actor=stored["officer"], channel="web")


def test_a_ciphertext_moved_to_another_record_does_not_decrypt(stored):
    sealed = probes.sealed_of(_row(stored["search"].pk))
    master = probes.load_probe_master_key()
    assert probes.decrypt_probe(sealed, stored["search"].pk, master) == JPEG
    with pytest.raises(probes.ProbeDecryptionError, match="belongs to another record"):
        probes.decrypt_probe(sealed, stored["search"].pk + 1, master)
    # Even with the data key unwrapped, the image itself is bound to its record.
    wrapped = sealed.wrapped_key
    key_aad = f"searchledger/probe-image/v1/data-key/search={stored['search'].pk}".encode()
    data_key = AESGCM(master).decrypt(wrapped[:12], wrapped[12:], key_aad)
    image_aad = f"searchledger/probe-image/v1/image/search={stored['search'].pk}".encode()
    assert AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, image_aad) == JPEG
    other_aad = f"searchledger/probe-image/v1/image/search={stored['search'].pk + 1}".encode()
    with pytest.raises(InvalidTag):
        AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, other_aad)


def test_the_wrong_master_key_fails_clearly(stored, settings, tmp_path):
    search_id = stored["search"].pk
    settings.SEARCHLEDGER_PROBE_KEY_FILE = probes.create_probe_master_key(tmp_path / "other.key")
    with pytest.raises(probes.ProbeDecryptionError, match="was encrypted under master key"):
        probes.do_view_probe_image(search_id, actor=stored["officer"], channel="web")
    # A row claiming the new key's fingerprint still cannot be unwrapped with it.
    wrong = probes.load_probe_master_key()
    sealed = probes.sealed_of(_row(search_id))
    forged = probes.SealedProbe(
        ciphertext=sealed.ciphertext,
        nonce=sealed.nonce,
        wrapped_key=sealed.wrapped_key,
        key_id=probes.encrypt_probe(b"x", 1, wrong).key_id,
        sha256=sealed.sha256,
    )
    with pytest.raises(probes.ProbeDecryptionError, match="does not unwrap"):
        probes.decrypt_probe(forged, search_id, wrong)


def test_missing_and_malformed_master_keys_are_named(tmp_path):
    with pytest.raises(probes.ProbeKeyError, match="run `searchledger init`"):
        probes.load_probe_master_key(tmp_path / "absent.key")
    short = tmp_path / "short.key"
    short.write_text("c2hvcnQ=\n")
    with pytest.raises(probes.ProbeKeyError, match="holds 5 bytes, not a 256-bit"):
        probes.load_probe_master_key(short)
    made = probes.create_probe_master_key(tmp_path / "new.key")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert len(probes.load_probe_master_key(made)) == 32
    with pytest.raises(probes.ProbeKeyError, match="refusing to overwrite"):
        probes.create_probe_master_key(made)


# --------------------------------------------------------------------------- who looked


def test_every_view_is_a_ledger_entry_by_the_viewer(stored, admin_actor):
    search_id = stored["search"].pk
    viewers = [stored["officer"], actor_for(stored["boss"]), admin_actor]
    start = head()
    for viewer in viewers:
        probes.do_view_probe_image(search_id, actor=viewer, channel="web")
    entries = entries_since(start)
    assert [e["event"] for e in entries] == ["SEARCH_PROBE_VIEWED"] * 3
    assert [e["actor"] for e in entries] == [v.account_id for v in viewers]
    assert {e["object"]["id"] for e in entries} == {str(search_id)}


def test_viewers_outside_the_records_scope_are_refused(stored):
    search_id = stored["search"].pk
    before = head()
    for outsider in (stored["colleague"], stored["other_supervisor"]):
        with pytest.raises(PermissionDenied):
            probes.do_view_probe_image(search_id, actor=actor_for(outsider), channel="web")
    assert head() == before


# --------------------------------------------------------------------------- retention


def test_images_past_their_retention_are_destroyed_keeping_the_hash(stored, admin_actor):
    search_id = stored["search"].pk
    last_day = stored["image"].destroy_after
    assert probes.do_destroy_expired_probe_images(actor=Actor.system(), today=last_day) == []
    assert _row(search_id).ciphertext is not None
    start = head()
    destroyed = probes.do_destroy_expired_probe_images(
        actor=Actor.system(), today=last_day + timedelta(days=1)
    )
    assert destroyed == [search_id]
    image = _row(search_id)
    assert (image.ciphertext, image.nonce, image.wrapped_key) == (None, None, None)
    assert image.sha256 == stored["image"].sha256
    assert image.size == len(JPEG)
    assert image.destroyed_at is not None
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_PROBE_DESTROYED"
    assert entry["data"]["sha256"] == image.sha256
    assert entry["data"]["reason"] == "retention_ended"
    # Viewing afterwards says when it was destroyed, and shows (and records) nothing.
    before = head()
    day = timezone.localtime(image.destroyed_at).date().isoformat()
    with pytest.raises(probes.ProbeImageGone, match=f"was destroyed on {day}"):
        probes.do_view_probe_image(search_id, actor=admin_actor, channel="web")
    assert head() == before
    # Running again destroys nothing more.
    again = probes.do_destroy_expired_probe_images(
        actor=Actor.system(), today=last_day + timedelta(days=9)
    )
    assert again == []
    assert head() == before


def test_only_administrators_or_the_system_purge(stored):
    with pytest.raises(PermissionDenied):
        probes.do_destroy_expired_probe_images(
            actor=stored["officer"], today=stored["image"].destroy_after + timedelta(days=1)
        )
    assert _row(stored["search"].pk).destroyed_at is None


def test_the_purge_command(stored, capsys):
    search_id = stored["search"].pk
    after = (stored["image"].destroy_after + timedelta(days=1)).isoformat()
    capsys.readouterr()
    assert main(["purge-probe-images", "--actor", "searcher", "--today", after]) == 2
    assert "--actor 'searcher'" in capsys.readouterr().err
    assert _row(search_id).destroyed_at is None
    assert main(["purge-probe-images", "--actor", "system", "--today", after]) == 0
    out = capsys.readouterr().out
    assert out == f"destroyed 1 probe image(s)\n  search {search_id}\n"
    assert _row(search_id).destroyed_at is not None
    assert main(["purge-probe-images", "--actor", "system"]) == 0
    assert capsys.readouterr().out == "destroyed 0 probe image(s)\n"


# --------------------------------------------------------------------------- the pages


def _client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def test_the_officer_uploads_and_views_the_image_through_the_pages(sworld, admin_actor):
    _storing_policy(admin_actor)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    client = _client(sworld["searcher"])
    page = client.get(f"/searches/{search.pk}/probe/")
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    upload = SimpleUploadedFile("still.jpg", JPEG, content_type="image/jpeg")
    response = client.post(f"/searches/{search.pk}/probe/", {"image": upload})
    assert response.status_code == 302
    image = _row(search.pk)
    page = client.get(f"/searches/{search.pk}/probe/")
    assert image.sha256.encode() in page.content
    assert b"MARKER" not in page.content
    start = head()
    shown = client.get(f"/searches/{search.pk}/probe/image")
    assert shown.status_code == 200
    assert shown.content == JPEG
    assert shown["Content-Type"] == "image/jpeg"
    assert "no-store" in shown["Cache-Control"]
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert events_since(start) == ["SEARCH_PROBE_VIEWED"]


def test_the_upload_page_refuses_a_file_that_is_not_an_image(sworld, admin_actor):
    _storing_policy(admin_actor)
    search = actions.do_request_search(request(), actor=actor_for(sworld["searcher"]))
    before = head()
    upload = SimpleUploadedFile("notes.jpg", b"not an image", content_type="image/jpeg")
    response = _client(sworld["searcher"]).post(f"/searches/{search.pk}/probe/", {"image": upload})
    assert response.status_code == 200
    assert b"its contents are not a JPEG or PNG image" in response.content
    assert head() == before


def test_the_image_endpoint_refuses_outsiders_and_says_when_it_was_destroyed(stored):
    search_id = stored["search"].pk
    before = head()
    assert _client(stored["colleague"]).get(f"/searches/{search_id}/probe/image").status_code == 403
    assert head() == before
    probes.do_destroy_expired_probe_images(
        actor=Actor.system(), today=stored["image"].destroy_after + timedelta(days=1)
    )
    gone = _client(stored["searcher"]).get(f"/searches/{search_id}/probe/image")
    assert gone.status_code == 410
    assert b"was destroyed on" in gone.content
    assert "no-store" in gone["Cache-Control"]
    page = _client(stored["searcher"]).get(f"/searches/{search_id}/probe/")
    assert b"at the end of its retention period" in page.content


def test_the_image_endpoint_shows_nothing_of_a_tampered_image(stored, caplog):
    search_id = stored["search"].pk
    image = _row(search_id)
    ProbeImage.objects.filter(pk=image.pk).update(ciphertext=_flip(bytes(image.ciphertext or b"")))
    before = head()
    response = _client(stored["searcher"]).get(f"/searches/{search_id}/probe/image")
    assert response.status_code == 500
    assert b"failed its integrity check" in response.content
    assert b"MARKER" not in response.content
    assert "no-store" in response["Cache-Control"]
    assert "its ciphertext or nonce was changed" in caplog.text
    assert head() == before


def test_a_second_officer_under_the_same_policy_cannot_store_on_anothers_search(
    stored, admin_actor
):
    other = make_searcher(stored, admin_actor, "other.searcher", supervisor=stored["boss"])
    search = actions.do_request_search(request(), actor=actor_for(other))
    response = _client(stored["searcher"]).get(f"/searches/{search.pk}/probe/")
    assert response.status_code == 403
