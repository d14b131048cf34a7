"""Fuzz target: an access log's column mapping, the JSON ``--mapping`` file of
``searchledger import-log`` (``core.accesslogs.mapping_from_json``).

Input that is not JSON is skipped (the command reports JSON errors itself). Contract: only
``MappingError``, naming each setting at fault. Round trip: an accepted mapping's JSON
gives the same mapping.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, expect, guard, main
from searchledger.core.accesslogs import MappingError, mapping_from_json


def check(data: bytes) -> None:
    """Read ``data`` as a mapping file."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return
    try:
        spec = mapping_from_json(document)
    except MappingError as exc:
        expect(exc.errors, "a refused mapping names no setting")
        expect(all(exc.errors.values()), "a setting is refused without saying why")
        raise
    assert again(mapping_from_json, json.loads(json.dumps(spec.as_json()))) == spec


TestOneInput = guard(check, (MappingError,))

if __name__ == "__main__":
    main(TestOneInput)
