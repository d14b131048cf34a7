"""Who is acting: passed explicitly into every action, never read from a global."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from searchledger.core.roles import Permission, Role, role_may

__all__ = ["SYSTEM_ACCOUNT_ID", "Actor"]

# Account id used in ledger entries written by the system itself (initialisation, migrations
# of data). It is never the id of a real account: account ids start at 1.
SYSTEM_ACCOUNT_ID = 0


@dataclass(frozen=True)
class Actor:
    """The account on whose behalf an action runs, with the request that carried it."""

    account_id: int
    role: Role | None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    is_system: bool = False

    @classmethod
    def system(cls, request_id: str | None = None) -> Actor:
        """The system itself, for initialisation and scheduled jobs."""
        return cls(
            account_id=SYSTEM_ACCOUNT_ID,
            role=Role.ADMINISTRATOR,
            request_id=request_id or str(uuid.uuid4()),
            is_system=True,
        )

    def may(self, permission: Permission) -> bool:
        """Whether this actor's role holds ``permission``."""
        return role_may(self.role, permission)
