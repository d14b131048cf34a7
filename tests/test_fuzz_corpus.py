"""The fuzz corpus in the normal test run: every input kept in ``fuzz/corpus/<target>/``
(seeds, official vectors, and the regression input of every crash ever found) is replayed
through its target, so CI proves that none of them crashes a parser any more; and every
parser in the code has a target (a new one without a target fails here).

Fuzzing itself (``make fuzz``) is not part of the test run: it is open-ended. Replaying the
corpus takes a few seconds.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
CORPUS = FUZZ / "corpus"

# Every function that reads outside input, by module and name, and the fuzz target that
# covers it, or why none is needed. The scan below finds parser-looking functions
# (parse_*, decode_*, open_*, read_*, load_*, from_*, *_from_json) and fails for any that is
# not listed, so a new parser needs a target, or a stated reason, to pass.
PARSERS: dict[str, str] = {
    "searchledger.ledger.note.open_note": "note",
    "searchledger.ledger.note.parse_signature_lines": "note",
    "searchledger.ledger.note.from_verifier_key": "note",
    "searchledger.ledger.note.from_private_key_text": "note",
    "searchledger.ledger.checkpoint.parse_checkpoint_body": "checkpoint",
    "searchledger.ledger.checkpoint.open_checkpoint": "checkpoint",
    "searchledger.ledger.witness.parse_add_checkpoint": "witness",
    "searchledger.ledger.witness.from_json": "witness",
    "searchledger.ledger.witness.open_cosignature": "cosignature",
    "searchledger.ledger.tiles.parse_tile_path": "tiles",
    "searchledger.ledger.tiles.decode_entry_bundle": "tiles",
    "searchledger.ledger.merkle.verify_inclusion": "proofs",
    "searchledger.ledger.merkle.verify_consistency": "proofs",
    "searchledger.ledger.canonical.decode_canonical": "entry",
    "searchledger.ledger.events.parse_entry": "entry",
    "searchledger.ledger.offline.verify_tile_directory": "offline",
    "searchledger.ledger.offline.read_tile": "offline",
    "searchledger.apps.bulk.parsing.parse_csv": "bulk_csv",
    "searchledger.core.accesslogs.parse_account_mappings": "account_mappings",
    "searchledger.core.accesslogs.mapping_from_json": "log_mapping",
    "searchledger.apps.accesslogs.engine.check_file": "access_log_import",
    "searchledger.apps.accesslogs.engine.run": "access_log_import",
    "searchledger.core.published.parse_report_csv": "published_csv",
    "searchledger.core.sso.parse_group_roles": "sso",
    "searchledger.api.routers.searches.SearchIn": "api_payloads",
    "searchledger.api.routers.access.GrantIn": "api_payloads",
    "searchledger.apps.ledger.checkpoint_log.read_checkpoint_file": "checkpoint_file",
    "searchledger.apps.ledger.checkpoint_log.open_external": "checkpoint_file",
}
NOT_PARSERS: dict[str, str] = {
    "searchledger.ledger.note.from_seed": "takes 32 bytes from our own key file, length-checked",
    "searchledger.ledger.tiles.from_levels": "an inner helper over hashes already checked",
    "searchledger.cli.read_tile": "reads tiles that verify_tile_directory has just verified",
    "searchledger.apps.ledger.selectors.read_tile": "its path goes through parse_tile_path",
    "searchledger.apps.ledger.keys.load_signer": "reads the operator's own signing key file",
    "searchledger.apps.ledger.keys.load_verifier": "derived from load_signer",
    "searchledger.apps.searches.probes.load_probe_master_key": "the operator's own key file",
    "searchledger.apps.reconciliation.engine.read_events": (
        "reads the Parquet files the import itself wrote (fuzzed through access_log_import)"
    ),
    "searchledger.apps.oversight.selectors.open_count": "a database count, not a parser",
    "searchledger.demo.load_demo": "loads the demo data shipped in the package",
    "searchledger.config.server.load_config": "gunicorn's hook, fed by our own options",
}
_PREFIXES = ("parse_", "decode_", "open_", "read_", "load_", "from_")


def _targets() -> list[str]:
    return sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py"))


def _target(name: str) -> ModuleType:
    return importlib.import_module(f"fuzz.fuzz_{name}")


def _corpus(name: str) -> list[Path]:
    return sorted(p for p in (CORPUS / name).iterdir() if p.is_file())


def _parser_functions() -> set[str]:
    """Every parser-looking function in the package, as ``module.function``."""
    found = set()
    package = ROOT / "searchledger"
    for path in package.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if {"tests", "migrations"} & set(relative.parts):
            continue
        module = ".".join(relative.with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith(_PREFIXES) or node.name.endswith("_from_json"):
                found.add(f"{module}.{node.name}")
    return found


@pytest.mark.parametrize("name", _targets())
def test_every_corpus_input_is_parsed_or_rejected_cleanly(name):
    """Replay the whole corpus: an input that crashes raises here, with its file name."""
    target = _target(name)
    inputs = _corpus(name)
    assert len(inputs) >= 3, f"fuzz/corpus/{name} needs seeds (python fuzz/make_seeds.py)"
    for path in inputs:
        try:
            target.TestOneInput(path.read_bytes())
        except BaseException as exc:
            raise AssertionError(f"fuzz/corpus/{name}/{path.name} crashes: {exc!r}") from exc


def test_every_parser_has_a_fuzz_target():
    """A parser added to the code without a target (or a reason) fails here."""
    unlisted = sorted(_parser_functions() - set(PARSERS) - set(NOT_PARSERS))
    assert not unlisted, (
        f"parsers without a fuzz target: {unlisted}; add fuzz/fuzz_<name>.py with a seed "
        "corpus and list it in PARSERS, or say in NOT_PARSERS why it reads no outside input"
    )
    assert set(PARSERS.values()) == set(_targets()), "a target covers no listed parser"


@pytest.mark.parametrize("qualified", sorted(PARSERS))
def test_listed_parsers_exist(qualified):
    """The list names real functions (a rename cannot leave a stale entry behind)."""
    module_name, _, name = qualified.rpartition(".")
    module = importlib.import_module(module_name)
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    assert f"def {name}(" in source or f"class {name}(" in source, qualified


def test_a_crash_is_reported_not_swallowed():
    """The harness lets an undocumented exception through (what atheris reports as a
    crash), and refuses a documented one raised without a message."""
    from fuzz.harness import guard  # noqa: PLC0415

    def raises_index_error(data: bytes) -> None:
        raise IndexError(data)

    def raises_silent_value_error(data: bytes) -> None:
        raise ValueError

    with pytest.raises(IndexError):
        guard(raises_index_error, (ValueError,))(b"x")
    with pytest.raises(AssertionError, match="without a message"):
        guard(raises_silent_value_error, (ValueError,))(b"x")
    guard(lambda data: None, (ValueError,))(b"x")
