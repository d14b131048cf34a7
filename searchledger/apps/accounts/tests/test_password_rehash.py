"""Signing in never rewrites the account row: no password rehash outside an action.

Django re-saves a password's hash at sign-in when the hasher's parameters have changed (an
upgrade raising Argon2's costs). That would be a write to a ledger-feeding row outside any
action, which ``verify`` reports as an edit; the account model checks without rehashing.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import RequestFactory

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 7"


class CheaperArgon2(Argon2PasswordHasher):
    """Argon2 with a lower time cost than the configured hasher: an older deployment's."""

    time_cost = 1


def test_sign_in_with_an_outdated_hash_leaves_the_row_as_it_was(admin_actor):
    account = do_create_account(
        username="rehash", role=Role.OFFICER, password=PASSWORD, actor=admin_actor
    )
    hasher = CheaperArgon2()
    old_hash = hasher.encode(PASSWORD, hasher.salt())
    # Django's own check would rehash this one: the test would mean nothing otherwise.
    assert Argon2PasswordHasher().must_update(old_hash)
    # The state an older deployment leaves behind (set directly, as that deployment did).
    Account.objects.filter(pk=account.pk).update(password=old_hash)

    request = RequestFactory().post("/sign-in/")  # django-axes needs the request
    signed_in = authenticate(request, username="rehash", password=PASSWORD)

    assert signed_in is not None
    assert signed_in.pk == account.pk
    assert Account.objects.get(pk=account.pk).password == old_hash
    assert authenticate(request, username="rehash", password="wrong " + PASSWORD) is None
