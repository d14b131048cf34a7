"""Hostile files at the probe-image upload (issue 7 item 4). The type is judged by the
file's first bytes, never by its name or the browser's content type; a refused file
leaves no image and no ledger entry. The client's file name is not kept at all. Images are
never decoded on the server (they are encrypted as received and served back as they
came), so a decompression bomb costs the server nothing."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from searchledger.apps.searches import actions, probes
from searchledger.apps.searches.models import ProbeImage

from .support import actor_for, head, request
from .test_probes import JPEG, _storing_policy

pytestmark = pytest.mark.django_db


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A PNG whose header claims 100,000 x 100,000 pixels (40 GB decoded) in a few hundred bytes.
PNG_BOMB = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 6, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 100_000))
    + _png_chunk(b"IEND", b"")
)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("still.jpg", JPEG)
    return buffer.getvalue()


@pytest.fixture
def officer_page(sworld, admin_actor):
    """The searcher's client and the page of a new search under a policy keeping images."""
    _storing_policy(admin_actor)
    searcher = sworld["searcher"]
    search = actions.do_request_search(request(), actor=actor_for(searcher))
    client = Client()
    client.force_login(searcher)
    return client, f"/searches/{search.pk}/probe/", search


@pytest.mark.parametrize(
    ("name", "data", "content_type", "words"),
    [
        ("still.jpg", b"\x7fELF\x02\x01\x01" + bytes(60), "image/jpeg", "not a JPEG or PNG"),
        ("still.jpg", b"MZ\x90\x00" + bytes(60), "image/jpeg", "not a JPEG or PNG"),
        ("still.jpg", _zip(), "image/jpeg", "not a JPEG or PNG"),
        ("still.png", b"user,when\nalice,now\n", "image/png", "not a JPEG or PNG"),
        ("still.svg", b"<svg onload='alert(1)'/>", "image/svg+xml", "not image/svg+xml"),
        ("still.png", JPEG, "image/png", "its contents are a image/jpeg file"),
        (
            "big.jpg",
            JPEG[:4] + bytes(probes.MAX_PROBE_BYTES),
            "image/jpeg",
            f"the limit is {probes.MAX_PROBE_BYTES:,} bytes",
        ),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_on_the_page(
    officer_page, name, data, content_type, words
):
    client, page, search = officer_page
    before = head()
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    response = client.post(page, {"image": upload})
    assert response.status_code == 200
    assert words in response.content.decode().replace("&#x27;", "'")
    assert head() == before
    assert not ProbeImage.objects.filter(search=search).exists()


@pytest.mark.parametrize("name", ["../../etc/passwd.jpg", "/etc/cron.d/x.jpg", "a\x00b.jpg"])
def test_the_uploaded_name_is_not_kept_anywhere(officer_page, name):
    client, page, search = officer_page
    upload = SimpleUploadedFile(name, JPEG, content_type="image/jpeg")
    assert client.post(page, {"image": upload}).status_code == 302
    image = ProbeImage.objects.get(search=search)
    stored = [str(getattr(image, f.attname)) for f in ProbeImage._meta.concrete_fields]
    assert not any("passwd" in value or "cron" in value for value in stored)


def test_a_decompression_bomb_is_stored_as_received_and_never_decoded(officer_page):
    client, page, search = officer_page
    upload = SimpleUploadedFile("bomb.png", PNG_BOMB, content_type="image/png")
    assert client.post(page, {"image": upload}).status_code == 302
    assert ProbeImage.objects.get(search=search).size == len(PNG_BOMB)
    shown = client.get(f"{page}image")
    assert shown.content == PNG_BOMB
    assert shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff"
