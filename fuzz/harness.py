"""What every fuzz target shares: the contract a parser must keep, and the atheris driver.

The contract: whatever bytes arrive, a parser either returns, or raises one of the error
classes it documents, with a message that says something. Any other exception (an
``IndexError``, a ``RecursionError``, a ``csv.Error`` leaking through, an ``AssertionError``
from a round-trip check in the target) propagates out of ``TestOneInput``, which atheris
reports as a crash and saves the input as ``crash-<sha1>``. A hang is caught by libFuzzer's
``-timeout`` (``make fuzz`` sets it).

Each target script is both a program (``python fuzz/fuzz_x.py fuzz/corpus/x -runs=N``; any
libFuzzer flag works) and a module with ``TestOneInput``, which ``tests/test_fuzz_corpus.py``
replays over the whole corpus in the normal test run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["CORPUS", "Rejected", "again", "expect", "guard", "main", "setup_django"]

CORPUS = Path(__file__).resolve().parent / "corpus"

Rejected = tuple[type[BaseException], ...]
T = TypeVar("T")


def again(parse: Callable[..., T], *args: object) -> T:
    """Call ``parse`` on our own output (a round trip): any exception there, even the
    parser's documented error, is a failure, never a rejection of the input."""
    try:
        return parse(*args)
    except Exception as exc:
        raise AssertionError(f"round trip: {parse.__name__} refused our own output: {exc}") from exc


def expect(condition: object, message: str) -> None:
    """Fail the input (a crash for atheris) when ``condition`` is false."""
    if not condition:
        raise AssertionError(message)


def guard(check: Callable[[bytes], object], errors: Rejected) -> Callable[[bytes], None]:
    """``TestOneInput`` for ``check``: the documented ``errors`` are rejections (each must
    carry a message), anything else escapes as a crash."""

    def one_input(data: bytes) -> None:
        try:
            check(data)
        except errors as exc:
            if not str(exc).strip():
                raise AssertionError(
                    f"{type(exc).__name__} raised without a message: a rejection must say why"
                ) from exc

    one_input.__name__ = f"TestOneInput[{getattr(check, '__name__', 'check')}]"
    return one_input


def setup_django() -> None:
    """Configure Django once (settings from the environment), for targets whose parsers
    live in the apps; under pytest-django it is already configured and left alone."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    if "SEARCHLEDGER_HOME" not in os.environ:
        # Settings create HOME; a fuzz run must not touch a developer's ./var.
        import tempfile  # noqa: PLC0415

        os.environ["SEARCHLEDGER_HOME"] = tempfile.mkdtemp(prefix="searchledger-fuzz-")
    from django.apps import apps  # noqa: PLC0415

    if not apps.ready:
        import django  # noqa: PLC0415

        django.setup(set_prefix=False)


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Run atheris over ``test_one_input`` with the command line's libFuzzer arguments.

    Every function of the project's modules already imported (``searchledger.*``,
    ``fuzz.*``) is instrumented, so coverage guides the fuzzer through our parsers; the
    standard library and third-party packages are not (they still run, unguided), which
    keeps executions fast.
    """
    # atheris ships no type information; only fuzzing needs it, not the corpus replay.
    import atheris  # type: ignore[import-untyped]  # noqa: PLC0415

    atheris.instrument_func(test_one_input)
    for name, module in list(sys.modules.items()):
        if name.startswith(("searchledger", "fuzz")) and module is not None:
            _instrument_module(atheris, module)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def _instrument_module(atheris: Any, module: object) -> None:
    """Instrument every function and method defined in ``module`` (not those it imports)."""
    instrument = atheris.instrument_func
    name = getattr(module, "__name__", "")
    for value in list(vars(module).values()):
        candidates = [value]
        if isinstance(value, type) and value.__module__ == name:
            candidates = [getattr(member, "__func__", member) for member in vars(value).values()]
        for candidate in candidates:
            if getattr(candidate, "__module__", None) != name:
                continue
            if not hasattr(candidate, "__code__"):
                continue
            try:
                instrument(candidate)
            except Exception:  # noqa: S112  # builtins and C functions cannot be instrumented
                continue
