"""Write the seed corpus of every fuzz target: small valid inputs and near-valid variants,
made with the fixed fuzz keys, plus a few official vectors copied verbatim.

    python fuzz/make_seeds.py [VECTORS_DIR]

Seeds are named ``seed-*``; it overwrites only those, so inputs a fuzzing run added (and
regression inputs, ``regress-*``) are kept. The vectors (transparency-dev/merkle test data
and the signed-note examples) are read from VECTORS_DIR when it is given; the copies in the
corpus are what the tests use.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import CORPUS
from fuzz.keys import LOG, ORIGIN, WITNESS
from searchledger.core.published import ReportMeta, report_csv
from searchledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from searchledger.ledger.events import EntryDraft, LedgerEventType, build_entry
from searchledger.ledger.merkle import EMPTY_ROOT, MemoryTree
from searchledger.ledger.note import cosign_note
from searchledger.ledger.tiles import encode_entry_bundle, tiles_for_tree, write_tiles
from searchledger.ledger.witness import format_add_checkpoint


def _write(target: str, seeds: Iterable[tuple[str, bytes]]) -> None:
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in seeds:
        (directory / f"seed-{name}").write_bytes(data)


def _tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(f"leaf {i}".encode())
    return tree


def _entry(seq: int) -> bytes:
    draft = EntryDraft(
        event=LedgerEventType.GRANT_REQUESTED,
        actor_id=1,
        object_type="grants.accessgrant",
        object_id=str(seq + 1),
        request_id="fuzz-request",
        data={"system": "mirs"},
        commitments={"justification": "ab" * 32},
    )
    return build_entry(draft, seq=seq, time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))


def _ledger(size: int) -> MemoryTree:
    tree = MemoryTree()
    for seq in range(size):
        tree.append(_entry(seq))
    return tree


def notes() -> list[tuple[str, bytes]]:
    """Signed notes: by the log, cosigned, by an unknown key, and broken variants."""
    text = "fuzz note\nsecond line\n"
    signed = sign_checkpoint(Checkpoint(ORIGIN, 3, _tree(3).root()), LOG)
    cosigned = cosign_note(signed, WITNESS, 1_700_000_000)
    return [
        ("signed", signed.encode()),
        ("cosigned", cosigned.encode()),
        ("plain-text", (text + "\n" + signed.split("\n\n", 1)[1]).encode()),
        ("verifier-key", (LOG.verifier_key() + "\n").encode()),
        ("private-key", (LOG.private_key_text() + "\n").encode()),
        ("no-blank-line", signed.replace("\n\n", "\n").encode()),
        (
            "bad-base64",
            signed.replace("\u2014 " + ORIGIN + " ", "\u2014 " + ORIGIN + " !").encode(),
        ),
        ("control-char", signed.replace("fuzz", "fu\x01zz", 1).encode()),
    ]


def checkpoints() -> list[tuple[str, bytes]]:
    """Signed checkpoints and bodies, with extensions, and near misses."""
    body = Checkpoint(ORIGIN, 3, _tree(3).root()).body()
    return [
        ("empty-tree", sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG).encode()),
        ("size-3", sign_checkpoint(Checkpoint(ORIGIN, 3, _tree(3).root()), LOG).encode()),
        (
            "extension",
            sign_checkpoint(Checkpoint(ORIGIN, 3, _tree(3).root(), ("ext 1",)), LOG).encode(),
        ),
        ("body", body.encode()),
        ("leading-zero", body.replace("\n3\n", "\n03\n").encode()),
        ("huge-size", body.replace("\n3\n", "\n" + "9" * 25 + "\n").encode()),
        ("max-size", body.replace("\n3\n", f"\n{2**64 - 1}\n").encode()),
        ("short-root", body.replace(body.split("\n")[2], "AAAA").encode()),
    ]


def witness_requests() -> list[tuple[str, bytes]]:
    """Add-checkpoint requests from size 0 and from 3 (first byte: the witness's state)."""
    five = _tree(5)
    note5 = sign_checkpoint(Checkpoint(ORIGIN, 5, five.root()), LOG)
    from_zero = format_add_checkpoint(0, [], note5)
    from_three = format_add_checkpoint(3, five.consistency_proof(3, 5), note5)
    state = json.dumps(
        {"logs": {ORIGIN: {"verifier_key": LOG.verifier_key(), "size": 3, "root": "AA=="}}}
    )
    return [
        ("from-zero", b"\x00" + from_zero.encode()),
        ("from-three", b"\x01" + from_three.encode()),
        ("conflict", b"\x00" + from_three.encode()),
        ("bad-old", b"\x00" + from_zero.replace("old 0", "old \u00b2").encode()),
        ("state-json", b"\x00" + state.encode()),
    ]


def cosignatures() -> list[tuple[str, bytes]]:
    """A witness's answers for the empty tree's checkpoint: one good, two, too late."""
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG)
    good = cosign_note(note, WITNESS, 1_700_000_000)[len(note) :]
    other = cosign_note(note, WITNESS, 1_700_000_001)[len(note) :]
    late = cosign_note(note, WITNESS, 2**63 - 1)[len(note) :]
    return [("good", good.encode()), ("two", (good + other).encode()), ("late", late.encode())]


