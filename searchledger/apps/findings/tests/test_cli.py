"""``searchledger escalate-findings``: the daily job that escalates overdue findings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from searchledger.apps.findings.models import Finding
from searchledger.apps.searches.tests.support import events_since, head
from searchledger.cli import main

from .test_actions import draft, raise_as_system

pytestmark = pytest.mark.django_db


def test_the_escalation_command(fworld, capsys):
    today = timezone.localdate()
    finding, _ = raise_as_system(draft(fworld, due=today))
    tomorrow = (today + timedelta(days=1)).isoformat()
    capsys.readouterr()
    start = head()
    assert main(["escalate-findings", "--actor", "searcher", "--today", tomorrow]) == 2
    assert "--actor 'searcher'" in capsys.readouterr().err
    assert main(["escalate-findings", "--actor", "system"]) == 0
    assert capsys.readouterr().out == "escalated 0 overdue finding(s)\n"
    assert head() == start
    assert main(["escalate-findings", "--actor", "system", "--today", tomorrow]) == 0
    assert capsys.readouterr().out == (
        f"escalated 1 overdue finding(s)\n  finding {finding.pk} (due {today}) to sup\n"
    )
    assert events_since(start) == ["FINDING_ESCALATED"]
    assert Finding.objects.get().escalated_to == fworld["supervisor"]
    assert main(["escalate-findings", "--actor", "admin", "--today", tomorrow]) == 0
    assert capsys.readouterr().out == "escalated 0 overdue finding(s)\n"
