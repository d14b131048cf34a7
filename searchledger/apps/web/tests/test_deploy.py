"""Deployment settings: production's environment passes ``manage.py check --deploy`` with no
warning, each weakened setting is reported by it, and HTTPS behaves as configured (redirect,
HSTS, the proxy's header trusted only when named).

The checks run ``searchledger manage check --deploy --fail-level WARNING`` in a subprocess
with a clean environment, since the settings are read from the environment once per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

HSTS_ONE_YEAR = "max-age=31536000; includeSubDomains; preload"


def _production_env(home: Path, **changes: str) -> dict[str, str]:
    """The environment of a production server: no DEBUG, HTTPS on (the default), a real
    secret key from `searchledger init`, MFA required. ``changes`` add or (with "") drop."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SEARCHLEDGER_HOME": str(home),
        "SEARCHLEDGER_PRODUCTION": "1",
        "SEARCHLEDGER_REQUIRE_MFA": "1",
        "SEARCHLEDGER_ALLOWED_HOSTS": "searchledger.agency.example",
    }
    env.update(changes)
    return {name: value for name, value in env.items() if value != ""}


def _searchledger(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "searchledger.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _searchledger(env, "manage", "check", "--deploy", "--fail-level", "WARNING")


@pytest.fixture(scope="module")
def initialised_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state directory after `searchledger init` (secret key, signing and probe keys)."""
    home = tmp_path_factory.mktemp("production-home")
    # As docs/operations.md installs it: `init` runs before the service's environment
    # (SEARCHLEDGER_PRODUCTION refuses to load the settings without the key init writes).
    done = _searchledger(_production_env(home, SEARCHLEDGER_PRODUCTION=""), "init")
    assert done.returncode == 0, done.stderr
    assert (home / "secret_key").exists()
    return home


def test_production_settings_pass_check_deploy(initialised_home):
    done = _check_deploy(_production_env(initialised_home))
    assert done.returncode == 0, done.stdout + done.stderr
    # The one silenced check is axes.W006, with its reason in settings.py.
    assert "System check identified no issues (1 silenced)." in done.stdout


@pytest.mark.parametrize(
    ("changes", "warnings"),
    [
        ({"SEARCHLEDGER_HSTS_SECONDS": "0"}, {"security.W004"}),
        ({"SEARCHLEDGER_HSTS_INCLUDE_SUBDOMAINS": "0"}, {"security.W005"}),
        ({"SEARCHLEDGER_HSTS_PRELOAD": "0"}, {"security.W021"}),
        (
            {"SEARCHLEDGER_HTTPS": "0"},
            {"security.W004", "security.W008", "security.W012", "security.W016"},
        ),
        ({"SEARCHLEDGER_DEBUG": "1"}, {"security.W018"}),
    ],
)
def test_check_deploy_reports_each_weakened_setting(initialised_home, changes, warnings):
    # Without this, the test above could pass because check --deploy checked nothing.
    done = _check_deploy(_production_env(initialised_home, **changes))
    assert done.returncode == 1
    for warning in warnings:
        assert warning in done.stderr, (warning, done.stderr)


def test_check_deploy_reports_a_missing_secret_key(tmp_path):
    # Without `searchledger init`, outside production mode, the placeholder key is used
    # (commands that sign nothing still run) and check --deploy says so ...
    done = _check_deploy(_production_env(tmp_path, SEARCHLEDGER_PRODUCTION=""))
    assert done.returncode == 1
    assert "security.W009" in done.stderr
    # ... and in production mode the settings refuse to load at all.
    done = _check_deploy(_production_env(tmp_path))
    assert done.returncode != 0
    assert "no secret key: run `searchledger init`" in done.stderr


def _setting(env: dict[str, str], name: str) -> str:
    code = (
        "import django; from django.conf import settings; django.setup(); "
        f"print(repr(getattr(settings, {name!r}, None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "searchledger.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_proxy_header_is_trusted_only_when_named(initialised_home):
    env = _production_env(initialised_home)
    assert _setting(env, "SECURE_PROXY_SSL_HEADER") == "None"
    env["SEARCHLEDGER_PROXY_SSL_HEADER"] = "X-Forwarded-Proto"
    assert _setting(env, "SECURE_PROXY_SSL_HEADER") == "('HTTP_X_FORWARDED_PROTO', 'https')"
    env["SEARCHLEDGER_HSTS_SECONDS"] = "600"
    assert _setting(env, "SECURE_HSTS_SECONDS") == "600"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_sent_to_https_except_the_health_check():
    client = Client()
    response = client.get("/sign-in/?next=/ledger/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/sign-in/?next=/ledger/"
    assert "Strict-Transport-Security" not in response  # never on plain HTTP
    assert client.get("/healthz").status_code == 200


@override_settings(SECURE_SSL_REDIRECT=True)
def test_https_answers_carry_hsts():
    response = Client().get("/sign-in/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == HSTS_ONE_YEAR


@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_forwarded_proto_header_is_ignored_unless_configured():
    client = Client()
    forged = client.get("/sign-in/", headers={"X-Forwarded-Proto": "https"})
    assert forged.status_code == 301
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        proxied = Client().get("/sign-in/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == HSTS_ONE_YEAR
