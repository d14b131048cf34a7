"""What is wrong with an uploaded file that should be text (CSV or JSON lines), judged by
its bytes rather than by its name or the browser's content type, both of which the client
chooses: an archive (a zip, an Excel workbook, which is a zip, or a zip bomb: none is ever
opened), an image, an executable, a text in UTF-16 or UTF-32, or a NUL byte. Each problem
is one sentence naming it, for the upload form to show; ``None`` means the bytes may be
text and the file's own reader decides the rest."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["HEAD_BYTES", "binary_kind", "nul_offset", "text_problem"]

HEAD_BYTES = 64
"""How many leading bytes :func:`binary_kind` looks at."""

# (first bytes, what the file is, what to do instead). Archives first: an .xlsx is a zip.
# Only signatures that no CSV header or JSON line plausibly starts with.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive", "an Excel workbook is one: save the sheet as CSV UTF-8"),
    (b"PK\x05\x06", "a ZIP archive", "an empty one; upload the text file itself"),
    (b"\x1f\x8b", "a gzip archive", "decompress it first"),
    (b"\xfd7zXZ\x00", "an xz archive", "decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the text file first"),
    (b"Rar!\x1a\x07", "a RAR archive", "extract the text file first"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file", "save the sheet as CSV UTF-8"),
    (b"%PDF-", "a PDF", "export the data as CSV instead"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "upload the log, not a picture of it"),
    (b"\xff\xd8\xff", "a JPEG image", "upload the log, not a picture of it"),
    (b"GIF87a", "a GIF image", "upload the log, not a picture of it"),
    (b"GIF89a", "a GIF image", "upload the log, not a picture of it"),
    (b"\x7fELF", "an executable (ELF)", "upload the text file"),
    (b"MZ\x90\x00", "an executable (Windows)", "upload the text file"),
    (b"\xca\xfe\xba\xbe", "an executable (Mach-O or Java class)", "upload the text file"),
    (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)", "upload the text file"),
    (b"SQLite format 3\x00", "a SQLite database", "export the table as CSV"),
)

# Byte order marks of encodings other than UTF-8 (UTF-32 first: its LE mark starts like
# UTF-16's).
_OTHER_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def binary_kind(head: bytes) -> tuple[str, str] | None:
    """(what the file is, what to do instead) when ``head``, the file's first bytes,
    carries the signature of a known binary format; else None."""
    for signature, kind, advice in _SIGNATURES:
        if head.startswith(signature):
            return kind, advice
    return None


def nul_offset(chunks: Iterable[bytes]) -> int | None:
    """The byte offset of the first NUL in the concatenated ``chunks``, or None."""
    seen = 0
    for chunk in chunks:
        found = chunk.find(b"\x00")
        if found >= 0:
            return seen + found
        seen += len(chunk)
    return None


def text_problem(chunks: Iterable[bytes], expected: str, encoding: str = "utf-8") -> str | None:
    """The first reason the file read as ``chunks`` is not ``expected`` (e.g. "a CSV
    file") in ``encoding``, or None. The first chunk must hold at least :data:`HEAD_BYTES`
    bytes unless the file is shorter. Only the first chunk is read unless it passes, so a
    binary file is refused without reading it all. A file declared UTF-16 may hold NUL
    bytes and its byte order mark; any other may not."""
    iterator = iter(chunks)
    head = next(iterator, b"")
    found = binary_kind(head[:HEAD_BYTES])
    if found is not None:
        kind, advice = found
        return f"this is {kind}, not {expected} ({advice})"
    if encoding.casefold().startswith("utf-16"):
        return None
    for bom, other in _OTHER_BOMS:
        if head.startswith(bom):
            return (
                f"the file is {other} (its byte order mark says so), not {encoding}; "
                f"save it as {encoding} and upload it again"
            )

    def everything() -> Iterable[bytes]:
        yield head
        yield from iterator

    offset = nul_offset(everything())
    if offset is not None:
        return f"a NUL byte at byte offset {offset:,}: this is not a text file"
    return None
