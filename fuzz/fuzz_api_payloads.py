"""Fuzz target: the JSON API's request payloads, at the schema layer (the django-ninja
``Schema`` classes every POST body and list query is validated against before a handler
runs).

The first byte picks the schema; the rest is the body, parsed as django-ninja parses it
(``json.loads``; ninja answers 400 to any error there). Contract: validation raises only
pydantic's ``ValidationError``, whose errors each name a location and a message; an
accepted payload dumps to JSON that validates to the same payload. The HTTP layer around
it (status codes for every operation) is schemathesis's job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, expect, guard, main, setup_django

setup_django()

from pydantic import ValidationError  # noqa: E402

from searchledger.api.routers.access import DecisionIn, GrantIn  # noqa: E402
from searchledger.api.routers.findings import FindingQuery  # noqa: E402
from searchledger.api.routers.searches import (  # noqa: E402
    OutcomeIn,
    ReasonIn,
    RoiIn,
    SearchIn,
    SearchQuery,
    VettingIn,
)

SCHEMAS = (
    GrantIn,
    DecisionIn,
    SearchIn,
    ReasonIn,
    VettingIn,
    OutcomeIn,
    RoiIn,
    SearchQuery,
    FindingQuery,
)


def check(data: bytes) -> None:
    """Validate ``data[1:]`` against the schema ``data[0]`` picks."""
    if not data:
        return
    schema = SCHEMAS[data[0] % len(SCHEMAS)]
    try:
        payload = json.loads(data[1:])
    except Exception:  # ninja's body parser answers 400 to any of these
        return
    try:
        value = schema.model_validate(payload)
    except ValidationError as exc:
        expect(exc.errors(), "a refused payload lists no error")
        for error in exc.errors():
            expect(error["msg"], "a validation error without a message")
        raise
    dumped = json.loads(value.model_dump_json())
    assert again(schema.model_validate, dumped) == value, (
        f"{schema.__name__} does not round-trip through JSON"
    )


TestOneInput = guard(check, (ValidationError,))

if __name__ == "__main__":
    main(TestOneInput)
