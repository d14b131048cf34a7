"""E-mail about search requests, sent through Django's mail backend.

Actions schedule these with ``transaction.on_commit``, so nobody is told of a decision
that was rolled back. A mail failure is logged and does not undo the committed decision:
the in-app work lists carry the same news.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from searchledger.apps.accounts.models import Account
from searchledger.apps.searches.models import SearchRecord

__all__ = ["notify_approval_needed", "notify_decision"]

_log = logging.getLogger(__name__)


def _send(to: Account | None, subject: str, body: str) -> None:
    if to is None or not to.email:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to.email])
    except OSError:  # SMTP errors are OSErrors
        _log.exception("could not e-mail %s about a search request", to.pk)


def notify_decision(search_id: int) -> None:
    """Tell the officer that their request was approved or refused, and why."""
    search = SearchRecord.objects.select_related("officer", "system", "decided_by").get(
        pk=search_id
    )
    approved = search.status != "refused"
    word = "approved" if approved else "refused"
    lines = [
        f"Your request to search {search.system.name} (search {search.pk}) was {word}"
        + (
            f" by {search.decided_by.get_full_name() or search.decided_by}."
            if search.decided_by
            else "."
        ),
    ]
    if search.decision_note:
        lines.append(f"Reason: {search.decision_note}")
    if approved and search.documentation_due:
        lines.append(f"Document the outcome by {search.documentation_due:%A %d %B %Y}.")
    _send(search.officer, f"Search request {search.pk} {word}", "\n\n".join(lines))


def notify_approval_needed(search_id: int) -> None:
    """Tell the officer's supervisor that a request awaits their decision."""
    search = SearchRecord.objects.select_related("officer__supervisor", "system").get(pk=search_id)
    body = (
        f"{search.officer.get_full_name() or search.officer} asks to search "
        f"{search.system.name} (search {search.pk}). The request is in your approvals queue."
    )
    _send(search.officer.supervisor, f"Search request {search.pk} awaits your approval", body)
