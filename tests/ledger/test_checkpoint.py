"""Tests for searchledger.ledger.checkpoint: body format, signing and opening."""

from __future__ import annotations

import base64

import pytest

from searchledger.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    parse_checkpoint_body,
    sign_checkpoint,
)
from searchledger.ledger.merkle import EMPTY_ROOT, leaf_hash, root_from_leaf_hashes
from searchledger.ledger.note import (
    CosignatureSigner,
    NoteError,
    Signer,
    cosign_note,
    open_note,
    sign_note,
)

ORIGIN = "ledger.example.org/searches"
LOG = Signer.from_seed(ORIGIN, bytes(range(100, 132)))
ROOT = root_from_leaf_hashes([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
CHECKPOINT = Checkpoint(ORIGIN, 3, ROOT)


def test_body_format() -> None:
    root64 = base64.b64encode(ROOT).decode()
    assert CHECKPOINT.body() == f"{ORIGIN}\n3\n{root64}\n"
    with_extensions = Checkpoint(ORIGIN, 3, ROOT, ("ext one", "ext two"))
    assert with_extensions.body() == f"{ORIGIN}\n3\n{root64}\next one\next two\n"


def test_parse_round_trip() -> None:
    for checkpoint in (
        CHECKPOINT,
        Checkpoint(ORIGIN, 0, EMPTY_ROOT),
        Checkpoint("o", 2**64 - 1, ROOT, ("extension",)),
    ):
        assert parse_checkpoint_body(checkpoint.body()) == checkpoint


def test_parse_c2sp_example_body() -> None:
    # The example of c2sp.org/tlog-checkpoint.
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = parse_checkpoint_body(body)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == body


def test_sign_and_open_round_trip() -> None:
    note_text = sign_checkpoint(CHECKPOINT, LOG)
    checkpoint, note = open_checkpoint(note_text, LOG.verifier(), ORIGIN)
    assert checkpoint == CHECKPOINT
    assert note.text == CHECKPOINT.body()
    assert [s.name for s in note.verified] == [ORIGIN]


def test_open_with_witness_cosignature() -> None:
    witness = CosignatureSigner.generate("witness.example/w1")
    note_text = cosign_note(sign_checkpoint(CHECKPOINT, LOG), witness, 1234)
    _, note = open_checkpoint(note_text, LOG.verifier(), witnesses=[witness.verifier()])
    assert [s.name for s in note.verified] == [ORIGIN, "witness.example/w1"]


def test_checkpoint_signed_by_another_key_is_rejected() -> None:
    other = Signer.generate(ORIGIN)  # same name, different key
    note_text = sign_checkpoint(CHECKPOINT, other)
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_checkpoint(note_text, LOG.verifier())


def test_checkpoint_signed_only_by_a_witness_is_rejected() -> None:
    other = Signer.generate("someone.else/log")
    witness = CosignatureSigner.generate("witness.example/w1")
    note_text = cosign_note(sign_checkpoint(CHECKPOINT, other), witness, 1234)
    with pytest.raises(CheckpointError, match=r"not signed by the log key ledger\.example"):
        open_checkpoint(note_text, LOG.verifier(), witnesses=[witness.verifier()])


def test_origin_mismatch_is_rejected() -> None:
    note_text = sign_checkpoint(CHECKPOINT, LOG)
    with pytest.raises(CheckpointError, match=r"is for origin 'ledger\.example\.org/searches'"):
        open_checkpoint(note_text, LOG.verifier(), "other.example/log")


def test_signed_note_that_is_not_a_checkpoint_is_rejected() -> None:
    note_text = sign_note("just text\n", LOG)
    assert open_note(note_text, [LOG.verifier()]).text == "just text\n"
    with pytest.raises(CheckpointError, match="needs origin, size and root hash"):
        open_checkpoint(note_text, LOG.verifier())


ROOT64 = base64.b64encode(ROOT).decode()
MALFORMED_BODIES = {
    "no final newline": (f"o\n1\n{ROOT64}", "does not end with a newline"),
    "two lines": ("o\n1\n", "has 2 lines"),
    "empty origin": (f"\n1\n{ROOT64}\n", "origin is empty"),
    "leading zero": (f"o\n01\n{ROOT64}\n", "'01' is not a decimal number"),
    "plus sign": (f"o\n+1\n{ROOT64}\n", "is not a decimal number"),
    "negative": (f"o\n-1\n{ROOT64}\n", "is not a decimal number"),
    "space": (f"o\n 1\n{ROOT64}\n", "is not a decimal number"),
    "empty size": (f"o\n\n{ROOT64}\n", "is not a decimal number"),
    "arabic digit": (f"o\n\u0663\n{ROOT64}\n", "is not a decimal number"),
    "underscore": (f"o\n1_0\n{ROOT64}\n", "is not a decimal number"),
    "too large": (f"o\n{2**64}\n{ROOT64}\n", r"not between 0 and 2\^64-1"),
    "far too large": (f"o\n{'9' * 5000}\n{ROOT64}\n", "5000 digits; a uint64 has at most 20"),
    "short root": (f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", "31 bytes, not 32"),
    "bad base64 root": (f"o\n1\n{ROOT64[:-2]}!=\n", "not valid base64"),
    "unpadded root": (f"o\n1\n{ROOT64.rstrip('=')}\n", "not valid base64"),
    "empty extension": (f"o\n1\n{ROOT64}\n\n", "extension line 1 is empty"),
    "control in origin": (f"o\x01\n1\n{ROOT64}\n", r"U\+0001"),
}


@pytest.mark.parametrize("case", list(MALFORMED_BODIES), ids=list(MALFORMED_BODIES))
def test_malformed_bodies_are_rejected(case: str) -> None:
    body, message = MALFORMED_BODIES[case]
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint_body(body)


def test_non_canonical_root_base64_is_rejected() -> None:
    # The last base64 digit of a 32-byte value carries 2 unused bits that must be zero.
    last = ROOT64[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(CheckpointError, match="not canonical base64"):
        parse_checkpoint_body(f"o\n1\n{ROOT64[:-2]}{sibling}=\n")


def test_constructor_validates() -> None:
    with pytest.raises(CheckpointError, match="origin contains a newline"):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(CheckpointError, match="tree size -1"):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(CheckpointError, match="root hash is 3 bytes"):
        Checkpoint("o", 1, b"abc")
    with pytest.raises(CheckpointError, match="extension line 2 contains a newline"):
        Checkpoint("o", 1, ROOT, ("ok", "a\nb"))