def tiles() -> list[tuple[str, bytes]]:
    """Paths (mode 0), bundles (mode 1) and trees of hash tiles (mode 2)."""
    seeds: list[tuple[str, bytes]] = []
    for i, tile in enumerate(tiles_for_tree(70000)[270:280]):
        seeds.append((f"path-{i}", b"\x00" + tile.path.encode()))
    seeds += [
        ("path-leading-zero", b"\x00tile/0/0001"),
        ("path-width-256", b"\x00tile/0/000.p/256"),
        ("path-dotdot", b"\x00tile/../000"),
        ("bundle", b"\x01" + encode_entry_bundle([b"a", b"", b"bc" * 10])),
        ("bundle-truncated", b"\x01\x00\x05ab"),
    ]
    for size in (1, 3, 256, 300):
        tree = _tree(size)
        level0 = b"".join(tree.leaf_hashes)
        level1 = b"".join(tree.node(8, i) for i in range(size >> 8))
        seeds.append((f"tree-{size}", b"\x02" + size.to_bytes(2, "big") + level0 + level1))
    return seeds


def proofs(vectors: Path | None) -> list[tuple[str, bytes]]:
    """transparency-dev/merkle vectors, verbatim (a selection)."""
    if vectors is None:
        return []
    base = vectors / "transparency-dev_merkle_417fb0c" / "testdata"
    chosen = [
        *sorted((base / "inclusion" / "1").glob("*.json")),
        *sorted((base / "consistency" / "3").glob("*.json")),
        *sorted((base / "consistency" / "additional").glob("*.json")),
        *sorted((base / "inclusion" / "additional").glob("*.json")),
    ]
    return [(f"{p.parent.parent.name}-{p.parent.name}-{p.name}", p.read_bytes()) for p in chosen]


def entries() -> list[tuple[str, bytes]]:
    """Canonical entries and edits of them."""
    entry = _entry(7)
    return [
        ("entry", entry),
        ("reordered", json.dumps(json.loads(entry), sort_keys=False, indent=1).encode()),
        ("float", entry.replace(b'"actor":1', b'"actor":1.0')),
        ("big-int", entry.replace(b'"actor":1', b'"actor":' + b"9" * 30)),
        ("nested", b'{"a":' * 50 + b"1" + b"}" * 50),
    ]


def offline(vectors: Path | None, work: Path) -> list[tuple[str, bytes]]:
    """Whole tile directories of the fuzz log, in the target's framing."""
    seeds = []
    for size in (1, 3):
        tree = _ledger(size)
        body = Checkpoint(ORIGIN, size, tree.root()).body()
        note = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root()), LOG)
        directory = work / f"tiles-{size}"
        write_tiles(directory, size, tree.node, tree.entry, note)
        names = [t.path for t in tiles_for_tree(size)]
        framed = b"\x01" + body.encode() + b"\0"
        for position, name in enumerate(names):
            content = (directory / name).read_bytes()
            framed += bytes([position]) + len(content).to_bytes(2, "big") + content
        seeds.append((f"ledger-{size}", framed))
    seeds.append(("unsigned", b"\x00" + Checkpoint(ORIGIN, 0, EMPTY_ROOT).body().encode()))
    seeds.append(("huge", b"\x01" + Checkpoint(ORIGIN, 2**64 - 1, EMPTY_ROOT).body().encode()))
    return seeds


def checkpoint_files() -> list[tuple[str, bytes]]:
    """Checkpoint files for verify --checkpoint: a note, a checkpoint log, a report CSV."""
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG)
    record = {"size": 0, "root": EMPTY_ROOT.hex(), "signed_at": "2026-01-01T00:00:00Z"}
    log = "".join(
        json.dumps({**record, "note": text}) + "\n"
        for text in (note, note.replace("0\n", "1\n", 1))
    )
    return [
        ("note", note.encode()),
        ("log", log.encode()),
        ("report", published_csv()[0][1]),
        ("log-not-text", b'{"note": 5}\n'),
    ]


