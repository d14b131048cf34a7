"""Tests for searchledger.ledger.note: Go and C2SP vectors, interop, malformed notes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from searchledger.ledger.checkpoint import open_checkpoint, parse_checkpoint_body, sign_checkpoint
from searchledger.ledger.merkle import leaf_hash, root_from_leaf_hashes
from searchledger.ledger.note import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    MAX_SIGNATURES,
    CosignatureSigner,
    NoteError,
    Signature,
    Signer,
    Verifier,
    compute_key_id,
    cosign_note,
    cosignature_timestamp,
    open_note,
    parse_signature_lines,
    sign_note,
)


def shared_dir() -> Path:
    """The shared vectors directory (/work/shared), or $SEARCHLEDGER_SHARED_DIR."""
    override = os.environ.get("SEARCHLEDGER_SHARED_DIR")
    path = Path(override) if override else Path(__file__).resolve().parents[2].parent / "shared"
    if not (path / "vectors").is_dir():
        pytest.fail(
            f"test vectors not found in {path / 'vectors'}; set SEARCHLEDGER_SHARED_DIR to the "
            "directory holding vectors/",
            pytrace=False,
        )
    return path


VECTORS = shared_dir() / "vectors"
KAT = (VECTORS / "rfc6962_kat.txt").read_text(encoding="utf-8")
INTEROP = VECTORS / "own_interop_python_to_go"


def _kat_values(label: str) -> list[str]:
    """Values of the kat lines starting with ``label`` (first token, or a quoted string)."""
    values = []
    for line in KAT.splitlines():
        if not line.startswith(label + " "):
            continue
        value = line[len(label) :].strip()
        # Quoted values are JSON-style strings with \n escapes; others end at whitespace
        # (the skey line carries a trailing comment).
        values.append(json.loads(value) if value.startswith('"') else value.split()[0])
    return values


VKEYS = _kat_values("vkey")
PETER_VKEY, ENOCH_VKEY, C2SP_VKEY = VKEYS
(PETER_SKEY,) = _kat_values("skey")
(TEXT,) = _kat_values("text")
PETER_SIG, ENOCH_SIG = (line for line in KAT.splitlines() if line.startswith("sig "))
PETER_LINE = PETER_SIG.removeprefix("sig").strip() + "\n"
ENOCH_LINE = ENOCH_SIG.removeprefix("sig").strip() + "\n"
(C2SP_NOTE,) = _kat_values("note")

PETER = Signer.from_private_key_text(PETER_SKEY)
PETER_VERIFIER = Verifier.from_verifier_key(PETER_VKEY)
ENOCH_VERIFIER = Verifier.from_verifier_key(ENOCH_VKEY)


# ---------------------------------------------------------------------------------------
# golang.org/x/mod sumdb/note vectors
# ---------------------------------------------------------------------------------------


def test_go_private_key_round_trip() -> None:
    assert PETER.name == "PeterNeumann"
    assert PETER.key_id == bytes.fromhex("c74f20a3")
    assert PETER.private_key_text() == PETER_SKEY
    assert PETER.verifier_key() == PETER_VKEY
    assert PETER.verifier().verifier_key() == PETER_VKEY


def test_go_verifier_keys_round_trip() -> None:
    for text in VKEYS:
        verifier = Verifier.from_verifier_key(text)
        assert verifier.verifier_key() == text
        assert verifier.key_type == ED25519_TYPE
        assert verifier.key_id == compute_key_id(verifier.name, ED25519_TYPE, verifier.public_key)


def test_sign_reproduces_go_signature_byte_for_byte() -> None:
    assert sign_note(TEXT, PETER) == TEXT + "\n" + PETER_LINE


def test_open_go_note_signed_twice() -> None:
    both = TEXT + "\n" + PETER_LINE + ENOCH_LINE
    note = open_note(both, [ENOCH_VERIFIER])
    assert note.text == TEXT
    assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]
    assert [s.name for s in note.verified] == ["EnochRoot"]
    assert [s.name for s in note.unverified] == ["PeterNeumann"]
    assert note.verified[0].key_id == bytes.fromhex("af0cfe78")
    note = open_note(both.encode("utf-8"), [PETER_VERIFIER, ENOCH_VERIFIER])
    assert [s.name for s in note.verified] == ["PeterNeumann", "EnochRoot"]
    assert "".join(s.line() for s in note.signatures) == PETER_LINE + ENOCH_LINE


def test_c2sp_example_note() -> None:
    verifier = Verifier.from_verifier_key(C2SP_VKEY)
    note = open_note(C2SP_NOTE, [verifier])
    assert note.text == "This is an example message.\n"
    assert [s.name for s in note.verified] == ["example.com/foo"]


def test_generated_keys_round_trip() -> None:
    signer = Signer.generate("log.example/test")
    again = Signer.from_private_key_text(signer.private_key_text())
    assert again.key_id == signer.key_id
    assert again.verifier_key() == signer.verifier_key()
    verifier = Verifier.from_verifier_key(signer.verifier_key())
    note = open_note(sign_note("hello\n", again), [verifier])
    assert note.verified[0].name == "log.example/test"


# ---------------------------------------------------------------------------------------
# Interop checkpoint and cosignature (own_interop_python_to_go, verified by Go)
# ---------------------------------------------------------------------------------------

INTEROP_ORIGIN = "audit.example.org/frs-searches"
INTEROP_WITNESS = "witness.example.org/w1"
INTEROP_TIME = 1700000000
# mk.py derives the log key from seed bytes(range(32)) and the witness key from
# bytes(range(32, 64)).
LOG_SEED = bytes(range(32))
WITNESS_SEED = bytes(range(32, 64))


def _interop_verifiers() -> tuple[Verifier, Verifier]:
    log = Verifier.from_verifier_key((INTEROP / "log.vkey").read_text().strip())
    witness = Verifier.from_verifier_key((INTEROP / "witness.vkey").read_text().strip())
    return log, witness


def test_interop_checkpoint_and_cosignature_verify() -> None:
    log, witness = _interop_verifiers()
    assert witness.key_type == COSIGNATURE_TYPE
    leaves = [bytes.fromhex(line) for line in (INTEROP / "leaves.hex").read_text().split()]
    checkpoint, note = open_checkpoint(
        (INTEROP / "checkpoint.note").read_text(encoding="utf-8"),
        log,
        INTEROP_ORIGIN,
        witnesses=[witness],
    )
    assert checkpoint.size == len(leaves) == 10
    assert checkpoint.root_hash == root_from_leaf_hashes([leaf_hash(x) for x in leaves])
    assert [s.name for s in note.verified] == [INTEROP_ORIGIN, INTEROP_WITNESS]
    assert cosignature_timestamp(note.verified[1]) == INTEROP_TIME


def test_interop_checkpoint_is_reproduced_byte_for_byte() -> None:
    log_signer = Signer.from_seed(INTEROP_ORIGIN, LOG_SEED)
    witness_signer = CosignatureSigner.from_seed(INTEROP_WITNESS, WITNESS_SEED)
    log, witness = _interop_verifiers()
    assert log_signer.verifier_key() == log.verifier_key()
    assert witness_signer.verifier_key() == witness.verifier_key()
    expected = (INTEROP / "checkpoint.note").read_text(encoding="utf-8")
    checkpoint = parse_checkpoint_body(expected[: expected.index("\n\n") + 1])
    signed = sign_checkpoint(checkpoint, log_signer)
    assert cosign_note(signed, witness_signer, INTEROP_TIME) == expected


def test_cosignature_key_text_round_trip() -> None:
    witness = CosignatureSigner.generate("witness.example/w2")
    again = CosignatureSigner.from_private_key_text(witness.private_key_text())
    assert again.key_id == witness.key_id
    assert again.verifier().key_type == COSIGNATURE_TYPE
    with pytest.raises(NoteError, match=r"type 0x04; Signer needs 0x01"):
        Signer.from_private_key_text(witness.private_key_text())
    with pytest.raises(NoteError, match=r"type 0x01; CosignatureSigner needs 0x04"):
        CosignatureSigner.from_private_key_text(PETER_SKEY)


def test_recosigning_replaces_the_earlier_cosignature() -> None:
    log_signer = Signer.from_seed(INTEROP_ORIGIN, LOG_SEED)
    witness_signer = CosignatureSigner.from_seed(INTEROP_WITNESS, WITNESS_SEED)
    body = (INTEROP / "checkpoint.note").read_text(encoding="utf-8").split("\n\n")[0] + "\n"
    once = cosign_note(sign_note(body, log_signer), witness_signer, 1)
    twice = cosign_note(once, witness_signer, 2)
    log, witness = _interop_verifiers()
    note = open_note(twice, [log, witness])
    assert len(note.signatures) == 2
    assert cosignature_timestamp(note.verified[1]) == 2


def test_cosignature_only_over_checkpoints() -> None:
    witness = CosignatureSigner.generate("witness.example/w3")
    with pytest.raises(NoteError, match="only be made over a checkpoint body"):
        witness.cosign(b"not a checkpoint\n", 5)
    with pytest.raises(NoteError, match="not between 0 and 2"):
        witness.cosign(b"x\n1\n" + b"A" * 43 + b"=\n", -1)
    with pytest.raises(NoteError, match="not between 0 and 2"):
        witness.cosign(b"x\n1\n" + b"A" * 43 + b"=\n", 2**63)
    # A cosignature key does not verify a plain text, even with a well-formed signature.
    body = b"x\n1\n" + b"A" * 43 + b"=\n"
    signed = witness.cosign(body, 5)
    assert witness.verifier().verify(body, signed[4:])
    assert not witness.verifier().verify(body + b"extra\n\n", signed[4:])
    assert not witness.verifier().verify(b"plain text\n", signed[4:])


# ---------------------------------------------------------------------------------------
# Rejection
# ---------------------------------------------------------------------------------------


def test_wrong_key_is_rejected() -> None:
    with pytest.raises(NoteError, match=r"no signature by a known key \(it is signed by "):
        open_note(TEXT + "\n" + PETER_LINE, [ENOCH_VERIFIER])


def test_signature_by_known_key_that_fails_rejects_the_note() -> None:
    # Changed text under a valid signature line.
    with pytest.raises(NoteError, match=r"known key PeterNeumann\+c74f20a3 does not verify"):
        open_note(TEXT.replace("answer", "Answer") + "\n" + PETER_LINE, [PETER_VERIFIER])
    # Even when another known key's signature is good.
    forged = PETER_LINE.replace("x08go/", "x08go+")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(TEXT + "\n" + forged + ENOCH_LINE, [PETER_VERIFIER, ENOCH_VERIFIER])


def test_same_name_other_key_id_is_ignored_not_trusted() -> None:
    impostor = Signer.generate("PeterNeumann")
    note = open_note(sign_note(TEXT, impostor, PETER), [PETER_VERIFIER])
    assert [s.key_id for s in note.verified] == [PETER.key_id]
    assert [s.key_id for s in note.unverified] == [impostor.key_id]


def test_repeated_identical_signatures_are_listed_once() -> None:
    note = open_note(TEXT + "\n" + PETER_LINE + PETER_LINE, [PETER_VERIFIER])
    assert len(note.signatures) == len(note.verified) == 1


SIGNED = TEXT + "\n" + PETER_LINE

MALFORMED = {
    "no blank line": (TEXT + PETER_LINE, "no blank line"),
    "no signatures": (TEXT + "\n", "no signature lines"),
    "blank line after signatures": (SIGNED + "\n", "no signature lines"),
    "trailing data": (SIGNED + "trailing", "does not end with a newline"),
    "trailing line": (SIGNED + "trailing\n", "line 2 does not start with an em dash"),
    "hyphen instead of em dash": (SIGNED.replace("\u2014", "-"), "em dash"),
    "bad base64": (SIGNED.replace("x08go/", "x08go!"), "not valid base64"),
    "unpadded base64": (SIGNED.replace("nAM=\n", "nAM\n"), "not valid base64"),
    "non-canonical base64": (SIGNED.replace("nAM=\n", "nAN=\n"), "not canonical base64"),
    # A space ends the key name, so the rest of the line is read as (invalid) base64.
    "name with space": (SIGNED.replace("PeterNeumann", "Peter Neumann"), "not valid base64"),
    "name with nbsp": (SIGNED.replace("PeterNeumann", "Peter\u00a0Neumann"), "contains a space"),
    "name with plus": (SIGNED.replace("PeterNeumann", "Peter+Neumann"), "contains a plus"),
    "empty name": (SIGNED.replace("PeterNeumann ", " "), "name on signature line 1 is empty"),
    "no signature": (SIGNED.replace(" x08go", "x08go"), "no space between key name"),
    "short signature": (TEXT + "\n\u2014 PeterNeumann x08gow==\n", "it needs a 4-byte key ID"),
    "control character": (SIGNED.replace("problem,", "problem,\t"), r"U\+0009"),
    "carriage return": (SIGNED.replace("\n", "\r\n", 1), r"U\+000D"),
    "lone surrogate": (SIGNED.replace("problem", "\udcff", 1), "not valid UTF-8"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_notes_are_rejected(case: str) -> None:
    text, message = MALFORMED[case]
    with pytest.raises(NoteError, match=message):
        open_note(text, [PETER_VERIFIER])


def test_non_utf8_bytes_are_rejected() -> None:
    with pytest.raises(NoteError, match=r"not valid UTF-8 \(byte offset 2\)"):
        open_note(b"hi\xff\n\n" + PETER_LINE.encode(), [PETER_VERIFIER])


def test_too_many_signatures_are_rejected() -> None:
    many = SIGNED + PETER_LINE * MAX_SIGNATURES
    with pytest.raises(NoteError, match=f"{MAX_SIGNATURES + 1} signature lines; at most"):
        open_note(many, [PETER_VERIFIER])
    assert len(parse_signature_lines(PETER_LINE * MAX_SIGNATURES)) == MAX_SIGNATURES


def test_malformed_keys_are_rejected() -> None:
    with pytest.raises(NoteError, match="claims key ID c74f20a4 but its key has key ID c74f20a3"):
        Verifier.from_verifier_key(PETER_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError, match="not 8 hex digits"):
        Verifier.from_verifier_key(PETER_VKEY.replace("c74f20a3", "c74f20a"))
    with pytest.raises(NoteError, match="not valid base64"):
        Verifier.from_verifier_key(PETER_VKEY + "\n")
    with pytest.raises(NoteError, match="type 0x02 is not supported"):
        Verifier("x", 0x02, bytes(32))
    with pytest.raises(NoteError, match="public key is 31 bytes"):
        Verifier("x", ED25519_TYPE, bytes(31))
    with pytest.raises(NoteError, match="verifier key name is empty"):
        Verifier.from_verifier_key("+c74f20a3+AA==")
    with pytest.raises(NoteError, match="does not start with PRIVATE"):
        Signer.from_private_key_text(PETER_VKEY)
    with pytest.raises(NoteError, match="claims key ID 00000000"):
        Signer.from_private_key_text(PETER_SKEY.replace("c74f20a3", "00000000"))
    with pytest.raises(NoteError, match="is not valid base64"):
        Signer.from_private_key_text(PETER_SKEY + "!")
    with pytest.raises(NoteError, match="seed is 31 bytes"):
        Signer.from_seed("x", bytes(31))
    with pytest.raises(NoteError, match="two verifiers share name and key ID"):
        open_note(SIGNED, [PETER_VERIFIER, Verifier.from_verifier_key(PETER_VKEY)])


def test_private_key_never_appears_in_errors() -> None:
    secret = PETER_SKEY.rsplit("+", 1)[1]
    with pytest.raises(NoteError) as caught:
        Signer.from_private_key_text(PETER_SKEY.replace("c74f20a3", "00000000"))
    assert secret not in str(caught.value)
    assert secret not in repr(PETER)


def test_sign_note_rejects_bad_input() -> None:
    with pytest.raises(NoteError, match="must end with a newline"):
        sign_note("no newline", PETER)
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note(TEXT)
    with pytest.raises(NoteError, match="is given twice"):
        sign_note(TEXT, PETER, PETER)
    with pytest.raises(NoteError, match=r"U\+0000"):
        sign_note("nul\x00\n", PETER)
    with pytest.raises(NoteError, match="contains a space"):
        Signer.generate("bad name")


def test_signature_dataclass_checks_its_fields() -> None:
    with pytest.raises(NoteError, match="key ID is 3 bytes"):
        Signature("x", b"abc", b"sig")
    with pytest.raises(NoteError, match="is empty"):
        Signature("x", b"abcd", b"")
    assert re.fullmatch(r"\u2014 x [A-Za-z0-9+/=]+\n", Signature("x", b"abcd", b"s").line())
