"""Shared pytest fixtures: a signing key per test, accounts of every role, signed-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.keys import create_signing_key
from searchledger.apps.searches.probes import create_probe_master_key
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.ledger.note import Signer

ALL_ROLES = list(Role)


@pytest.fixture(autouse=True)
def signing_key(tmp_path: Path, settings) -> Signer:
    """Every test gets its own ledger signing key, never the developer's real one, and its
    own checkpoint log, so test checkpoints never reach the developer's real log."""
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = tmp_path / "ledger-signing.key"
    settings.SEARCHLEDGER_CHECKPOINT_LOG = str(tmp_path / "checkpoints.log")
    return create_signing_key("test.searchledger.localhost/ledger")


@pytest.fixture(scope="session", autouse=True)
def probe_master_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One probe-image master key for the whole run, never the developer's real one; it is
    session-wide so that module-wide fixtures and the requests of later tests share it."""
    path = create_probe_master_key(tmp_path_factory.mktemp("probe-key") / "probe-master.key")
    with override_settings(SEARCHLEDGER_PROBE_KEY_FILE=path):
        yield path


@pytest.fixture(scope="session", autouse=True)
def plain_http_in_tests() -> Iterator[None]:
    """The test client and the live server speak plain HTTP, so production's redirect to
    HTTPS (SEARCHLEDGER_HTTPS, on by default) is turned off for the run; everything else
    HTTPS brings (secure cookies, HSTS on HTTPS answers) stays as in production.
    apps/web/tests/test_deploy.py checks the redirect and HSTS with it on."""
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture
def admin(db) -> Account:
    """The first administrator, created by the system actor as in a real deployment."""
    return do_create_account(
        username="admin",
        role=Role.ADMINISTRATOR,
        password=None,
        full_name="Avery Admin",
        actor=Actor.system(),
        reason="bootstrap",
    )


@pytest.fixture
def admin_actor(admin: Account) -> Actor:
    """The administrator as an Actor."""
    return Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)


@pytest.fixture
def make_account(admin_actor: Actor) -> Callable[[str, Role], Account]:
    """Create an account with the given username and role through the action."""

    def make(username: str, role: Role) -> Account:
        return do_create_account(
            username=username, role=role, password=None, actor=admin_actor, reason="test"
        )

    return make


@pytest.fixture
def role_clients(admin: Account, make_account) -> dict[str, Client]:
    """A signed-in client per role, plus ``anonymous``."""
    clients: dict[str, Client] = {"anonymous": Client()}
    for role in ALL_ROLES:
        account = admin if role is Role.ADMINISTRATOR else make_account(f"user-{role.value}", role)
        client = Client()
        client.force_login(account)
        clients[role.value] = client
    return clients