def bulk_csv() -> list[tuple[str, bytes]]:
    """One file of each kind (first byte: the kind, in sorted order) and broken variants."""
    completions = (
        b"username,course,completed_on,evidence\r\n"
        b"avery,FRT-101,2025-01-02,CERT-1\r\n"
        b'"blake","FRT-101","2025-02-03","roster ""B"", line 2"\r\n'
    )
    grants = (
        b"username,system,job_function,justification,starts_on,expires_on\n"
        b"avery,mirs,analyst,needs access for assigned fugitive cases,2025-01-01,2026-01-01\n"
    )
    people = (
        b"\xef\xbb\xbfusername,full_name,email,role,org_unit,supervisor\n"
        b"avery,Avery A,avery@example.gov,officer,TEAM1,\n"
        b"blake,=HYPERLINK(1),blake@example.gov,boss,,\n"
    )
    return [
        ("completions", b"\x00" + completions),
        ("grants", b"\x01" + grants),
        ("people", b"\x02" + people),
        ("unclosed-quote", b"\x00" + completions + b'"avery,FRT-101'),
        ("utf16", b"\x02\xff\xfeu\x00"),
        ("nul", b"\x00username\x00"),
    ]


def account_mappings() -> list[tuple[str, bytes]]:
    """Mapping files: good, duplicate, wrong header, not UTF-8."""
    return [
        ("good", b"external_id,username\r\nJD001,avery\r\nJD002,blake\r\n"),
        ("duplicate", b"external_id,username\nJD001,avery\nJD001,blake\n"),
        ("header", b"id,user\nJD001,avery\n"),
        ("latin1", b"external_id,username\n\xe9,avery\n"),
        ("quoted", b'external_id,username\n"JD,001","av""ery"\n'),
    ]


def log_mappings() -> list[tuple[str, bytes]]:
    """--mapping files."""
    good = {
        "format": "csv",
        "delimiter": ";",
        "account_id": "user",
        "timestamp": "time",
        "action": "action",
        "reference": "ref",
        "search_actions": ["search"],
        "timestamp_format": "%d/%m/%Y %H:%M",
        "naive_timezone": "Europe/Paris",
    }
    return [
        ("good", json.dumps(good).encode()),
        ("jsonl", json.dumps({**good, "format": "jsonl", "timestamp_format": ""}).encode()),
        ("unknown", json.dumps({**good, "colour": "red"}).encode()),
        ("bad-zone", json.dumps({**good, "naive_timezone": "Mars/Olympus"}).encode()),
        ("not-object", b"[1, 2]"),
    ]


def published_csv() -> list[tuple[str, bytes]]:
    """A report CSV and damaged copies."""
    meta = ReportMeta(
        first_day=datetime(2025, 1, 1, tzinfo=UTC).date(),
        last_day=datetime(2025, 12, 31, tzinfo=UTC).date(),
        time_zone="America/New_York",
        threshold=5,
        checkpoint_size=42,
        checkpoint_root="ab" * 32,
    )
    text = report_csv(
        meta, [("Searches", "mirs", "Count", "12"), ("Searches", "x", "C", "suppressed")]
    )
    return [
        ("report", text.encode()),
        ("missing-meta", text.replace("Threshold", "Thresh").encode()),
        ("bad-date", text.replace("2025-12-31", "2025-13-31").encode()),
        ("short-row", (text + "a,b\n").encode()),
    ]


def sso() -> list[tuple[str, bytes]]:
    """Group mappings and claims."""
    return [
        ("mapping", b'[["fr-auditors", "auditor"], ["fr-officers", "officer"]]'),
        ("claim-list", b'["fr-officers", 3, null]'),
        ("claim-string", b'"fr-auditors"'),
        ("unknown-role", b'[["g", "king"]]'),
        ("twice", b'[["g", "auditor"], ["g", "officer"]]'),
    ]


