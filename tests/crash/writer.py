"""A writer process for the crash harness (``test_crash``), killed with SIGKILL at a random
moment: it appends ledger entries through a real action, one transaction each, forever.

Run as ``python -m tests.crash.writer TAG ADMIN_ID`` with ``DATABASE_URL`` naming the test
database. It prints (each line flushed at once, so the harness sees it before any kill):

* ``ready`` once Django is set up and the database connection is open;
* ``begin N`` before the N-th append's transaction starts;
* ``ack N SEQ ACCOUNT_ID`` once that transaction has committed: the acknowledgement.

After a kill, the last line says where the kill landed: ``begin N`` without its ``ack``
means inside the transaction (the account ``TAG-N`` then exists only if the commit made it),
``ack`` means between two appends.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Sequence

# A writer the harness forgot to kill stops by itself.
_DEADLINE_SECONDS = 120.0


def main(argv: Sequence[str]) -> int:
    """Append until killed (or the deadline)."""
    tag, admin_id = argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.db import connection, transaction  # noqa: PLC0415

    from searchledger.apps.accounts.actions import do_create_account  # noqa: PLC0415
    from searchledger.apps.ledger.models import TreeHead  # noqa: PLC0415
    from searchledger.core.actor import Actor  # noqa: PLC0415
    from searchledger.core.roles import Role  # noqa: PLC0415

    actor = Actor(account_id=int(admin_id), role=Role.ADMINISTRATOR)
    connection.ensure_connection()
    print("ready", flush=True)
    deadline = time.monotonic() + _DEADLINE_SECONDS
    rng = random.Random(tag)
    number = 0
    while time.monotonic() < deadline:
        print(f"begin {number}", flush=True)
        with transaction.atomic():
            account = do_create_account(
                username=f"{tag}-{number}",
                role=Role.OFFICER,
                password=None,
                actor=actor,
                reason="crash harness writer",
            )
            # Inside the transaction that appended, which holds the head lock.
            seq = TreeHead.objects.get(pk=1).size - 1
        print(f"ack {number} {seq} {account.pk}", flush=True)
        number += 1
        # Think time, as between two requests: a kill may land between appends too.
        time.sleep(rng.uniform(0, 0.01))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
