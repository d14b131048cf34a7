"""The demo scenario: a small field office whose every account is created through the
actions, so the demo ledger is as real as a production one.

Demo passwords are printed by ``make demo`` and are for a local demonstration only.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.core.actor import Actor
from searchledger.core.roles import Role

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "load_demo"]

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  # printed by make demo; demo only

# (username, full name, role)
DEMO_ACCOUNTS: list[tuple[str, str, Role]] = [
    ("admin", "Avery Admin", Role.ADMINISTRATOR),
    ("auditor", "Ada Auditor", Role.AUDITOR),
    ("oversight", "Olu Oversight", Role.OVERSIGHT),
    ("supervisor", "Sam Supervisor", Role.SUPERVISOR),
    ("officer", "Oscar Officer", Role.OFFICER),
    ("officer2", "Priya Patel", Role.OFFICER),
    ("officer3", "Diego Ramirez", Role.OFFICER),
]


def load_demo() -> Iterator[str]:
    """Create the demo accounts that do not exist yet; yield what happened."""
    if Account.objects.filter(username="admin").exists():
        yield "demo scenario already loaded"
    else:
        with transaction.atomic():
            admin_name, admin_full, admin_role = DEMO_ACCOUNTS[0]
            admin = do_create_account(
                username=admin_name,
                role=admin_role,
                password=DEMO_PASSWORD,
                full_name=admin_full,
                actor=Actor.system(),
                reason="demo scenario: first administrator",
            )
            actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
            for username, full_name, role in DEMO_ACCOUNTS[1:]:
                do_create_account(
                    username=username,
                    role=role,
                    password=DEMO_PASSWORD,
                    full_name=full_name,
                    actor=actor,
                    reason="demo scenario",
                )
        yield f"created {len(DEMO_ACCOUNTS)} demo accounts"
    checkpoint = sign_checkpoint_if_grown()
    yield f"ledger checkpoint at size {checkpoint.size}"
    yield (
        "demo log-ins (password "
        + DEMO_PASSWORD
        + "): "
        + ", ".join(f"{username} ({role.value})" for username, _, role in DEMO_ACCOUNTS)
    )