def access_logs() -> list[tuple[str, bytes]]:
    """Small logs for each mapping of the import target (first byte: mapping and options)."""
    csv_iso = (
        b"user,time,action,ref\n"
        b"u1,2024-01-02T03:04:05Z,search,r1\n"
        b"u1,2024-01-02T03:04:05Z,search,r1\n"
        b"u2,2024-01-02 03:04,login,\n"
        b"=cmd,2024-01-02T03:04:05+02:00,SEARCH,r2\n"
        b'u3,"unterminated\n'
    )
    csv_naive = (
        b"user;time;action;ref;case\n"
        b"u1;2024-03-10 02:30:00;query;r1;C-1\n"
        b"u2;2024-03-10T02:30:00-05:00;search;;\n"
        b"u3;;search;r3;\n"
    )
    jsonl = (
        b'{"user": "u1", "time": "2024-01-02T03:04:05Z", "action": "search", "ref": "r1"}\n'
        b'{"user": "u2", "time": "2024-01-02T03:04:05", "action": "search"}\n'
        b"[1, 2]\n"
        b"not json\n"
    )
    latin1 = (
        b"user,time,action,ref,sys\n"
        b"ren\xe9,02/01/2024 03:04:05,search,r1,mirs\n"
        b"u2,31/02/2024 03:04:05,search,r1,mirs\n"
        b"u3,02/01/2024 03:04:05,search,r1,other\n"
    )
    return [
        ("csv-iso", b"\x00" + csv_iso),
        ("csv-iso-strict-earlier", b"\x30" + csv_iso),
        ("csv-naive", b"\x01" + csv_naive),
        ("jsonl", b"\x02" + jsonl),
        ("jsonl-as-csv", b"\x00" + jsonl),
        ("latin1", b"\x03" + latin1),
        ("utf16-as-utf8", b"\x00\xff\xfeu\x00s\x00"),
        ("header-only", b"\x00user,time,action,ref\n"),
    ]


def api_payloads() -> list[tuple[str, bytes]]:
    """One body per schema (first byte: the schema, in fuzz_api_payloads.SCHEMAS order)."""
    bodies: list[dict[str, Any]] = [
        {
            "account_id": 3,
            "system": "mirs",
            "job_function": "analyst",
            "justification": "assigned fugitive cases need it",
            "starts_on": "2025-01-01",
            "expires_on": "2026-01-01",
        },
        {"reason": "ok", "expires_on": None},
        {
            "system": "mirs",
            "purpose": "homicide",
            "case_system": "ICM",
            "case_number": "HS-2025-0001",
            "lead_posture": "generates_new",
            "techniques_tried": ["open_source"],
            "probe_source": "surveillance_still",
            "probe_lawfully_obtained": True,
            "attested_not_protected": True,
        },
        {"reason": ""},
        {"vetter_id": 2, "result": "no_match"},
        {
            "searched_at": "2025-01-02T03:04:05Z",
            "candidates_returned": 2,
            "lead_derived": False,
            "further_action": "none",
            "vettings": [{"vetter_id": 2, "result": "no_match", "notes": ""}],
        },
        {"roi_number": "ROI-1"},
        {"status": "authorised", "limit": 10, "offset": 0, "requested_from": "2025-01-01"},
        {"status": "open", "overdue": True},
    ]
    seeds = [(f"schema-{i}", bytes([i]) + json.dumps(b).encode()) for i, b in enumerate(bodies)]
    seeds += [
        ("wrong-types", b"\x00" + json.dumps({"account_id": "x", "starts_on": 5}).encode()),
        (
            "negative-candidates",
            b"\x05" + json.dumps({**bodies[5], "candidates_returned": -1}).encode(),
        ),
        ("huge-int", b"\x00" + b'{"account_id": ' + b"9" * 40 + b"}"),
    ]
    return seeds


def main() -> None:
    """Write every target's seeds."""
    vectors = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    work = CORPUS.parent / ".seed-work"
    shutil.rmtree(work, ignore_errors=True)
    try:
        _write("note", notes())
        _write("checkpoint", checkpoints())
        _write("witness", witness_requests())
        _write("cosignature", cosignatures())
        _write("tiles", tiles())
        _write("proofs", proofs(vectors))
        _write("entry", entries())
        _write("offline", offline(vectors, work))
        _write("checkpoint_file", checkpoint_files())
        _write("bulk_csv", bulk_csv())
        _write("account_mappings", account_mappings())
        _write("log_mapping", log_mappings())
        _write("published_csv", published_csv())
        _write("sso", sso())
        _write("access_log_import", access_logs())
        _write("api_payloads", api_payloads())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if vectors is not None:
        kat = vectors / "rfc6962_kat.txt"
        for line in kat.read_text(encoding="utf-8").splitlines():
            if line.startswith("vkey"):
                key = line.split()[1]
                _write(
                    "note",
                    [(f"vector-vkey-{key.split('+')[0].replace('/', '-')}", (key + "\n").encode())],
                )
            elif line.startswith("note"):
                text = json.loads(line.split(None, 1)[1])
                _write("note", [("vector-c2sp-example", text.encode())])
        interop = vectors / "own_interop_python_to_go" / "checkpoint.note"
        _write("note", [("vector-interop-checkpoint", interop.read_bytes())])
        _write("checkpoint", [("vector-interop-checkpoint", interop.read_bytes())])
    print(f"seeds written under {CORPUS}")


if __name__ == "__main__":
    main()
