"""core.uploads: a file that should be text, judged by its bytes."""

from __future__ import annotations

import pytest

from searchledger.core.uploads import binary_kind, nul_offset, text_problem


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"PK\x03\x04rest", "a ZIP archive"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\x7fELF\x02", "an executable (ELF)"),
        (b"MZ\x90\x00", "an executable (Windows)"),
        (b"%PDF-1.4", "a PDF"),
        (b"SQLite format 3\x00", "a SQLite database"),
    ],
)
def test_known_binary_formats_are_named(head: bytes, kind: str) -> None:
    found = binary_kind(head)
    assert found is not None
    assert found[0] == kind


@pytest.mark.parametrize(
    "head", [b"user,when,what\n", b'{"account": "a"}\n', b"MZONE,when\n", b"PK,name\n", b""]
)
def test_text_that_starts_like_a_signature_is_not_taken_for_one(head: bytes) -> None:
    assert binary_kind(head) is None
    assert text_problem([head], "a CSV file") is None


def test_nul_bytes_are_found_across_chunks() -> None:
    assert nul_offset([b"abc", b"de\x00f"]) == 5
    assert nul_offset([b"abc"]) is None
    assert text_problem([b"a" * 70, b"b\x00"], "a CSV file") == (
        "a NUL byte at byte offset 71: this is not a text file"
    )


def test_other_encodings_byte_order_marks_are_named_unless_declared() -> None:
    data = "a,b\n".encode("utf-16")
    assert text_problem([data], "a CSV file") == (
        "the file is UTF-16 (its byte order mark says so), not utf-8; "
        "save it as utf-8 and upload it again"
    )
    assert text_problem([data], "a CSV file", "utf-16") is None
    assert "UTF-32" in (text_problem(["a".encode("utf-32")], "a CSV file") or "")
    assert text_problem([b"\xef\xbb\xbfa,b\n"], "a CSV file") is None
