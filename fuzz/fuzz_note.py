"""Fuzz target: C2SP signed notes, verifier keys and private key texts (ledger/note.py).

Contract: ``open_note``, ``parse_signature_lines``, ``Verifier.from_verifier_key`` and
``Signer.from_private_key_text`` raise only ``NoteError``. Round trips: every signature
line parsed re-encodes to the same line, and a parsed key re-encodes to a key that parses
to the same key ID.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, guard, main
from fuzz.keys import LOG, WITNESS
from searchledger.ledger.note import NoteError, Signer, Verifier, open_note, parse_signature_lines

VERIFIERS = [LOG.verifier(), WITNESS.verifier()]


def check(data: bytes) -> None:
    """Open ``data`` as a note, and read its first line as a verifier and a private key."""
    text = data.decode("utf-8", "replace")
    first = text.split("\n", 1)[0]
    try:
        verifier = Verifier.from_verifier_key(first)
    except NoteError:
        pass
    else:
        assert again(Verifier.from_verifier_key, verifier.verifier_key()).key_id == verifier.key_id
    try:
        signer = Signer.from_private_key_text(first)
    except NoteError:
        pass
    else:
        assert (
            again(Signer.from_private_key_text, signer.private_key_text()).key_id == signer.key_id
        )
    split = text.rfind("\n\n")
    if split >= 0:
        try:
            signatures = parse_signature_lines(text[split + 2 :])
        except NoteError:
            pass
        else:
            for signature in signatures:
                assert again(parse_signature_lines, signature.line()) == [signature]
    open_note(data, VERIFIERS)


TestOneInput = guard(check, (NoteError,))

if __name__ == "__main__":
    main(TestOneInput)
