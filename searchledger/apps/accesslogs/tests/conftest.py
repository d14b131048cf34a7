"""Shared set-up for access-log tests: a private home directory, two systems with column
mappings, and helpers that write log files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from searchledger.apps.accesslogs.actions import do_set_column_mapping
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.core.accesslogs import LogFormat, MappingSpec

HEADER = "user,when,what,query,case\n"

MAPPING = MappingSpec(
    account_column="user",
    timestamp_column="when",
    action_column="what",
    reference_column="query",
    case_ref_column="case",
    search_actions=("search",),
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, settings) -> Path:
    """Every test reads and writes access logs under its own home directory, and runs
    uploads synchronously."""
    settings.HOME = tmp_path / "home"
    settings.HOME.mkdir()
    settings.SEARCHLEDGER_ACCESS_LOG_SYNC = True
    return settings.HOME


@pytest.fixture
def mirs(admin_actor):
    """The state repository, whose log is CSV with the columns of ``HEADER``."""
    system = do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="State MVA", kind="face_images", access_method="api"),
        actor=admin_actor,
    )
    do_set_column_mapping("mirs", MAPPING, actor=admin_actor)
    return system


@pytest.fixture
def vendor(admin_actor):
    """A vendor's service, whose log is JSON lines."""
    system = do_create_system(
        "vendor",
        SystemDetails(name="Vendor", owner="Vendor", kind="face_recognition", access_method="api"),
        actor=admin_actor,
    )
    do_set_column_mapping(
        "vendor",
        MappingSpec(
            format=LogFormat.JSONL,
            account_column="account",
            timestamp_column="ts",
            action_column="event",
            reference_column="ref",
            search_actions=("face_search",),
        ),
        actor=admin_actor,
    )
    return system


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a log file (text or bytes) and return its path."""

    def make(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        return path

    return make
