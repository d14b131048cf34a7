"""Helpers for tests that run other processes against the test database."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["child_env", "database_url", "searchledger_command"]


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A DATABASE_URL naming the database described by ``settings_dict`` (a connection's
    ``settings_dict``: during tests, the test database)."""
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    if engine == "django.db.backends.postgresql":
        user = quote(settings_dict["USER"] or "", safe="")
        if settings_dict.get("PASSWORD"):
            user += ":" + quote(settings_dict["PASSWORD"], safe="")
        host = settings_dict["HOST"] or "localhost"
        port = settings_dict["PORT"] or "5432"
        return f"postgresql://{user}@{host}:{port}/{quote(settings_dict['NAME'], safe='')}"
    raise ValueError(f"no DATABASE_URL for the database engine {engine}")


def child_env(home: Path, key_file: Path, settings_dict: Mapping[str, Any]) -> dict[str, str]:
    """The environment for a process that uses the test database and the test's key."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(settings_dict),
        SEARCHLEDGER_SIGNING_KEY_FILE=str(key_file),
        SEARCHLEDGER_HOME=str(home),
        PYTHONUNBUFFERED="1",
    )
    return env


def searchledger_command() -> list[str]:
    """The installed ``searchledger`` console script, else the module run by this Python."""
    script = Path(sys.executable).parent / "searchledger"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "searchledger.cli"]
